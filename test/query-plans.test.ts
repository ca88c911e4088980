import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pendingDeadlinesOf, pendingOrderOf } from '../src/modules/orders/orders.repository.ts';
import { openPayment } from '../src/modules/payments/payments.repository.ts';
import type { Queryable, Statement } from '../src/platform/db.ts';
import { buildTestApp, dbShapes, type TestApp } from './helpers.ts';
import { bulkBuyers, onSaleEvent } from './inventory.helpers.ts';

/**
 * The checkout's reads of one order, or of one buyer's, keep to their own rows however stale the
 * planner's statistics are. In a sale's first minute the orders table has never been analyzed (or
 * was when it was small), and a plan cached then stays for the connection's life: one that walked
 * every pending order of the event for each request cost a spike about a third of PostgreSQL's CPU.
 * Each statement is planned here as a connection caches it (the generic plan), before and after
 * ANALYZE, and must read through an index that leads to the order or the buyer.
 */
const shapes = await dbShapes();
/** Orders when connections cache their plans (a sale's first seconds), and later. */
const EARLY = 200;
const ORDERS = 3000;
let probes = 0;

type Param = string | boolean | Date | string[];
const sqlType = (p: Param) =>
  typeof p === 'boolean' ? 'boolean' : p instanceof Date ? 'timestamptz' : Array.isArray(p) ? 'text[]' : 'text';

/** The scans of the orders table in the plan a connection would cache for this statement. */
async function ordersScans(q: Queryable, statement: Statement): Promise<string[]> {
  const params = statement.params as Param[];
  const name = `plan_probe_${++probes}`;
  await q.query(`PREPARE ${name} (${params.map(sqlType).join(', ')}) AS ${statement.sql}`);
  const literal = (p: Param): string =>
    typeof p === 'boolean'
      ? String(p)
      : p instanceof Date
        ? `'${p.toISOString()}'`
        : Array.isArray(p)
          ? `ARRAY[${p.map(literal).join(', ')}]::text[]`
          : `'${p.replaceAll("'", "''")}'`;
  const [row] = await q.query<{ 'QUERY PLAN': unknown }>(
    `EXPLAIN (FORMAT JSON) EXECUTE ${name} (${params.map(literal).join(', ')})`,
  );
  const plan = typeof row!['QUERY PLAN'] === 'string' ? JSON.parse(row!['QUERY PLAN']) : row!['QUERY PLAN'];
  const scans: string[] = [];
  const walk = (node: Record<string, unknown>) => {
    if (node['Relation Name'] === 'orders') {
      // A bitmap scan names its index in the child that reads it.
      const bitmap = (node.Plans as Record<string, unknown>[] | undefined)?.find((c) => c['Node Type'] === 'Bitmap Index Scan');
      const index = node['Index Name'] ?? bitmap?.['Index Name'];
      scans.push(String(index ?? node['Node Type']));
    }
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  walk((plan as { Plan: Record<string, unknown> }[])[0]!.Plan);
  await q.query(`DEALLOCATE ${name}`);
  return scans;
}

for (const shape of shapes) {
  describe(`the checkout's order reads, as a connection caches their plans (${shape})`, () => {
    let t: TestApp;
    let eventId: string;
    let buyers: string[];
    let buyer: string;
    const order = 'ord_plan3';
    /** Orders for buyers from..to-1 (numbered from 1): a third of them still pending. */
    const ordersFor = (from: number, to: number) =>
      t.db.query(
        `INSERT INTO orders (id, event_id, user_id, status, total_amount, currency, expires_at)
         SELECT 'ord_plan' || n, $1, u, CASE WHEN n % 3 = 0 THEN 'pending' ELSE 'paid' END, 100, 'USD', now() + interval '10 minutes'
           FROM unnest($2::text[]) WITH ORDINALITY AS b(u, n) WHERE n >= $3 AND n < $4`,
        [eventId, buyers, from, to],
      );
    before(async () => {
      // Without the expiry role: its embedded maintenance would analyze the table in the middle of the test.
      t = await buildTestApp(shape, { TICKETMAX_ROLES: 'api' });
      eventId = (await onSaleEvent(t.app)).eventId;
      buyers = (await bulkBuyers(t.app, ORDERS)).map((b) => b.id);
      buyer = buyers[2]!;
      await ordersFor(1, EARLY + 1);
    });
    after(async () => t.close());

    const statements = () => ({
      'the pay claim: the payment attempt for a pending order': openPayment(
        { id: 'pay_plan', orderId: order, gateway: 'test', key: `${order}:k`, payerId: buyer, admin: false, now: new Date() },
        'true',
      ),
      "the order claim: the buyer's pending order for the event": pendingOrderOf(eventId, buyer),
      'the expiry check: which of these orders are still pending': pendingDeadlinesOf([order, 'ord_plan6']),
    });
    /** Each statement's scans of orders, as a connection would cache them now. */
    const plans = () =>
      t.db.tx(async (q) => {
        await q.query('SET LOCAL plan_cache_mode = force_generic_plan');
        const found: Record<string, string[]> = {};
        for (const [name, statement] of Object.entries(statements())) found[name] = await ordersScans(q, statement);
        return found;
      });
    /** What each statement may read orders through (by index, or by bitmap from that index). */
    const allowed = (tiny: boolean): Record<string, string[]> => ({
      'the pay claim: the payment attempt for a pending order': ['orders_pkey'],
      "the order claim: the buyer's pending order for the event": ['orders_user_idx'],
      // Off the buyer's path, at an order's deadline: the planner may read a table it believes tiny whole.
      'the expiry check: which of these orders are still pending': tiny ? ['orders_pkey', 'Seq Scan'] : ['orders_pkey'],
    });
    async function check(tiny: boolean) {
      const found = await plans();
      for (const [name, scans] of Object.entries(found)) {
        assert.equal(scans.length, 1, `${name}: one read of orders (${scans.join(', ')})`);
        assert.ok(allowed(tiny)[name]!.includes(scans[0]!), `${name}: read through ${scans[0]}`);
      }
    }

    it(`reads by the order's or the buyer's own index in a sale's first seconds (${EARLY} orders, never analyzed)`, async () => {
      await check(true);
    });

    it(`and once the table has grown and been analyzed (${ORDERS} orders)`, async () => {
      await ordersFor(EARLY + 1, ORDERS + 1);
      await t.db.query('ANALYZE orders');
      await check(false);
    });

    it('still finds what they are for', async () => {
      const run = (s: Statement) => t.db.query<{ id: string }>(s.sql, s.params);
      assert.deepEqual(
        (await run(pendingOrderOf(eventId, buyer))).map((r) => r.id),
        [order],
      );
      assert.deepEqual(
        (await run(pendingOrderOf(eventId, buyers[3]!))).map((r) => r.id),
        [],
        'a paid order is not pending',
      );
      assert.deepEqual((await run(pendingDeadlinesOf([order, 'ord_plan4', 'ord_plan6']))).map((r) => r.id).sort(), [
        order,
        'ord_plan6',
      ]);
      const open = (payerId: string, admin: boolean, orderId = order, now = new Date()) =>
        run(
          openPayment(
            { id: `pay_${payerId}_${orderId}`, orderId, gateway: 'test', key: `${orderId}:${payerId}`, payerId, admin, now },
            'true',
          ),
        );
      const other = buyers[5]!;
      assert.equal((await open(other, false)).length, 0, "not someone else's order");
      assert.equal((await open(buyer, false, 'ord_plan4')).length, 0, 'not a paid one');
      assert.equal((await open(buyer, false, order, new Date(Date.now() + 3_600_000))).length, 0, 'not one past its deadline');
      assert.equal((await open(buyer, false)).length, 1, "the buyer's own pending order");
      assert.equal((await open(other, true, 'ord_plan6')).length, 1, 'any pending order for an admin');
    });
  });
}
