import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canTransition, holdsSeats, ORDER_STATUSES, sourcesOf } from './order-state.ts';

describe('order state machine', () => {
  it('allows exactly the documented transitions', () => {
    const allowed = ORDER_STATUSES.flatMap((from) =>
      ORDER_STATUSES.filter((to) => canTransition(from, to)).map((to) => `${from}→${to}`),
    );
    assert.deepEqual(
      allowed.sort(),
      ['expired→paid', 'paid→refunded', 'pending→canceled', 'pending→expired', 'pending→paid'].sort(),
    );
  });

  it('never leaves a final state', () => {
    for (const to of ORDER_STATUSES) {
      assert.equal(canTransition('canceled', to), false);
      assert.equal(canTransition('refunded', to), false);
    }
  });

  it('lists the sources of each target', () => {
    assert.deepEqual(sourcesOf('paid'), ['pending', 'expired']);
    assert.deepEqual(sourcesOf('refunded'), ['paid']);
    assert.deepEqual(sourcesOf('pending'), []);
  });

  it('keeps seats only while pending or paid', () => {
    assert.deepEqual(ORDER_STATUSES.filter(holdsSeats), ['pending', 'paid']);
  });
});
