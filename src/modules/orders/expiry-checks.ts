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
 * the broker. A check that is lost before it is sent (the broker away, the process killed) is what
 * the expiry sweeper is for: the database's expires_at is the truth, the checks only make expiry
 * prompt.
 */
export function createExpiryChecks(deps: ExpiryChecksDeps) {
  const flushMs = deps.flushMs ?? 100;
  const maxPerMessage = deps.maxPerMessage ?? 500;
  let buffered: ExpiryCheck[] = [];
  let timer: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<void>>();

  /** Sends the checks now, one message per delay step (and per `maxPerMessage`); resolves once the broker has them all. */
  async function send(checks: readonly ExpiryCheck[]): Promise<void> {
    if (checks.length === 0) return;
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
    buffered = [];
    if (checks.length === 0) return;
    const sending = send(checks)
      .catch((err: unknown) =>
        deps.log.warn({ err, orders: checks.length }, 'could not send expiry checks; the sweeper will expire those orders'),
      )
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  }

  return {
    /** Schedules the check of a new order; returns at once (sent within `flushMs`). */
    add(orderId: string, dueAt: number): void {
      buffered.push({ orderId, dueAt });
      if (buffered.length >= maxPerMessage) flush();
      else timer ??= setTimeout(flush, flushMs);
    },

    send,

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
