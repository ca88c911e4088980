import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TSchema } from 'typebox';
import { LoginBody, RoleBody, SignupBody } from '../src/modules/accounts/accounts.schemas.ts';
import { EventBody, EventPatch, VenueBody } from '../src/modules/catalog/catalog.schemas.ts';
import { buildTestApp, dbShapes, type TestApp } from './helpers.ts';

interface JsonSchema {
  type?: string;
  required?: string[];
  properties?: Record<string, JsonSchema>;
}
interface Operation {
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  responses: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>;
}
type Paths = Record<string, Record<string, Operation>>;

/**
 * Every route the app serves, read from Fastify's own route tree (`printRoutes`), as
 * "METHOD /path/{param}". HEAD routes Fastify adds to every GET are left out, and so is the
 * documentation UI itself.
 */
function servedRoutes(tree: string): string[] {
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:│ {3}| {4})*)[├└]── (.+?)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const path = (depth > 0 ? stack[depth - 1]! : '') + match[2]!;
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of (match[3] ?? '').split(',').map((m) => m.trim())) {
      if (method === '' || method === 'HEAD') continue;
      if (path.startsWith('/api/docs')) continue;
      routes.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return routes.sort();
}

/** The routes of the foundation, with their success status: the floor the derived list must reach. */
const FOUNDATION: [string, number][] = [
  ['GET /healthz', 200],
  ['GET /readyz', 200],
  ['GET /metrics', 200],
  ['POST /api/auth/signup', 201],
  ['POST /api/auth/login', 200],
  ['POST /api/auth/logout', 204],
  ['GET /api/me', 200],
  ['PATCH /api/admin/users/{id}', 200],
  ['POST /api/venues', 201],
  ['GET /api/venues', 200],
  ['GET /api/venues/{id}', 200],
  ['POST /api/events', 201],
  ['GET /api/events', 200],
  ['GET /api/events/{id}', 200],
  ['PATCH /api/events/{id}', 200],
  ['GET /api/events/{id}/seatmap', 200],
];

/** Request bodies of the foundation, from the very schemas the routes validate with. */
const BODIES: [string, TSchema][] = [
  ['POST /api/auth/signup', SignupBody],
  ['POST /api/auth/login', LoginBody],
  ['PATCH /api/admin/users/{id}', RoleBody],
  ['POST /api/venues', VenueBody],
  ['POST /api/events', EventBody],
  ['PATCH /api/events/{id}', EventPatch],
];

/** Unsafe routes that take no body at all, as API.md lists them. Any other POST, PUT or PATCH must document one. */
const BODYLESS = new Set([
  'POST /api/auth/logout',
  'POST /api/events/{id}/queue',
  'POST /api/orders/{id}/cancel',
  'POST /api/admin/users/{id}/password-reset',
]);

/** Successes that are not JSON: Prometheus text. */
const NOT_JSON = new Set(['GET /metrics']);

const operationsOf = (paths: Paths) =>
  Object.entries(paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, path, op })),
  );

const shapes = await dbShapes();

for (const shape of shapes) {
  describe(`OpenAPI document (${shape})`, () => {
    let t: TestApp;
    let paths: Paths;
    before(async () => {
      t = await buildTestApp(shape, { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' });
      const res = await t.app.inject({ method: 'GET', url: '/api/docs/json' });
      assert.equal(res.statusCode, 200);
      paths = res.json().paths;
    });
    after(async () => t.close());

    it('serves an OpenAPI 3.x document as JSON', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/docs/json' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const doc = res.json();
      assert.match(doc.openapi, /^3\.\d+\.\d+$/);
      assert.equal(typeof doc.info.title, 'string');
      assert.equal(typeof doc.info.version, 'string');
    });

    it('documents every route the app serves, and no route it does not', () => {
      const served = servedRoutes(t.app.printRoutes({ commonPrefix: false }));
      for (const [route] of FOUNDATION) assert.ok(served.includes(route), `the route tree lists ${route}`);
      const documented = operationsOf(paths)
        .map((o) => o.key)
        .sort();
      assert.deepEqual(documented, served);
    });

    it('documents the path parameters of every route that has them', () => {
      for (const { key, path, op } of operationsOf(paths)) {
        for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
          const param = op.parameters?.find((p) => p.in === 'path' && p.name === name);
          assert.ok(param, `${key} documents path parameter ${name}`);
          assert.equal(param.required, true);
        }
      }
    });

    it('documents the request body of every route that takes one, as the schema the route validates with', () => {
      for (const [route, schema] of BODIES) {
        const [method, path] = route.split(' ') as [string, string];
        const documented = paths[path]?.[method.toLowerCase()]?.requestBody?.content?.['application/json']?.schema;
        assert.ok(documented, `${route} documents a JSON request body`);
        const expected = schema as JsonSchema;
        assert.deepEqual(
          [...(documented.required ?? [])].sort(),
          [...(expected.required ?? [])].sort(),
          `${route}: required fields`,
        );
        assert.deepEqual(
          Object.keys(documented.properties ?? {}).sort(),
          Object.keys(expected.properties ?? {}).sort(),
          `${route}: fields`,
        );
      }
      for (const { key, op } of operationsOf(paths)) {
        if (!/^(POST|PUT|PATCH) /.test(key) || BODYLESS.has(key)) continue;
        // Any schema will do here (the payment webhook documents its signed raw body as a string);
        // the foundation's bodies were compared field by field above.
        const content = Object.values(op.requestBody?.content ?? {});
        assert.ok(
          content.some((c) => c.schema !== undefined),
          `${key} documents a request body schema`,
        );
      }
    });

    it('documents a JSON response schema for each success of the foundation', () => {
      for (const [route, status] of FOUNDATION) {
        const [method, path] = route.split(' ') as [string, string];
        const op = paths[path]?.[method.toLowerCase()];
        assert.ok(op, route);
        const response = op.responses[String(status)];
        assert.ok(response, `${route} documents ${status}`);
        if (status === 204 || NOT_JSON.has(route)) continue;
        const schema = response.content?.['application/json']?.schema;
        assert.ok(schema?.properties && Object.keys(schema.properties).length > 0, `${route} documents what ${status} returns`);
      }
    });

    it('documents every error response as the API error body', () => {
      for (const { key, op } of operationsOf(paths)) {
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) < 400) continue;
          const schema = response.content?.['application/json']?.schema;
          assert.ok(schema, `${key} ${status} has a schema`);
          assert.deepEqual(schema.required, ['error'], `${key} ${status}`);
          assert.deepEqual(schema.properties?.error?.required, ['code', 'message', 'details'], `${key} ${status}`);
        }
      }
    });

    it('serves the documentation UI at /api/docs', async () => {
      let res = await t.app.inject({ method: 'GET', url: '/api/docs' });
      if (res.statusCode >= 300 && res.statusCode < 400) {
        res = await t.app.inject({ method: 'GET', url: String(res.headers.location) });
      }
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.match(res.body, /swagger/i);
    });
  });
}
