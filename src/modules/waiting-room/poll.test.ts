import assert from 'node:assert/strict';
import { it } from 'node:test';
import { queuePollDelayMs } from './poll.ts';

it('polls often near the front, rarely far back, and steadily while no wait is known', () => {
  assert.equal(queuePollDelayMs({ etaSeconds: 0 }), 2000);
  assert.equal(queuePollDelayMs({ etaSeconds: 5 }), 2000);
  assert.equal(queuePollDelayMs({ etaSeconds: 30 }), 6000);
  assert.equal(queuePollDelayMs({ etaSeconds: 3600 }), 15_000);
  assert.equal(queuePollDelayMs({ etaSeconds: null }), 5000);
});
