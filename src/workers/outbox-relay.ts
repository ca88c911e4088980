import type { Queryable } from '../platform/db.ts';
import { periodic } from './periodic.ts';

export interface OutboxMessage {
  id: number;
  topic: string;
  payload: Record<string, unknown>;
}

/** Where the relay publishes: the in-process bus, or RabbitMQ with publisher confirms. Resolves once the broker has it. */
export interface Publisher {
  publish(messages: OutboxMessage[]): Promise<void>;
}

/** How long a relay owns rows it claimed; a relay that dies leaves them to the next after this. */
const LEASE_SECONDS = 30;

/**
 * The transactional outbox relay: domain events are written to `outbox` in the same transaction
 * as the change they announce; this publishes them at least once, oldest first, and marks them
 * published only after the publisher confirmed. Consumers are idempotent (they see duplicates
 * after a crash between publishing and marking).
 */
export function createOutboxRelay({
  db,
  publisher,
  onError,
  batch = 200,
}: {
  db: Queryable;
  publisher: Publisher;
  onError: (err: unknown) => void;
  batch?: number;
}) {
  let loop: ReturnType<typeof periodic> | undefined;

  async function relayOnce(): Promise<number> {
    const claimed = await db.query<OutboxMessage>(
      `UPDATE outbox SET claimed_until = now() + make_interval(secs => $2), attempts = attempts + 1
        WHERE id IN (SELECT id FROM outbox
                      WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
                      ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING id, topic, payload`,
      [batch, LEASE_SECONDS],
    );
    if (claimed.length === 0) return 0;
    claimed.sort((a, b) => a.id - b.id);
    try {
      await publisher.publish(claimed);
    } catch (err) {
      // Not published: let the rows go at once, so the next round (or relay) retries them.
      await db.query('UPDATE outbox SET claimed_until = NULL WHERE id = ANY($1::int8[])', [claimed.map((m) => m.id)]);
      throw err;
    }
    await db.query('UPDATE outbox SET published_at = now() WHERE id = ANY($1::int8[])', [claimed.map((m) => m.id)]);
    return claimed.length;
  }

  const relay = {
    relayOnce,
    /** Relays until nothing is left (tests, shutdown). */
    async drain(): Promise<number> {
      let total = 0;
      for (let n = await relayOnce(); n > 0; n = await relayOnce()) total += n;
      return total;
    },
    start(intervalMs = 200) {
      loop = periodic(relayOnce, intervalMs, onError);
    },
    async stop() {
      await loop?.stop();
    },
  };
  return relay;
}
export type OutboxRelay = ReturnType<typeof createOutboxRelay>;

type Handler = (payload: Record<string, unknown>) => Promise<void>;

/**
 * The in-process bus of the embedded shape: delivers each message to the handlers of its topic.
 * A handler that fails fails the publish, so the relay retries the batch (handlers are idempotent).
 */
export function createInProcessBus() {
  const handlers = new Map<string, Handler[]>();
  return {
    on(topic: string, handler: Handler) {
      handlers.set(topic, [...(handlers.get(topic) ?? []), handler]);
    },
    async publish(messages: OutboxMessage[]) {
      for (const message of messages) {
        for (const handler of handlers.get(message.topic) ?? []) await handler(message.payload);
      }
    },
  };
}
export type InProcessBus = ReturnType<typeof createInProcessBus>;
