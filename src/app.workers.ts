import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.ts';
import type { ReadinessCheck } from './modules/ops/ops.routes.ts';
import { createExpiryChecks, type ExpiryChecks, orderIdsOf } from './modules/orders/expiry-checks.ts';
import type { OrdersService } from './modules/orders/orders.service.ts';
import type { PaymentsService } from './modules/payments/payments.service.ts';
import { type Broker, createBroker } from './platform/amqp.ts';
import type { Clock } from './platform/clock.ts';
import type { Db } from './platform/db.ts';
import type { Metrics } from './platform/metrics.ts';
import { createEmbeddedMaintenance, createHousekeeping } from './workers/housekeeping.ts';
import { createInProcessBus, createOutboxRelay } from './workers/outbox-relay.ts';
import { periodic } from './workers/periodic.ts';
import { EXPIRY_QUEUE, REFUNDS_QUEUE } from './workers/queues.ts';

export interface JobsDeps {
  config: Config;
  metrics: Metrics;
  clock: Clock;
  log: FastifyBaseLogger;
  /** The broker's readiness check joins these. */
  checks: ReadinessCheck[];
}

/** Jobs: RabbitMQ when AMQP_URL is set, else an in-process bus and the sweepers alone. */
export async function connectJobs({ config, metrics, clock, log, checks }: JobsDeps) {
  const broker = config.amqpUrl
    ? await createBroker(config.amqpUrl, log, { prefix: config.amqpPrefix, delayedQueues: [EXPIRY_QUEUE] })
    : undefined;
  if (broker) checks.push({ name: 'broker', check: () => broker.ping() });
  const expiryMessages = metrics.counter('ticketmax_expiry_check_messages_total', 'Messages of delayed order-expiry checks sent');
  const expiryChecksSent = metrics.counter('ticketmax_expiry_checks_total', 'Order-expiry checks sent (many to a message)');
  const expiryChecks =
    broker &&
    createExpiryChecks({
      schedule: (body, delayMs) => broker.schedule(EXPIRY_QUEUE, body, delayMs),
      now: () => clock.now(),
      log,
      sent: (messages, checks) => {
        expiryMessages.inc(messages);
        expiryChecksSent.inc(checks);
      },
    });
  return { broker, expiryChecks };
}

/** How often the expiry role deletes what is past its use. */
const HOUSEKEEPING_INTERVAL_MS = 15 * 60_000;
/** How often the embedded database's most overdue table is vacuumed or analyzed (one table a round). */
const EMBEDDED_MAINTENANCE_INTERVAL_MS = 5_000;

export interface WorkersDeps {
  config: Config;
  db: Db;
  log: FastifyBaseLogger;
  broker: Broker | undefined;
  expiryChecks: ExpiryChecks | undefined;
  orders: OrdersService;
  payments: PaymentsService;
}

/**
 * The outbox relay and the consumers and sweepers behind it, each started only in a process that
 * runs its role. Returns the relay and every worker to stop on close.
 */
export async function startWorkers({ config, db, log, broker, expiryChecks, orders, payments }: WorkersDeps) {
  const refund = (p: Record<string, unknown>) => payments.carryOutRefund(p as { ref: string | null; paymentId: string });
  const bus = createInProcessBus();
  bus.on('payment.refund_requested', refund);
  const publisher = broker
    ? {
        publish: async (messages: { id: number; topic: string; payload: object }[]) =>
          void (await Promise.all(messages.map((m) => broker.publish(m.topic, m.payload, String(m.id))))),
      }
    : bus;
  const relay = createOutboxRelay({ db, publisher, onError: (err) => log.warn({ err }, 'outbox relay failed') });
  const workers: { stop(): Promise<void> }[] = [relay];
  if (config.roles.includes('outbox')) relay.start();
  if (broker && config.roles.includes('outbox')) {
    await broker.subscribe({ queue: REFUNDS_QUEUE, topics: ['payment.refund_requested'], handler: refund });
  }
  if (config.roles.includes('expiry')) {
    // Sessions, idempotency keys and messages past their use are deleted (workers/housekeeping.ts).
    const housekeeping = createHousekeeping({ db });
    workers.push(
      periodic(
        async () => {
          const swept = await housekeeping.sweepOnce();
          if (Object.values(swept).some((n) => n > 0)) log.info({ swept }, 'housekeeping deleted rows past their use');
        },
        HOUSEKEEPING_INTERVAL_MS,
        (err) => log.warn({ err }, 'housekeeping failed'),
      ),
    );
    // PGlite runs no autovacuum: vacuum and statistics for the embedded database (workers/housekeeping.ts).
    if (db.kind === 'pglite') {
      const maintenance = createEmbeddedMaintenance({ db });
      workers.push(
        periodic(
          async () => {
            const done = await maintenance.runOnce();
            // Routine, as autovacuum's own runs are: at debug level.
            if (done.vacuumed.length + done.analyzed.length > 0) log.debug(done, 'embedded database vacuumed and analyzed');
          },
          EMBEDDED_MAINTENANCE_INTERVAL_MS,
          (err) => log.warn({ err }, 'embedded database maintenance failed'),
        ),
      );
    }
    // The database's expires_at is the truth; the sweeper catches whatever no job announced
    // (on start-up too: it expires what was missed while nothing ran).
    workers.push(
      periodic(
        () => orders.expireOverdue(),
        broker ? 5000 : 250,
        (err) => log.warn({ err }, 'order expiry sweep failed'),
      ),
    );
    if (broker && expiryChecks) {
      await broker.subscribe({
        queue: EXPIRY_QUEUE,
        // Acked once the orders not yet due are scheduled again (with the others of that moment).
        handler: async (body) => {
          await expiryChecks.enqueue(await orders.expireDue(orderIdsOf(body)));
        },
      });
    }
  }
  return { relay, workers };
}
