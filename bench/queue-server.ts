// The server side of the queue benchmark, started as a child process by bench/queue.ts: the real
// app (PGlite in memory; Redis when REDIS_URL is set) on a port, and a bare Fastify route on
// another port for comparison. Prints one JSON line with what the driver needs.
import Fastify from 'fastify';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openDb } from '../src/platform/db.ts';
import { migrate } from '../src/platform/migrate.ts';

const secret = process.env.TICKETMAX_SECRET ?? '';
const config = loadConfig({ ...process.env, TICKETMAX_DEMO: 'false', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
const db = await openDb({ dataDir: 'memory://' });
await migrate(db);
const app = await buildApp({ config, db, secret, ownsDb: true });
const session = await app.services.accounts.signup(
  { email: `bench-${process.pid}@example.test`, password: 'bench-password', name: 'Bench' },
  'organizer',
);
const organizer = { userId: session.user.id, sessionId: 'bench', role: 'organizer' as const };
const venue = await app.services.catalog.createVenue(organizer, {
  name: 'Bench Arena',
  sections: [{ name: 'Floor', kind: 'ga', capacity: 50_000 }],
});
const address = await app.listen({ port: 0, host: '127.0.0.1' });

const bare = Fastify({ logger: false });
bare.get('/bare', async () => ({ ok: true }));
const bareAddress = await bare.listen({ port: 0, host: '127.0.0.1' });

console.log(JSON.stringify({ address, bareAddress, organizerToken: session.token, venueId: venue.id }));

const stop = () => {
  void Promise.all([app.close(), bare.close()]).then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
