import { delayStep } from '../../platform/amqp.ts';

/** An order to look at again once its deadline has come. */
export interface ExpiryCheck {
  orderId: string;
  /** Its deadline (epoch ms): the order's expires_at. */
  dueAt: number;
}

export interface ExpiryChecksDeps {
  /** Delivers `body` to the expiry work queue after about `delayMs`; resolves once the broker confirmed it. */
  schedule(body: { orderIds: string[] }, delayMs: number): Promise<void>;
  now(): number;
  log: { warn(obj: object, msg: string): void };
  /** How long an order's check waits in this process before it is sent, with every other one of that time. */
  flushMs?: number;
  /** Order ids in one message at most. */
  maxPerMessage?: number;
  /** Counts what is sent: messages, and the checks they carry. */
  sent?(messages: number, checks: number): void;
}

/**
 * Delayed expiry checks over the broker, many orders to a message. A new order's check is kept in
 * this process for up to `flushMs` and sent with the others of that moment, one message per delay
 * step (see `delayStep`), so a sale of thousands of orders a minute costs the broker a few
 * messages a second rather than one per order and per hop; and a buyer's request never waits for
 * the broker. The consumer's re-sends (orders not yet due) are gathered the same way. A check
 * that is lost before it is sent (the broker away, the process killed) is what the expiry sweeper
 * is for: the database's expires_at is the truth, the checks only make expiry prompt.
 */
export function createExpiryChecks(deps: ExpiryChecksDeps) {
  const flushMs = deps.flushMs ?? 100;
  const maxPerMessage = deps.maxPerMessage ?? 500;
  let buffered: ExpiryCheck[] = [];
  /** Those waiting for the buffered checks to reach the broker (consumers, before they ack). */
  let waiting: { resolve(): void; reject(err: unknown): void }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<void>>();

  /** Sends the checks now, one message per delay step (and per `maxPerMessage`); resolves once the broker has them all. */
  async function send(checks: readonly ExpiryCheck[]): Promise<void> {
    const now = deps.now();
    const byStep = new Map<number, string[]>();
    for (const check of checks) {
      const step = delayStep(check.dueAt - now);
      const ids = byStep.get(step);
      if (ids) ids.push(check.orderId);
      else byStep.set(step, [check.orderId]);
    }
    const messages: Promise<void>[] = [];
    for (const [step, ids] of byStep) {
      for (let at = 0; at < ids.length; at += maxPerMessage) {
        messages.push(deps.schedule({ orderIds: ids.slice(at, at + maxPerMessage) }, step));
      }
    }
    await Promise.all(messages);
    deps.sent?.(messages.length, checks.length);
  }

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const checks = buffered;
    const told = waiting;
    buffered = [];
    waiting = [];
    if (checks.length === 0) {
      for (const w of told) w.resolve();
      return;
    }
    const sending = send(checks)
      .then(
        () => {
          for (const w of told) w.resolve();
        },
        (err: unknown) => {
          deps.log.warn({ err, orders: checks.length }, 'could not send expiry checks; the sweeper will expire those orders');
          for (const w of told) w.reject(err);
        },
      )
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  }

  function buffer(checks: readonly ExpiryCheck[]): void {
    buffered.push(...checks);
    if (buffered.length >= maxPerMessage) flush();
    else timer ??= setTimeout(flush, flushMs);
  }

  return {
    /** Schedules the check of a new order; returns at once (sent within `flushMs`). */
    add(orderId: string, dueAt: number): void {
      buffer([{ orderId, dueAt }]);
    },

    /**
     * Schedules checks again (a consumer, for the orders of a message not yet due), sent with
     * every other check of the next `flushMs`; resolves once the broker has them, and rejects when
     * it refused them — so the consumer acks its message only then.
     */
    enqueue(checks: readonly ExpiryCheck[]): Promise<void> {
      if (checks.length === 0) return Promise.resolve();
      const sent = new Promise<void>((resolve, reject) => waiting.push({ resolve, reject }));
      buffer(checks);
      return sent;
    },

    /** Sends what is buffered and waits for every send under way (before the broker closes). */
    async close(): Promise<void> {
      flush();
      await Promise.all([...inFlight]);
    },
  };
}
export type ExpiryChecks = ReturnType<typeof createExpiryChecks>;

/** The order ids a message of the expiry queue carries: `{ orderIds }`, or `{ orderId }` as sent before checks were batched. */
export function orderIdsOf(body: Record<string, unknown>): string[] {
  const ids = Array.isArray(body.orderIds) ? body.orderIds : [body.orderId];
  return ids.filter((id): id is string => typeof id === 'string');
}
