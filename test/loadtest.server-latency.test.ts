// The load test's server-side latencies: read from the real /metrics of a running app, and the
// quantile estimate checked against known durations observed into the real histogram.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { between, endpointName, parseMetrics, quantileMs, scrape, summarize } from '../bench/loadtest/server-latency.ts';
import { createMetrics } from '../src/platform/metrics.ts';
import { buildTestApp, type TestApp } from './helpers.ts';

describe('load test: server-side latency from /metrics', () => {
  let t: TestApp;
  let url = '';

  before(async () => {
    t = await buildTestApp('pglite', { TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' });
    url = await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => t.close());

  it('names routes as the load generator does', () => {
    assert.equal(endpointName('POST', '/api/orders/:id/pay'), 'POST /pay');
    assert.equal(endpointName('GET', '/api/orders/:id'), 'GET /orders/:id');
    assert.equal(endpointName('POST', '/api/orders'), 'POST /orders');
    assert.equal(endpointName('GET', '/api/events/:id/queue/status'), 'GET /queue/status');
    assert.equal(endpointName('PUT', '/api/events/:id/hold'), 'PUT /hold');
    assert.equal(endpointName('GET', '/api/events/:id'), 'GET /events/:id');
    assert.equal(endpointName('GET', '/healthz'), 'GET /healthz');
  });

  it('estimates quantiles within the bucket, as histogram_quantile does', () => {
    const metrics = createMetrics();
    const labels = { method: 'GET', route: '/api/events/:id/queue/status', status: '2xx' };
    // 100 requests: 50 of 3 ms (bucket 2.5–5 ms), 49 of 40 ms (25–50 ms), 1 of 3 s (2.5–5 s).
    for (let i = 0; i < 50; i++) metrics.httpDuration.observe(labels, 0.003);
    for (let i = 0; i < 49; i++) metrics.httpDuration.observe(labels, 0.04);
    metrics.httpDuration.observe({ ...labels, status: '4xx' }, 3);
    return metrics.registry.metrics().then((text) => {
      const { histograms } = parseMetrics(text);
      const buckets = histograms.get('GET /queue/status')!;
      assert.equal(buckets.get(Infinity), 100, 'status classes summed');
      assert.equal(quantileMs(buckets, 0.5), 5, 'the 50th is the last of the 2.5–5 ms bucket');
      assert.ok(Math.abs(quantileMs(buckets, 0.99) - 50) < 1e-9, 'the 99th is the last of the 25–50 ms bucket');
      assert.equal(quantileMs(buckets, 1), 5000);
      assert.deepEqual(summarize(histograms), { 'GET /queue/status': { count: 100, p50Ms: 5, p99Ms: 50 } });
    });
  });

  it('counts what the server answered between two scrapes', async () => {
    const before = await scrape(url, 1);
    assert.equal(before.size, 1, 'the process named itself');
    for (let i = 0; i < 25; i++) assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const answered = summarize(between(before, await scrape(url, 1)));
    assert.equal(answered['GET /healthz']?.count, 25);
    assert.ok(answered['GET /healthz'].p99Ms > 0 && answered['GET /healthz'].p99Ms < 5000);
    assert.ok((answered['GET /metrics']?.count ?? 0) <= 1, 'at most the first scrape itself, counted once its reply went out');
  });
});
