import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admissionBudget, bucketCapacity, refill, type Bucket } from './rate.ts';

describe('admission rate bucket', () => {
  it('carries the fraction over: 7 a minute in 200 ms steps admits exactly 7 a minute', () => {
    let bucket: Bucket = { tokens: 0, at: 0 };
    let admitted = 0;
    for (let t = 200; t <= 60_000; t += 200) {
      bucket = refill(bucket, t, 7, false);
      const n = admissionBudget(bucket.tokens, 1000, 0, 1000);
      bucket = { ...bucket, tokens: bucket.tokens - n };
      admitted += n;
    }
    assert.equal(admitted, 7);
  });

  it('holds at most one second’s worth plus one (never a minute at once)', () => {
    assert.equal(bucketCapacity(600), 11);
    assert.equal(bucketCapacity(30), 1.5);
    assert.equal(refill({ tokens: 0, at: 0 }, 3_600_000, 600, false).tokens, 11);
  });

  it('earns nothing while paused or at rate 0, and never runs backwards in time', () => {
    assert.equal(refill({ tokens: 0.5, at: 0 }, 60_000, 600, true).tokens, 0.5);
    assert.equal(refill({ tokens: 0.5, at: 0 }, 60_000, 0, false).tokens, 0.5);
    const b = { tokens: 2, at: 1000 };
    assert.equal(refill(b, 500, 600, false), b);
  });

  it('admits no more than maxActive room or the buyers waiting', () => {
    assert.equal(admissionBudget(10.7, 100, 95, 1000), 5);
    assert.equal(admissionBudget(10.7, 100, 0, 3), 3);
    assert.equal(admissionBudget(10.7, 100, 120, 3), 0, 'maxActive lowered below the active count');
    assert.equal(admissionBudget(0.99, 100, 0, 3), 0);
  });
});
