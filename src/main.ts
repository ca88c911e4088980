import cluster from 'node:cluster';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { DEMO_ACCOUNTS, seedDemo } from './demo/seed.ts';
import { openDb } from './platform/db.ts';
import { migrate } from './platform/migrate.ts';
import { ensureWebBuild } from './modules/web/index.ts';
import { loadSecrets } from './platform/secrets.ts';

/**
 * Connections the kernel may hold for this server before it accepts them (listen(2); the kernel caps
 * it at net.core.somaxconn). Node's default is 511: when an on-sale opens, thousands of browsers
 * connect in the same second, a full queue drops the handshake's last step, and each browser dropped
 * waits a second or more to try again (bench/README.md, On-sale spike). Under start:scale the
 * cluster's primary listens for the workers with the backlog they ask for.
 */
const LISTEN_BACKLOG = 4096;

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`TicketMax cannot start: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  const secrets = await loadSecrets(config);
  const db = await openDb({ url: config.databaseUrl, dataDir: config.dataDir });
  await migrate(db);
  const webRoot = config.roles.includes('api') ? await ensureWebBuild({ info: console.log, warn: console.warn }) : undefined;
  const app = await buildApp({
    config,
    db,
    secret: secrets.secret,
    webhookSecret: secrets.paymentWebhookSecret,
    ownsDb: true,
    webRoot,
  });
  const { accounts, catalog } = app.services;

  if (config.adminEmail && config.adminPassword) {
    await accounts.ensureAccount({ email: config.adminEmail, password: config.adminPassword, name: 'Administrator' }, 'admin');
  }
  if (config.demo && (await seedDemo({ db, accounts, catalog, now: Date.now() }))) {
    app.log.info('demo data seeded');
  }

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: draining requests');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // Started by a supervisor over an IPC channel (start:scale): when it is gone, so is this process,
  // rather than a ticker left running on its own.
  if (process.send && !cluster.isWorker) process.once('disconnect', () => shutdown('supervisor gone'));

  const address = await app.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG });
  const shape = config.embedded ? 'embedded (PGlite + memory)' : 'scale-out (PostgreSQL)';
  const lines = config.roles.includes('api')
    ? [`TicketMax is running at ${address} — ${shape}`, `API docs: ${address}/api/docs`]
    : [
        `TicketMax worker (${config.roles.join(', ')}) is running at ${address} — ${shape}; it serves /healthz, /readyz and /metrics only`,
      ];
  if (config.demo) {
    lines.push('Demo accounts (e-mail / password):');
    for (const a of DEMO_ACCOUNTS) lines.push(`  ${a.role.padEnd(9)} ${a.email} / ${a.password}`);
  }
  console.log(lines.join('\n'));
}

main().catch((err: unknown) => {
  console.error('TicketMax failed to start:', err);
  process.exit(1);
});
