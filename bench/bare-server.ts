// A bare Fastify server for the hold benchmark's baseline: the same framework, no auth, no store.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/bare', async () => ({ ok: true }));
app.put('/bare', async (request) => ({ hold: request.body }));
const address = await app.listen({ port: 0, host: '127.0.0.1' });
console.log(`bare server at ${address}`);
