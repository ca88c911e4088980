import amqplib, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';

/** Fixed delays (ms). A job due later waits in the longest one that fits and is rescheduled for the rest. */
export const DELAY_STEPS_MS = [250, 1000, 5000, 30_000, 120_000, 600_000] as const;

/** The delay a job due in `delayMs` waits first: the longest step that fits, at least the shortest. */
export function delayStep(delayMs: number): number {
  for (let i = DELAY_STEPS_MS.length - 1; i > 0; i--) if (DELAY_STEPS_MS[i]! <= delayMs) return DELAY_STEPS_MS[i]!;
  return DELAY_STEPS_MS[0];
}

export interface Subscription {
  queue: string;
  /** Routing keys bound from the events exchange; omit for a delayed-job queue (fed by `schedule`). */
  topics?: string[];
  prefetch?: number;
  /** Acked when it resolves; rejected and requeued when it throws (handlers are idempotent). */
  handler: (body: Record<string, unknown>, message: ConsumeMessage) => Promise<void>;
}

export interface BrokerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const quorum = { durable: true, arguments: { 'x-queue-type': 'quorum' } };

const delayQueue = (queue: string, ms: number) => `${queue}.delay.${ms}`;

/**
 * Delayed jobs without a plugin: a job waits in a quorum queue whose every message has the same
 * TTL (so expiry order is arrival order), then dead-letters, at least once, into its work queue.
 */
async function declareDelayQueues(ch: Channel, queue: string) {
  for (const ms of DELAY_STEPS_MS) {
    await ch.assertQueue(delayQueue(queue, ms), {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-message-ttl': ms,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': queue,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      },
    });
  }
}

/**
 * RabbitMQ for the scale-out shape: durable quorum queues, publisher confirms, manual acks,
 * and reconnection (amqplib's recovery re-declares the topology and consumers each time).
 * While the broker is away, publish rejects at once; callers keep their work in the outbox or
 * rely on the sweepers, and nothing waits on the broker to answer a buyer.
 */
export interface BrokerOptions {
  /** Names every exchange and queue (`<prefix>.events`, `<prefix>.<queue>`): several deployments can share a broker. */
  prefix?: string;
  connectRetries?: number;
  /** Work queues fed by `schedule`; their delay queues are declared by every process. */
  delayedQueues?: string[];
}

export async function createBroker(url: string, log: BrokerLog, options: BrokerOptions = {}) {
  const prefix = options.prefix ?? 'ticketmax';
  /** The exchange domain events go to, routed by topic (order.paid, payment.refund_requested…). */
  const EVENTS_EXCHANGE = `${prefix}.events`;
  const named = (queue: string) => `${prefix}.${queue}`;
  const subscriptions: Subscription[] = [];
  let channel: ConfirmChannel | undefined;
  let model: ChannelModel | undefined;

  /** Consumer channels, and the handlers running: `stopConsuming` ends both before the process lets go of what they use. */
  const consumers = new Map<Channel, string>();
  const running = new Set<Promise<void>>();
  let consuming = true;

  async function consume(m: ChannelModel, sub: Subscription) {
    if (!consuming) return;
    const ch = await m.createChannel();
    await ch.prefetch(sub.prefetch ?? 20);
    const queue = named(sub.queue);
    await ch.assertQueue(queue, quorum);
    for (const topic of sub.topics ?? []) await ch.bindQueue(queue, EVENTS_EXCHANGE, topic);
    if (!consuming) {
      // Stopped while this consumer was being set up.
      await ch.close().catch(() => undefined);
      return;
    }
    // An ack or nack on a channel that has gone away: the broker redelivers what was not acked.
    const settle = (fn: () => void) => {
      try {
        fn();
      } catch {
        // nothing to do
      }
    };
    const { consumerTag } = await ch.consume(queue, (message) => {
      if (!message || !consuming) return;
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(message.content.toString('utf8')) as Record<string, unknown>;
      } catch {
        log.warn({ queue: sub.queue }, 'dropping a message that is not JSON');
        settle(() => ch.nack(message, false, false));
        return;
      }
      const handled = sub.handler(body, message).then(
        () => settle(() => ch.ack(message)),
        (err: unknown) => {
          log.warn({ err, queue: sub.queue }, 'message handler failed; requeueing');
          setTimeout(() => settle(() => ch.nack(message, false, true)), 500).unref();
        },
      );
      running.add(handled);
      void handled.finally(() => running.delete(handled));
    });
    consumers.set(ch, consumerTag);
    ch.on('close', () => consumers.delete(ch));
    ch.on('error', () => undefined);
  }

  const connection = await amqplib.connect(url, {
    recovery: {
      initialDelay: 200,
      maxDelay: 2000,
      initialMaxRetries: options.connectRetries ?? 5,
      maxRetries: Infinity,
      async setup(m: ChannelModel) {
        const ch = await m.createConfirmChannel();
        await ch.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
        // Declared by every process, so one that only schedules jobs can do so before any consumer ran.
        for (const queue of options.delayedQueues ?? []) {
          await ch.assertQueue(named(queue), quorum);
          await declareDelayQueues(ch, named(queue));
        }
        for (const sub of subscriptions) await consume(m, sub);
        ch.on('close', () => {
          if (channel === ch) channel = undefined;
        });
        ch.on('error', () => undefined);
        model = m;
        channel = ch;
      },
    },
  });
  connection.on('disconnect', (err: Error) => {
    channel = undefined;
    model = undefined;
    log.warn({ err: err.message }, 'message broker connection lost; reconnecting');
  });
  connection.on('connect', () => log.info({}, 'message broker connected'));
  connection.on('error', () => undefined);

  function confirmChannel(): ConfirmChannel {
    if (!channel) throw new Error('message broker unavailable');
    return channel;
  }

  /** Publishes and resolves once the broker confirmed the message (publisher confirms). */
  async function publishTo(exchange: string, routingKey: string, body: object, messageId?: string): Promise<void> {
    const ch = confirmChannel();
    const content = Buffer.from(JSON.stringify(body));
    await new Promise<void>((resolve, reject) => {
      ch.publish(exchange, routingKey, content, { persistent: true, contentType: 'application/json', messageId }, (err) =>
        err ? reject(err instanceof Error ? err : new Error('publish not confirmed')) : resolve(),
      );
    });
  }

  /**
   * Takes no more messages (now or after a reconnection), waits up to `waitMs` for the handlers
   * already running to finish and ack, then closes the consumer channels (what is still unacked
   * goes back to its queue). Call it before closing what the handlers use.
   */
  async function stopConsuming(waitMs = 5000): Promise<void> {
    consuming = false;
    await Promise.all([...consumers].map(([ch, tag]) => ch.cancel(tag).catch(() => undefined)));
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
    });
    await Promise.race([Promise.all(running), waited]);
    clearTimeout(timer);
    await Promise.all([...consumers.keys()].map((ch) => ch.close().catch(() => undefined)));
  }

  return {
    /** Publishes a domain event; resolves when the broker confirmed it. */
    publish: (topic: string, body: object, messageId?: string) => publishTo(EVENTS_EXCHANGE, topic, body, messageId),

    /** Delivers `body` to the work queue `queue` after about `delayMs` (rounded down to a step; the consumer reschedules the rest). */
    async schedule(queue: string, body: object, delayMs: number): Promise<void> {
      await publishTo('', delayQueue(named(queue), delayStep(delayMs)), body);
    },

    /** Adds a consumer now and after every reconnection. */
    async subscribe(sub: Subscription): Promise<void> {
      subscriptions.push(sub);
      if (model) await consume(model, sub);
    },

    async ping(): Promise<void> {
      if (!channel) throw new Error('message broker unavailable');
      await channel.checkExchange(EVENTS_EXCHANGE);
    },

    /**
     * Deletes this prefix's queues and exchange (tests and load tests that use a throw-away prefix):
     * the delayed queues, the subscribed ones and `alsoQueues` (subscribed by other processes).
     */
    async destroy(alsoQueues: readonly string[] = []): Promise<void> {
      if (!model) return;
      const ch = await model.createChannel();
      const queues = new Set(
        [...subscriptions.map((sub) => sub.queue), ...alsoQueues, ...(options.delayedQueues ?? [])].map(named),
      );
      for (const queue of queues) {
        await ch.deleteQueue(queue);
        for (const ms of DELAY_STEPS_MS) await ch.deleteQueue(delayQueue(queue, ms));
      }
      await ch.deleteExchange(EVENTS_EXCHANGE);
      await ch.close();
    },

    stopConsuming,

    async close(): Promise<void> {
      await stopConsuming(0);
      channel = undefined;
      await connection.close().catch(() => undefined);
    },
  };
}
export type Broker = Awaited<ReturnType<typeof createBroker>>;
