// The load test's statistics: an endpoint's figures over a stretch of the window (the sale after the
// arrival spike) count only the requests answered in it, and the whole run's figures stay whole.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createStats } from '../bench/loadtest/stats.ts';
import { checkoutLines } from '../bench/loadtest/summary.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A pause with a time in its middle (ms after t0): requests before it are answered before that time, after it after. */
async function boundaryAfter(t0: number): Promise<number> {
  await sleep(20);
  const boundary = performance.now() - t0;
  await sleep(20);
  return boundary;
}

describe('load test: statistics over a stretch of the window', () => {
  it('keeps to the requests answered between the two times, per endpoint', async () => {
    const t0 = performance.now();
    const stats = createStats(t0);
    stats.request('GET /a', 200, 900);
    stats.request('GET /a', 200, 800);
    stats.request('GET /b', 200, 700);
    const boundary = await boundaryAfter(t0);
    stats.request('GET /a', 200, 30);
    stats.request('GET /a', 200, 10);
    stats.request('GET /a', 500, 20);

    // The whole run first: its sort must not separate a latency from its time.
    const whole = stats.endpoints();
    assert.equal(whole['GET /a']!.count, 5);
    assert.equal(whole['GET /a']!.p99, 900);
    assert.equal(whole['GET /a']!.errors, 1);

    const later = stats.endpointsBetween(boundary, Number.POSITIVE_INFINITY);
    assert.deepEqual(Object.keys(later), ['GET /a'], 'an endpoint with nothing answered in the stretch is left out');
    assert.deepEqual(later['GET /a'], { count: 3, p50: 20, p99: 30 });

    const earlier = stats.endpointsBetween(0, boundary);
    assert.deepEqual(earlier['GET /a'], { count: 2, p50: 900, p99: 900 });
    assert.deepEqual(earlier['GET /b'], { count: 1, p50: 700, p99: 700 });
  });

  it('merges another generator’s requests with their times', async () => {
    const t0 = performance.now();
    const mine = createStats(t0);
    const theirs = createStats(t0);
    theirs.request('PUT /hold', 200, 40);
    const boundary = await boundaryAfter(t0);
    theirs.request('PUT /hold', 200, 60);
    mine.request('PUT /hold', 200, 50);
    mine.absorb(theirs.dump());
    assert.equal(mine.endpoints()['PUT /hold']!.count, 3);
    assert.deepEqual(mine.endpointsBetween(boundary, Number.POSITIVE_INFINITY)['PUT /hold'], { count: 2, p50: 60, p99: 60 });
  });
});

describe('load test: requests on the wire', () => {
  it("gives each endpoint's p50 and p99 on the wire over the requests that were sent, both generators' merged", () => {
    const t0 = performance.now();
    const mine = createStats(t0);
    const theirs = createStats(t0);
    mine.request('PUT /hold', 200, 900, 30);
    theirs.request('PUT /hold', 200, 800, 20);
    theirs.request('PUT /hold', 200, 700, 10);
    // Never sent (a network error before a connection, or an answer from the shared cache): no time on the wire.
    mine.request('PUT /hold', 0, 5000);
    mine.request('GET /status (shared cache)', 200, 1);
    mine.absorb(theirs.dump());
    const endpoints = mine.endpoints();
    assert.deepEqual(
      [
        endpoints['PUT /hold']!.count,
        endpoints['PUT /hold']!.p99,
        endpoints['PUT /hold']!.wireP50,
        endpoints['PUT /hold']!.wireP99,
      ],
      [4, 5000, 20, 30],
    );
    assert.equal(endpoints['GET /status (shared cache)']!.wireP99, undefined);
  });

  it('gives the p99 on the wire over a stretch of the window and per second, leaving out requests never sent', async () => {
    const t0 = performance.now();
    const mine = createStats(t0);
    const theirs = createStats(t0);
    mine.request('POST /pay', 200, 4000, 400);
    theirs.request('POST /pay', 200, 3000, 300);
    const boundary = await boundaryAfter(t0);
    mine.request('POST /pay', 200, 900, 90);
    mine.request('POST /pay', 0, 9000);
    theirs.request('POST /pay', 200, 800, 80);
    theirs.request('GET /status (shared cache)', 200, 1);
    mine.absorb(theirs.dump());
    assert.deepEqual(mine.endpointsBetween(0, boundary)['POST /pay'], { count: 2, p50: 4000, p99: 4000, wireP99: 400 });
    assert.deepEqual(mine.endpointsBetween(boundary, Number.POSITIVE_INFINITY), {
      'GET /status (shared cache)': { count: 1, p50: 1, p99: 1 },
      'POST /pay': { count: 3, p50: 900, p99: 9000, wireP99: 90 },
    });
    // Every request fell in the first second: its p99 on the wire is over the four that were sent.
    const [first] = mine.series();
    assert.equal(first!.wireP99, 400);
    assert.equal(first!.requests, 6);
  });
});

describe("the summary's lines on buyers in checkout and admission back-off", () => {
  it('gives the peak in checkout, and with back-off on its lowest and median factor, the seconds under a quarter and the load', () => {
    assert.deepEqual(checkoutLines([{}, {}]), {}, 'no reading from the organizer view: no line');
    assert.deepEqual(checkoutLines([{ active: 3 }, {}, { active: 9 }, { active: 4 }]), {
      'buyers in checkout (organizer view, peak)': 9,
    });
    const series = [
      { active: 10, backoffFactor: 1, backoffLoadMs: 20 },
      { active: 40, backoffFactor: 0.05, backoffLoadMs: 900 },
      {},
      { active: 30, backoffFactor: 0.2, backoffLoadMs: 300 },
      { active: 25, backoffFactor: 0.5, backoffLoadMs: 40.04 },
    ];
    assert.deepEqual(checkoutLines(series), {
      'buyers in checkout (organizer view, peak)': 40,
      'admission back-off, once a second (factor lowest / median; seconds under 0.25; load p50 / max ms)':
        '0.05 / 0.5; 2 of 4; 300 / 900',
    });
  });
});
