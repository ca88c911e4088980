import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import amqplib from 'amqplib';
import { createBroker, type Broker } from '../src/platform/amqp.ts';
import { rabbitReachable } from './broker-proxy.ts';
import { CI } from './helpers.ts';
import { waitFor } from './inventory.helpers.ts';

const URL = 'amqp://guest:guest@127.0.0.1:5672';
const rabbit = await rabbitReachable();
if (!rabbit && CI) throw new Error('CI=true but RabbitMQ at 127.0.0.1:5672 is unreachable');
if (!rabbit) console.warn('# RabbitMQ at 127.0.0.1:5672 unreachable: skipping the broker suite (CI would fail)');

const quiet = { info: () => undefined, warn: () => undefined };

describe('broker: stopping its consumers', { skip: !rabbit }, () => {
  const prefix = `test-${randomBytes(5).toString('hex')}`;
  const queue = `${prefix}.jobs`;
  let broker: Broker;
  let peek: amqplib.ChannelModel;

  before(async () => {
    broker = await createBroker(URL, quiet, { prefix, delayedQueues: ['jobs'] });
    peek = await amqplib.connect(URL);
  });
  after(async () => {
    await broker.destroy().catch(() => undefined);
    await broker.close();
    await peek.close();
  });

  /** Messages ready in the work queue (not delivered, or given back unacked). */
  async function ready(): Promise<number> {
    const ch = await peek.createChannel();
    try {
      return (await ch.checkQueue(queue)).messageCount;
    } finally {
      await ch.close();
    }
  }

  it('lets a running handler finish and ack, then takes no more messages', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let finished = false;
    await broker.subscribe({
      queue: 'jobs',
      handler: async (body) => {
        seen.push(String(body.n));
        await gate;
        finished = true;
      },
    });
    await broker.schedule('jobs', { n: 1 }, 0);
    await waitFor(async () => seen.length === 1, 5000, 10);

    let stopped = false;
    const stopping = broker.stopConsuming(10_000).then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(stopped, false, 'stopConsuming returned while a handler was still running');
    release();
    await stopping;
    assert.equal(finished, true);
    // Acked before the channel closed: nothing went back to the queue.
    assert.equal(await ready(), 0);

    // After the stop a new message stays in its queue, unhandled.
    await broker.schedule('jobs', { n: 2 }, 0);
    await waitFor(async () => (await ready()) === 1, 5000, 50);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(seen, ['1']);
  });
});
