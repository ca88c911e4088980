import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRateMeter, salePhase } from './waiting-room.model.ts';

describe('observed admission rate', () => {
  it('reports nothing until the samples span 10 s, then admissions a minute', () => {
    const meter = createRateMeter();
    meter.sample('e', 0, 0);
    meter.sample('e', 5000, 10);
    assert.equal(meter.perMinute('e'), null);
    meter.sample('e', 10_000, 20);
    assert.equal(meter.perMinute('e'), 120);
  });

  it('forgets samples older than the window, so a slowdown shows within a minute', () => {
    const meter = createRateMeter(60_000);
    for (let t = 0; t <= 60_000; t += 1000) meter.sample('e', t, t / 100); // 600 a minute
    for (let t = 61_000; t <= 130_000; t += 1000) meter.sample('e', t, 600 + (t - 60_000) / 3000); // 20 a minute
    const rate = meter.perMinute('e')!;
    assert.ok(Math.abs(rate - 20) < 2, `rate ${rate}`);
  });
});

describe('sale phase', () => {
  const s = { preQueueAt: 1000, onSaleAt: 2000, closeAt: 3000 };
  it('is early, pre-queue, open, then closed', () => {
    assert.deepEqual(
      [0, 1000, 1999, 2000, 2999, 3000].map((t) => salePhase(s, t)),
      ['early', 'pre', 'pre', 'open', 'open', 'closed'],
    );
  });
});
