import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { registerAppGauges } from './app.metrics.ts';
import { registerRateLimit } from './app.rate-limit.ts';
import { suspensionSweep } from './app.suspension.ts';
import { connectJobs, startWorkers } from './app.workers.ts';
import type { Config } from './config.ts';
import type { Broker } from './platform/amqp.ts';
import { type Clock, systemClock } from './platform/clock.ts';
import { createSigner } from './platform/crypto.ts';
import type { Db } from './platform/db.ts';
import { AppError } from './platform/errors.ts';
import { frameworkErrors, installErrorHandling } from './platform/http-errors.ts';
import { createMetrics } from './platform/metrics.ts';
import type { OutboxRelay } from './workers/outbox-relay.ts';
import {
  accountsRoutes,
  createAccountsRepository,
  createAccountsService,
  createAuth,
  createSessionGuard,
} from './modules/accounts/index.ts';
import { catalogRoutes, createCatalogRepository, createCatalogService } from './modules/catalog/index.ts';
import {
  createInventoryRepository,
  createInventoryService,
  createMemoryInventoryStore,
  createRedisInventoryStore,
  inventoryRoutes,
  type InventoryService,
} from './modules/inventory/index.ts';
import { opsRoutes, type ReadinessCheck } from './modules/ops/ops.routes.ts';
import { registerBusinessMetrics } from './modules/ops/business-metrics.ts';
import {
  createAdmissionGovernor,
  createLoadSensor,
  createMemoryStore,
  createRedisStore,
  createAdmissionRecorder,
  createSnapshotSource,
  createTicker,
  createWaitingRoomRepository,
  createWaitingRoomService,
  tallyOutside,
  waitingRoomRoutes,
  waitOutside,
  type WaitingRoomStore,
  withRebuild,
} from './modules/waiting-room/index.ts';
import { createRedis } from './platform/redis.ts';
import { createOrdersService } from './modules/orders/orders.service.ts';
import { ordersRoutes } from './modules/orders/orders.routes.ts';
import { createPaymentsService } from './modules/payments/payments.service.ts';
import { createMemorySettledCharges, createRedisSettledCharges } from './modules/payments/settled-charges.ts';
import { paymentsRoutes } from './modules/payments/payments.routes.ts';
import { createTestGateway } from './modules/payments/test-gateway.ts';
import { createTicketSigner } from './modules/tickets/ticket-codes.ts';
import { createTicketsService } from './modules/tickets/tickets.service.ts';
import { ticketsRoutes } from './modules/tickets/tickets.routes.ts';
import { webPages } from './modules/web/index.ts';
import { adminRoutes, createAdminRepository, createAdminService } from './modules/admin/index.ts';

export interface AppDeps {
  config: Config;
  db: Db;
  /** The signing secret (config.secret, or the one generated for the embedded shape). */
  secret: string;
  /** The payment webhook secret (config's, or the one generated for the embedded shape). */
  webhookSecret?: string;
  clock?: Clock;
  logger?: FastifyServerOptions['logger'];
  /** Close the database when the app closes (true when the app owns it). */
  ownsDb?: boolean;
  /** The built browser pages to serve (web/dist); none when unset. */
  webRoot?: string;
}

export const BODY_LIMIT = 64 * 1024;
/** What a worker-only process serves: operations, and the webhook its own test-gateway dispatcher delivers. */
const OPS_PATHS = new Set(['/healthz', '/readyz', '/metrics', '/api/payments/webhook']);

export async function buildApp(deps: AppDeps) {
  const { config, db } = deps;
  const clock = deps.clock ?? systemClock;
  const app = Fastify({
    logger: deps.logger ?? { level: config.logLevel },
    bodyLimit: BODY_LIMIT,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    trustProxy: config.trustProxy,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true } },
    routerOptions: { maxParamLength: 200 },
    frameworkErrors,
  }).withTypeProvider<TypeBoxTypeProvider>();

  const metrics = createMetrics();
  registerBusinessMetrics(metrics, db);
  const accountsRepo = createAccountsRepository(db);
  const guard = createSessionGuard({
    repo: accountsRepo,
    signer: createSigner(deps.secret, 'session'),
    clock,
    onError: (err) => app.log.warn({ err }, 'session revocation poll failed'),
  });
  await guard.start();
  const auth = createAuth(guard);
  const accounts = createAccountsService({
    repo: accountsRepo,
    guard,
    clock,
    log: app.log,
    resetSigner: createSigner(deps.secret, 'password-reset', { cacheLimit: 0 }),
    // The services it needs are made below; only an admin's request, long after start-up, calls it.
    onSuspended: (userId, actor) => sweepSuspended(userId, actor),
  });
  const catalog = createCatalogService({
    repo: createCatalogRepository(db),
    transaction: (fn) => db.tx((q) => fn(createCatalogRepository(q))),
    clock,
  });
  const checks: ReadinessCheck[] = [{ name: 'database', check: () => db.ping() }];
  // Hot state: Redis when REDIS_URL is set (shared by every API process), else this process's memory.
  const redis = config.redisUrl ? await createRedis(config.redisUrl) : undefined;
  if (redis) checks.push({ name: 'redis', check: () => redis.ping() });
  const queueRepo = createWaitingRoomRepository(db);
  // A queue the store does not hold (new, or lost with Redis or a restart) is loaded from the database.
  const queueStore = withRebuild(
    redis ? await createRedisStore(redis) : createMemoryStore(),
    createSnapshotSource(queueRepo, clock),
    app.log,
  );
  const waitingRoom = createWaitingRoomService({
    store: queueStore,
    repo: queueRepo,
    signer: createSigner(deps.secret, 'admission'),
    clock,
    log: app.log,
    remaining: (eventId) => inventory.remaining(eventId),
    backoffMs: config.admissionBackoffMs,
  });
  const recorder = createAdmissionRecorder({ store: queueStore, db });
  const governor = config.admissionBackoffMs > 0 ? createAdmissionGovernor(config.admissionBackoffMs) : undefined;
  const ticker = createTicker({
    service: waitingRoom,
    store: queueStore,
    clock,
    log: app.log,
    recorder,
    onFinished: (eventId, retainMs) => inventory.retire(eventId, retainMs),
    governor,
  });
  // Admission back-off: each API process reports how slowly it answers, for the ticker.
  const loadSensor = config.admissionBackoffMs > 0 && config.roles.includes('api') ? createLoadSensor() : undefined;
  const loadSource = `${hostname()}:${process.pid}`;
  loadSensor?.start((loadMs) => {
    queueStore
      .report('load', loadSource, loadMs, clock.now())
      .catch((err: unknown) => app.log.warn({ err }, 'load report for admission back-off failed'));
  });
  const inventory = createInventoryService({
    store: redis ? await createRedisInventoryStore(redis) : createMemoryInventoryStore(),
    events: catalog,
    repo: createInventoryRepository(db),
    clock,
    log: app.log,
  });
  if (config.roles.includes('expiry')) inventory.start();
  if (config.roles.includes('ticker')) ticker.start();
  registerAppGauges(metrics, {
    loadSensor,
    governor: config.roles.includes('ticker') ? governor : undefined,
    waitingRoom,
    inventory,
  });

  const { broker, expiryChecks } = await connectJobs({ config, metrics, clock, log: app.log, checks });

  // Orders, payment and tickets. The built-in test gateway stands in for a payment provider.
  const webhookSecret = deps.webhookSecret ?? config.paymentWebhookSecret ?? deps.secret;
  const gateway = createTestGateway({ db, webhookSecret });
  const tickets = createTicketsService({ db, signer: createTicketSigner(deps.secret), now: () => clock.now() });
  const orders = createOrdersService({
    db,
    inventory,
    admission: waitingRoom.admission,
    clock,
    log: app.log,
    scheduleExpiry: expiryChecks && ((orderId, expiresAt) => expiryChecks.add(orderId, expiresAt)),
  });
  const payments = createPaymentsService({
    db,
    // A provider's time is the buyer's wait, not the servers' load (admission back-off leaves it out).
    gateway: {
      name: gateway.name,
      charge: (request) => waitOutside(() => gateway.charge(request)),
      refund: (ref) => waitOutside(() => gateway.refund(ref)),
    },
    orders,
    tickets,
    inventory,
    admission: waitingRoom.admission,
    webhookSecret,
    settled: redis ? createRedisSettledCharges(redis) : createMemorySettledCharges({ now: () => clock.now() }),
    clock,
    log: app.log,
  });
  const { relay, workers } = await startWorkers({ config, db, log: app.log, broker, expiryChecks, orders, payments });
  // The gateway's webhooks reach this process's own webhook route, signature and all.
  const deliverWebhook = async (body: string, signature: string) =>
    (
      await app.inject({
        method: 'POST',
        url: '/api/payments/webhook',
        headers: { 'content-type': 'application/json', 'tm-signature': signature },
        payload: body,
      })
    ).statusCode;
  // Not before the app is ready: a delivery is an app.inject, which boots the app, and one made
  // while the routes below were still being registered stopped the start-up (a restart with
  // webhooks due: "Root plugin has already booted").
  app.addHook('onReady', async () => {
    gateway.startDispatcher(deliverWebhook, 250, (err) => app.log.warn({ err }, 'test gateway webhook delivery failed'));
  });
  workers.push(gateway);

  app.decorate('services', {
    accounts,
    catalog,
    auth,
    guard,
    metrics,
    db,
    waitingRoom,
    admission: waitingRoom.admission,
    queueStore,
    ticker,
    inventory,
    orders,
    payments,
    tickets,
    gateway,
    relay,
    deliverWebhook,
    broker,
  });
  app.decorateRequest('principal', undefined);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'TicketMax API',
        version: '1',
        description:
          'Waiting room, seat inventory, orders, payment, tickets and check-in. Errors: { error: { code, message, details } }.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'tm_session' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  await app.register(cookie);
  await registerRateLimit(app, { allow: config.rateLimitAllow, redis });
  installErrorHandling(app);

  // Each request's time spent waiting on the payment provider, kept out of the back-off's load.
  const outsideTallies = new WeakMap<object, { ms: number }>();
  if (loadSensor) {
    app.addHook('preHandler', (request, _reply, done) => {
      const tally = { ms: 0 };
      outsideTallies.set(request, tally);
      tallyOutside(tally, done);
    });
  }
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    // A stream's "answer" lasts as long as the buyer listens: not an answer time.
    if (loadSensor && !route.endsWith('/stream')) loadSensor.answered(reply.elapsedTime - (outsideTallies.get(request)?.ms ?? 0));
    metrics.httpDuration.observe(
      { method: request.method, route, status: `${Math.floor(reply.statusCode / 100)}xx` },
      reply.elapsedTime / 1000,
    );
  });

  if (!config.roles.includes('api')) {
    // A worker-only process (no 'api' role) answers health, readiness and metrics on its port and
    // no buyer route, so a load balancer pointed at it by mistake never has buyers served by it.
    app.addHook('onRequest', async (request) => {
      if (!OPS_PATHS.has(request.url.split('?')[0] ?? ''))
        throw new AppError('NOT_FOUND', 404, 'This process runs worker roles only');
    });
  }
  await app.register(opsRoutes, { checks, metrics, metricsToken: config.metricsToken });
  await app.register(accountsRoutes, {
    accounts,
    auth,
    limits: { signupPerMinute: config.signupsPerMinute, loginPerMinute: config.loginsPerMinute },
  });
  await app.register(catalogRoutes, {
    catalog,
    auth,
    venueAudit: (venueId, before, limit) => accounts.audit({ venueId }, before, limit),
  });
  await app.register(waitingRoomRoutes, { waitingRoom, auth });
  await app.register(inventoryRoutes, { inventory, auth, admission: waitingRoom.admission });
  await app.register(ordersRoutes, { orders, payments, auth, admission: waitingRoom.admission });
  await app.register(paymentsRoutes, { payments });
  await app.register(ticketsRoutes, { tickets, auth });
  const sweepSuspended = suspensionSweep({ db, waitingRoom, inventory, orders, log: app.log });
  const admin = createAdminService({
    repo: createAdminRepository(db),
    queue: waitingRoom,
    availability: inventory.availability,
    audit: (eventId, before, limit) => accounts.audit({ eventId }, before, limit),
    clock,
  });
  await app.register(adminRoutes, { admin, auth });
  if (deps.webRoot) await app.register(webPages, { root: deps.webRoot });

  app.addHook('onClose', async () => {
    // Messages first: a handler still running would otherwise meet a closed pool or store.
    await broker?.stopConsuming();
    for (const worker of workers) await worker.stop();
    await guard.stop();
    loadSensor?.stop();
    await ticker.stop();
    await queueStore.close();
    await inventory.close();
    await redis?.quit();
    await expiryChecks?.close();
    await broker?.close();
    if (deps.ownsDb) await db.close();
  });
  return app;
}

export interface AppServices {
  accounts: ReturnType<typeof createAccountsService>;
  catalog: ReturnType<typeof createCatalogService>;
  auth: ReturnType<typeof createAuth>;
  guard: ReturnType<typeof createSessionGuard>;
  metrics: ReturnType<typeof createMetrics>;
  db: Db;
  waitingRoom: ReturnType<typeof createWaitingRoomService>;
  /** What holds and orders call: requireAdmission and finish. */
  admission: ReturnType<typeof createWaitingRoomService>['admission'];
  /** The waiting room's hot state (tests forget a queue with it, as a Redis flush would). */
  queueStore: WaitingRoomStore;
  /** The admission ticker; tick(now) runs one step (tests). */
  ticker: ReturnType<typeof createTicker>;
  inventory: InventoryService;
  orders: ReturnType<typeof createOrdersService>;
  payments: ReturnType<typeof createPaymentsService>;
  tickets: ReturnType<typeof createTicketsService>;
  gateway: ReturnType<typeof createTestGateway>;
  relay: OutboxRelay;
  /** Delivers one gateway webhook to this app (tests replay and reorder webhooks with it). */
  deliverWebhook: (body: string, signature: string) => Promise<number>;
  broker: Broker | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: AppServices;
  }
}
export type App = FastifyInstance;
