import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAdmissionGovernor, createLoadSensor } from './backoff.ts';

describe('admission back-off governor', () => {
  it('halves the rate for each step above the threshold, down to the floor, and brings it back a tenth a step', () => {
    const governor = createAdmissionGovernor(100);
    assert.equal(governor.update(50), 1, 'under the threshold: the full rate');
    assert.equal(governor.update(null), 1, 'no report: the full rate');
    assert.equal(governor.update(100), 1, 'at the threshold: still the full rate');
    assert.equal(governor.update(101), 0.5);
    assert.equal(governor.update(400), 0.25);
    for (let i = 0; i < 10; i++) governor.update(400);
    assert.equal(governor.update(400), 0.05, 'never below the floor');
    const back = Array.from({ length: 10 }, () => governor.update(20));
    assert.ok(Math.abs(back[0]! - 0.15) < 1e-9);
    assert.equal(back[9], 1, 'the full rate after ten calm steps');
    assert.equal(governor.update(0), 1, 'and no higher');
  });

  it('takes its floor and recovery step from the options', () => {
    const governor = createAdmissionGovernor(10, { floor: 0.2, recovery: 0.5 });
    governor.update(50);
    governor.update(50);
    assert.equal(governor.update(50), 0.2);
    assert.ok(Math.abs(governor.update(5) - 0.7) < 1e-9);
    assert.equal(governor.update(5), 1);
  });
});

describe('event-loop load sensor', () => {
  it('reads how late the event loop ran: about the length of a block of synchronous work', async () => {
    const sensor = createLoadSensor(300);
    const readings: number[] = [];
    sensor.start((ms) => readings.push(ms));
    await new Promise((resolve) => setTimeout(resolve, 350));
    // Hold the event loop for 120 ms: the next reading must see it.
    const until = performance.now() + 120;
    while (performance.now() < until);
    await new Promise((resolve) => setTimeout(resolve, 400));
    sensor.stop();
    assert.ok(readings.length >= 1);
    assert.ok(Math.max(...readings) >= 80, `a 120 ms block shows (${readings.map((r) => r.toFixed(1)).join(', ')})`);
    assert.equal(sensor.latest(), readings.at(-1));
  });
});
