import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DELAY_STEPS_MS, delayStep } from '../../platform/amqp.ts';
import { createExpiryChecks, orderIdsOf } from './expiry-checks.ts';

const NOW = 1_000_000;

/** The checks' schedule, recording each message; `gate` holds every publish until it resolves. */
function recorder(gate?: Promise<void>) {
  const messages: { orderIds: string[]; delayMs: number }[] = [];
  const warnings: string[] = [];
  const deps = {
    schedule: async (body: { orderIds: string[] }, delayMs: number) => {
      await gate;
      messages.push({ orderIds: body.orderIds, delayMs });
    },
    now: () => NOW,
    log: { warn: (_: object, msg: string) => void warnings.push(msg) },
  };
  return { messages, warnings, deps };
}

describe('delayed expiry checks', () => {
  it('waits the longest delay step that fits, at least the shortest', () => {
    assert.equal(delayStep(-5), DELAY_STEPS_MS[0]);
    assert.equal(delayStep(0), 250);
    assert.equal(delayStep(999), 250);
    assert.equal(delayStep(1000), 1000);
    assert.equal(delayStep(29_999), 5000);
    assert.equal(delayStep(117_000), 30_000);
    assert.equal(delayStep(10 * 3_600_000), 600_000);
  });

  it('sends the checks of one moment in one message per delay step', async () => {
    const { messages, deps } = recorder();
    const checks = createExpiryChecks({ ...deps, flushMs: 20 });
    const dues = { a: 100, b: 2_000, c: 1_500, d: 10_000, e: 117_000, f: 40_000, g: -50 };
    for (const [id, inMs] of Object.entries(dues)) checks.add(id, NOW + inMs);
    assert.equal(messages.length, 0, 'nothing is sent before the flush');
    await new Promise((resolve) => setTimeout(resolve, 60));
    const byDelay = Object.fromEntries(messages.map((m) => [m.delayMs, [...m.orderIds].sort()]));
    assert.deepEqual(byDelay, { 250: ['a', 'g'], 1000: ['b', 'c'], 5000: ['d'], 30000: ['e', 'f'] });
    await checks.close();
  });

  it('splits a large moment into messages of at most maxPerMessage, sending as soon as one is full', async () => {
    const { messages, deps } = recorder();
    const checks = createExpiryChecks({ ...deps, flushMs: 60_000, maxPerMessage: 10 });
    for (let i = 0; i < 25; i++) checks.add(`o${i}`, NOW + 120_000);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      messages.map((m) => m.orderIds.length),
      [10, 10],
      'two full messages went at once; the rest waits for the flush',
    );
    await checks.close();
    assert.deepEqual(
      messages.map((m) => m.orderIds.length),
      [10, 10, 5],
    );
    assert.deepEqual(messages.flatMap((m) => m.orderIds).sort(), Array.from({ length: 25 }, (_, i) => `o${i}`).sort());
    await checks.enqueue(Array.from({ length: 23 }, (_, i) => ({ orderId: `r${i}`, dueAt: NOW + 5_000 })));
    assert.deepEqual(
      messages.slice(3).map((m) => [m.delayMs, m.orderIds.length]),
      [
        [5000, 10],
        [5000, 10],
        [5000, 3],
      ],
    );
  });

  it('never makes the caller wait for the broker; close waits for what is under way', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { messages, deps } = recorder(gate);
    const checks = createExpiryChecks({ ...deps, flushMs: 1 });
    const started = performance.now();
    for (let i = 0; i < 100; i++) checks.add(`o${i}`, NOW + 60_000);
    assert.ok(performance.now() - started < 50, 'add returns at once');
    await new Promise((resolve) => setTimeout(resolve, 20));
    let closed = false;
    const closing = checks.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(closed, false, 'close waits for the broker');
    open();
    await closing;
    assert.equal(messages.flatMap((m) => m.orderIds).length, 100);
  });

  it('logs a send the broker refused instead of failing, and counts only what was sent', async () => {
    const warnings: string[] = [];
    const counted: number[][] = [];
    let refuse = true;
    const checks = createExpiryChecks({
      schedule: async () => {
        if (refuse) throw new Error('message broker unavailable');
      },
      now: () => NOW,
      log: { warn: (_: object, msg: string) => void warnings.push(msg) },
      flushMs: 1,
      sent: (messages, n) => void counted.push([messages, n]),
    });
    checks.add('a', NOW + 2000);
    checks.add('b', NOW + 2000);
    await checks.close();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /sweeper/);
    assert.deepEqual(counted, []);
    refuse = false;
    checks.add('c', NOW + 2000);
    await checks.close();
    assert.deepEqual(counted, [[1, 1]]);
    refuse = true;
    await assert.rejects(
      checks.enqueue([{ orderId: 'd', dueAt: NOW }]),
      /unavailable/,
      'a consumer rescheduling is told, so its message is not acked',
    );
  });

  it("gathers the consumers' re-sends of one moment into one message per step, each told once it is sent", async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { messages, deps } = recorder(gate);
    const checks = createExpiryChecks({ ...deps, flushMs: 10 });
    const told: string[] = [];
    const first = checks.enqueue([{ orderId: 'a', dueAt: NOW + 3_000 }]).then(() => void told.push('first'));
    const second = checks
      .enqueue([
        { orderId: 'b', dueAt: NOW + 2_000 },
        { orderId: 'c', dueAt: NOW + 20_000 },
      ])
      .then(() => void told.push('second'));
    checks.add('d', NOW + 1_500);
    await checks.enqueue([]);
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.deepEqual(told, [], 'nobody is told before the broker confirmed');
    open();
    await Promise.all([first, second]);
    assert.deepEqual(told.sort(), ['first', 'second']);
    const byDelay = Object.fromEntries(messages.map((m) => [m.delayMs, [...m.orderIds].sort()]));
    assert.deepEqual(byDelay, { 1000: ['a', 'b', 'd'], 5000: ['c'] });
  });

  it('reads the order ids of a message, batched or one as sent before batching', () => {
    assert.deepEqual(orderIdsOf({ orderIds: ['a', 'b', 7] }), ['a', 'b']);
    assert.deepEqual(orderIdsOf({ orderId: 'a' }), ['a']);
    assert.deepEqual(orderIdsOf({ orderId: 5 }), []);
    assert.deepEqual(orderIdsOf({}), []);
  });
});
