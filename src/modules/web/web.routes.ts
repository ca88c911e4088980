import { readdirSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

export interface WebPagesOptions {
  /** The built front end (web/dist). */
  root: string;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';

function filesUnder(root: string, dir = ''): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    return entry.isDirectory() ? filesUnder(root, rel) : [rel];
  });
}

/**
 * Serves the browser pages: hashed assets cached for a year, everything else revalidated, and
 * index.html for any other GET that asks for HTML (the pages route on the client). API paths
 * never fall back: an unknown /api route keeps the API's 404 body.
 */
export const webPages: FastifyPluginAsync<WebPagesOptions> = async (app, { root }) => {
  // The file list is read once: the build is immutable while the process runs.
  const files = new Set(filesUnder(root));
  await app.register(fastifyStatic, { root, serve: false, cacheControl: false, etag: true, lastModified: true });

  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    let rel: string;
    try {
      rel = decodeURIComponent(request.url.split('?')[0]!.slice(1));
    } catch {
      return reply.callNotFound(); // a malformed %-escape names no page
    }
    if (rel === 'api' || rel.startsWith('api/')) return reply.callNotFound();
    if (files.has(rel) && rel !== 'index.html') {
      reply.header('cache-control', rel.startsWith('assets/') ? IMMUTABLE : 'no-cache');
      return reply.sendFile(rel);
    }
    if (!/\btext\/html\b|\*\/\*/.test(request.headers.accept ?? '') || path.extname(rel) !== '') return reply.callNotFound();
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html');
  });
};
