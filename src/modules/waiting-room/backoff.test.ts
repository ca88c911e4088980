import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AdmissionGovernor, createAdmissionGovernor, createLoadSensor } from './backoff.ts';

/** One step of a governor with one event: the load, then the event's factor. */
function stepper(governor: AdmissionGovernor, eventId = 'evt_a') {
  return (loadMs: number | null, activeShare = 1) => {
    governor.step(loadMs);
    return governor.factorFor(eventId, activeShare);
  };
}

describe('admission back-off governor', () => {
  it('cuts to three quarters of the share in checkout while the load is above the threshold, at most once in eleven steps, down to the floor, and gives 1/250 back each step between a quarter and half of it', () => {
    const governor = createAdmissionGovernor(100, { sustainSteps: 1 });
    const update = stepper(governor);
    assert.equal(update(50, 0.4), 1, 'under the threshold: the full setting');
    assert.equal(update(null, 0.4), 1, 'no report: the full setting');
    assert.equal(update(100, 0.4), 1, 'at the threshold: still the full setting');
    assert.ok(Math.abs(update(101, 0.4) - 0.3) < 1e-9, 'a cut: three quarters of the 40 % in checkout');
    const held = Array.from({ length: 10 }, () => update(400, 0.3));
    assert.ok(
      held.every((f) => Math.abs(f - 0.3) < 1e-9),
      'no second cut before the first can show',
    );
    assert.ok(
      Math.abs(update(400, 0.35) - 0.225) < 1e-9,
      'the next cut, from the factor when fewer are in checkout than it allows',
    );
    for (let i = 0; i < 100; i++) update(400, 0.2);
    assert.equal(update(400, 0.2), 0.05, 'never below the floor');
    const back = Array.from({ length: 238 }, () => update(40, 0.05));
    assert.ok(Math.abs(back[0]! - 0.054) < 1e-9);
    assert.ok(back[236]! < 1);
    assert.equal(back[237], 1, 'the full setting after 238 calm steps');
    assert.equal(update(0), 1, 'and no higher');
  });

  it('keeps a factor for each event, cut from its own buyers in checkout, and forgets an event', () => {
    const governor = createAdmissionGovernor(100, { sustainSteps: 1 });
    governor.step(20);
    assert.equal(governor.factorFor('evt_a', 0.8), 1);
    assert.equal(governor.factorFor('evt_b', 0.1), 1);
    governor.step(500);
    assert.ok(Math.abs(governor.factorFor('evt_a', 0.8) - 0.6) < 1e-9, 'three quarters of its 80 % in checkout');
    assert.ok(Math.abs(governor.factorFor('evt_b', 0.1) - 0.075) < 1e-9, 'three quarters of its 10 %');
    assert.ok(Math.abs(governor.factorFor('evt_b', 0.1) - 0.075) < 1e-9, 'once a step, however often asked');
    assert.deepEqual([...governor.factors().keys()], ['evt_a', 'evt_b']);
    governor.forget('evt_a');
    assert.deepEqual([...governor.factors().keys()], ['evt_b']);
    governor.step(20);
    assert.equal(governor.factorFor('evt_a', 0.8), 1, 'a forgotten event starts again whole');
  });

  it('holds the factor, neither cutting nor raising it, through the steps after a cut while the load stays high', () => {
    const governor = createAdmissionGovernor(100, { sustainSteps: 1 });
    const update = stepper(governor);
    update(20, 1);
    assert.equal(update(500, 1), 0.75);
    assert.equal(update(40, 1), 0.754, 'calm: 1/250 back at once');
    assert.equal(update(500, 1), 0.754, 'slow again within the hold: no cut');
    for (let i = 0; i < 8; i++) update(500, 1);
    assert.ok(Math.abs(update(500, 1) - 0.5655) < 1e-9, 'the hold over: a quarter off');
  });

  it('grows the factor by 3 % a step, or 1/250 when that is more, while the load is at most a quarter of the threshold or unreported', () => {
    const governor = createAdmissionGovernor(100, { sustainSteps: 1 });
    const update = stepper(governor);
    const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;
    for (let i = 0; i < 30; i++) update(500, 0.01);
    assert.equal(update(500, 0.01), 0.05, 'cut to the floor');
    assert.ok(near(update(25, 0.05), 0.054), 'low: 1/250 is more than 3 % of a twentieth');
    let factor = 0.054;
    let steps = 1;
    while (factor < 1) {
      const before = factor;
      factor = update(steps % 2 === 0 ? 10 : null, 0.05);
      steps++;
      const expected = Math.min(1, before + Math.max(0.004, before * 0.03));
      assert.ok(near(factor, expected), `step ${steps}: ${before} → ${factor}, not ${expected}`);
    }
    // 1/250 a step alone would take 238 steps (48 s at 200 ms a step); this is about 18 s.
    assert.ok(steps >= 85 && steps <= 95, `the full setting after ${steps} idle steps`);
    governor.step(60);
    const raised = governor.factorFor('evt_b', 1);
    assert.equal(raised, 1, 'another event starts whole');
    const g = createAdmissionGovernor(100, { sustainSteps: 1 });
    const u = stepper(g);
    u(500, 0.8);
    assert.ok(near(u(26, 0.6), 0.604), 'just over a quarter: 1/250 only');
  });

  it('neither cuts nor raises the factor while the load is between half the threshold and the threshold', () => {
    const governor = createAdmissionGovernor(100, { sustainSteps: 1 });
    const update = stepper(governor);
    const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;
    assert.ok(near(update(500, 0.8), 0.6));
    for (let i = 0; i < 20; i++) assert.ok(near(update(75, 0.5), 0.6), 'near the threshold: held');
    assert.ok(near(update(100, 0.5), 0.6), 'at it: held');
    assert.ok(near(update(50, 0.5), 0.604), 'at half of it: raised');
  });

  it('cuts only when the load has stayed over the threshold for four steps in a row, holding the factor meanwhile', () => {
    const update = stepper(createAdmissionGovernor(100));
    const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;
    assert.equal(update(20, 0.8), 1);
    for (let round = 0; round < 5; round++) {
      // Slow readings among calm ones, up to three in a row: held, never cut.
      for (let i = 0; i < 3; i++) assert.equal(update(900, 0.8), 1, `round ${round}, slow step ${i + 1}: held`);
      assert.equal(update(60, 0.8), 1, 'between half and the whole threshold: held');
    }
    for (let i = 0; i < 3; i++) update(900, 0.8);
    assert.ok(near(update(900, 0.8), 0.6), 'the fourth slow step in a row: three quarters of the 80 % in checkout');
    for (let i = 0; i < 10; i++) assert.ok(near(update(900, 0.6), 0.6), 'then the hold');
    assert.ok(near(update(900, 0.6), 0.45), 'still slow after it: the next cut at once');
    assert.ok(near(update(10, 0.45), 0.4635), 'calm: grown by 3 %');
  });

  it('takes its floor, cut, recovery step and hold from the options', () => {
    const governor = createAdmissionGovernor(10, {
      floor: 0.2,
      decrease: 0.5,
      recovery: 0.5,
      growth: 0,
      holdSteps: 0,
      sustainSteps: 1,
    });
    const update = stepper(governor);
    update(50);
    update(50);
    assert.equal(update(50), 0.2);
    assert.ok(Math.abs(update(5) - 0.7) < 1e-9);
    assert.equal(update(5), 1);
    const growing = stepper(
      createAdmissionGovernor(100, { decrease: 0.5, recovery: 0, growth: 0.5, holdSteps: 0, sustainSteps: 1 }),
    );
    assert.equal(growing(500), 0.5);
    assert.equal(growing(10), 0.75, 'growth: half the factor a step');
    assert.equal(growing(40), 0.75, 'and none over a quarter of the threshold, with no recovery step');
  });
});

describe('event-loop load sensor', () => {
  it('reads how late the event loop ran (about the length of a block of synchronous work) or the slowest answers', async () => {
    const sensor = createLoadSensor(300);
    const readings: number[] = [];
    sensor.start((ms) => readings.push(ms));
    await new Promise((resolve) => setTimeout(resolve, 350));
    // Hold the event loop for 120 ms: the next reading must see it.
    const until = performance.now() + 120;
    while (performance.now() < until);
    // Long enough for a reading with the block and at least one whole period after it.
    await new Promise((resolve) => setTimeout(resolve, 800));
    sensor.stop();
    assert.ok(readings.length >= 1);
    assert.ok(Math.max(...readings) >= 80, `a 120 ms block shows (${readings.map((r) => r.toFixed(1)).join(', ')})`);
    assert.equal(sensor.latest(), readings.at(-1));
    assert.ok(sensor.latest() < 80, 'and is gone from the next reading');
    // Answer times: a period whose slowest answers took 400 ms reads at least that.
    sensor.start((ms) => readings.push(ms));
    readings.length = 0;
    for (let i = 0; i < 99; i++) sensor.answered(5);
    sensor.answered(400);
    sensor.answered(400);
    await new Promise((resolve) => setTimeout(resolve, 350));
    sensor.stop();
    assert.ok(readings[0]! >= 400, `the 99th percentile of the answers (${readings[0]})`);
  });
});
