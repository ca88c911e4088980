import assert from 'node:assert/strict';
import { it } from 'node:test';
import { followFromStatus, queuePaceMs, queuePollDelayMs, queueStreamSends } from './poll.ts';

it('polls often near the front, rarely far back, and steadily while no wait is known', () => {
  assert.equal(queuePaceMs({ etaSeconds: 0 }), 2000);
  assert.equal(queuePaceMs({ etaSeconds: 5 }), 2000);
  assert.equal(queuePaceMs({ etaSeconds: 30 }), 6000);
  assert.equal(queuePaceMs({ etaSeconds: 100 }), 20_000);
  assert.equal(queuePaceMs({ etaSeconds: 3600 }), 30_000);
  assert.equal(queuePaceMs({ etaSeconds: null }), 5000);
});

it('spreads each poll over 0.7-1 of the pace, so buyers who arrived together do not poll together', () => {
  const far = { etaSeconds: 3600 };
  assert.equal(
    queuePollDelayMs(far, () => 0),
    21_000,
  );
  assert.equal(
    queuePollDelayMs(far, () => 0.5),
    25_500,
  );
  assert.equal(
    queuePollDelayMs({ etaSeconds: 5 }, () => 0.999_999),
    2000,
    'never later than the pace',
  );
  // 10,000 buyers polling at the same pace: their next polls fall evenly over the spread.
  const delays = Array.from({ length: 10_000 }, () => queuePollDelayMs(far));
  assert.ok(delays.every((d) => d >= 21_000 && d <= 30_000));
  const perSecond = new Map<number, number>();
  for (const d of delays) perSecond.set(Math.floor(d / 1000), (perSecond.get(Math.floor(d / 1000)) ?? 0) + 1);
  assert.ok(perSecond.size >= 9, 'spread over seconds 21 to 29');
  assert.ok(Math.max(...perSecond.values()) < 1500, 'no second gets more than 15 % of them');
});

it('a stream sends state changes at once and paces a waiting position by the expected wait', () => {
  const far = { state: 'waiting', etaSeconds: 600 };
  const near = { state: 'waiting', etaSeconds: 4 };
  assert.equal(queueStreamSends(far, { state: 'waiting', etaSeconds: 590 }, 1000), false);
  assert.equal(queueStreamSends(far, { state: 'waiting', etaSeconds: 590 }, 29_999), false);
  assert.equal(queueStreamSends(far, { state: 'waiting', etaSeconds: 540 }, 30_000), true);
  assert.equal(queueStreamSends(near, { state: 'waiting', etaSeconds: 3 }, 1000), false);
  assert.equal(queueStreamSends(near, { state: 'waiting', etaSeconds: 2 }, 2000), true);
  // Admission, expiry, leaving and the shuffle's number never wait for the pace.
  assert.equal(queueStreamSends(far, { state: 'admitted', etaSeconds: 0 }, 10), true);
  assert.equal(queueStreamSends(near, { state: 'expired', etaSeconds: null }, 10), true);
  assert.equal(queueStreamSends({ state: 'prequeue', etaSeconds: null }, far, 10), true);
  // Paused or sold out (no wait promised), and resumed.
  assert.equal(queueStreamSends(far, { state: 'waiting', etaSeconds: null }, 10), true);
  assert.equal(queueStreamSends({ state: 'waiting', etaSeconds: null }, far, 10), true);
});

it('follows a waiting place from the public status, and sends the buyer to their own place when the turn may have come', () => {
  const open = { state: 'open', serving: 100, admitPerMinute: 600 };
  // Number 151 with 100 served: 50 ahead, at the configured 10 a second until the pace is observed.
  assert.deepEqual(followFromStatus(151, open, 0, null), { turn: false, position: 50, etaSeconds: 6 });
  // The counter moved 40 in 2 s: 20 a second.
  assert.deepEqual(followFromStatus(151, open, 2000, { serving: 60, at: 0 }), { turn: false, position: 50, etaSeconds: 3 });
  // A sample less than a second old says nothing about the pace.
  assert.equal(followFromStatus(151, open, 500, { serving: 99, at: 0 }).etaSeconds, 6);
  // A counter standing still (full, or paused between the samples) promises no wait.
  assert.deepEqual(followFromStatus(151, open, 5000, { serving: 100, at: 0 }), { turn: false, position: 50, etaSeconds: null });
  // Next in line, then reached: the buyer's own read claims the turn.
  assert.equal(followFromStatus(101, open, 0, null).turn, false);
  assert.equal(followFromStatus(100, open, 0, null).turn, true);
  assert.equal(followFromStatus(90, open, 0, null).turn, true);
  // Paused: still waiting, no wait promised; sold out or closed: only the buyer's own view tells.
  assert.deepEqual(followFromStatus(151, { ...open, state: 'paused' }, 0, null), { turn: false, position: 50, etaSeconds: null });
  assert.equal(followFromStatus(151, { ...open, state: 'sold_out' }, 0, null).turn, true);
  assert.equal(followFromStatus(151, { ...open, state: 'closed' }, 0, null).turn, true);
});
