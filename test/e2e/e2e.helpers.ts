// Shared set-up of the browser tests: the real server (as `npm start` runs it), a headless
// Chromium driven by playwright-core, API shortcuts for the data the pages are not about, and
// screenshots at desktop and phone widths.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AxeResults, RunOptions } from 'axe-core';
import type { Browser, Page } from 'playwright-core';
import { CI } from '../helpers.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.resolve('artifacts/screenshots');
export const ADMIN = { email: 'root@e2e.test', password: 'e2e-admin-password' };
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** Whether the browser tests can run here; under CI=true a missing Chromium is a failure, never a skip. */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (CI) throw new Error(`CI=true but Chromium is not installed at ${CHROMIUM} (.ci/run installs Debian's chromium package)`);
  console.warn(`# Chromium not found at ${CHROMIUM}: skipping the browser tests (CI would fail). apt-get install -y chromium`);
  return false;
}

/** Builds the pages afresh, so the tests never run against a stale web/dist. */
export function buildWeb() {
  const vite = path.resolve('node_modules/vite/bin/vite.js');
  const res = spawnSync(process.execPath, [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
    stdio: 'inherit',
  });
  if (res.status !== 0) throw new Error('vite build failed');
}

/** The public seat map, as far as the browser tests read it. */
export interface SeatmapBody {
  sections: { id: string; name: string; rows?: { label: string; seats: { id: string; label: string }[] }[] }[];
}

export interface Server {
  url: string;
  stop(): Promise<void>;
  /**
   * Stops the server (SIGTERM) and starts it again on the same port and data directory;
   * `whileDown` runs in between, given the embedded database's data directory.
   */
  restart(whileDown?: (dataDir: string) => Promise<void>): Promise<void>;
}

/** Starts src/main.ts on a free port with a throw-away data directory and no demo data. */
export async function startServer(): Promise<Server> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'ticketmax-e2e-'));
  let child = spawnMain(dataDir, 0);
  const url = await listening(child);
  const stopChild = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return; // stopped already
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  return {
    url,
    async stop() {
      await stopChild();
      await rm(dataDir, { recursive: true, force: true });
    },
    async restart(whileDown) {
      await stopChild();
      await whileDown?.(dataDir);
      child = spawnMain(dataDir, Number(new URL(url).port));
      await listening(child);
    },
  };
}

function spawnMain(dataDir: string, port: number): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      TICKETMAX_DATA_DIR: dataDir,
      TICKETMAX_DEMO: 'false',
      TICKETMAX_ADMIN_EMAIL: ADMIN.email,
      TICKETMAX_ADMIN_PASSWORD: ADMIN.password,
      // The suite signs up more than the default ten accounts a minute from one address.
      TICKETMAX_SIGNUPS_PER_MINUTE: '100',
      // On, with a threshold no page here comes near: the dashboard shows what it sees.
      TICKETMAX_ADMISSION_BACKOFF_MS: '5000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves with the server's URL once it listens. */
function listening(child: ChildProcess): Promise<string> {
  let output = '';
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /running at (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
}

export async function launch(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
}

/** The API with a bearer token (not subject to the cookie's same-origin rule). */
export function apiClient(base: string, token?: string) {
  return async function call<T = Record<string, unknown>>(
    method: string,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    const res = await fetch(base + url, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
}

export async function signup(base: string, name: string, role?: string, adminToken?: string) {
  const email = `${name}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@e2e.test`;
  const password = 'e2e-password-123';
  const res = await apiClient(base)<{ user: { id: string }; token: string }>('POST', '/api/auth/signup', {
    email,
    password,
    name,
  });
  if (role) await apiClient(base, adminToken)('PATCH', `/api/admin/users/${res.user.id}`, { role });
  return { email, password, id: res.user.id, token: res.token };
}

export async function login(base: string, email: string, password: string): Promise<string> {
  return (await apiClient(base)<{ token: string }>('POST', '/api/auth/login', { email, password })).token;
}

/**
 * An event on sale in a one-section venue (`section` as the venue API takes it, named Floor), its
 * queue paused with the named buyers already in it, in that order. Returns the event's id.
 */
export async function pausedQueue(
  base: string,
  organizerToken: string,
  o: { venue: string; event: string; section: Record<string, unknown>; amount: number; admitPerMinute: number; ahead: string[] },
): Promise<string> {
  const org = apiClient(base, organizerToken);
  const { venue } = await org<{ venue: { id: string } }>('POST', '/api/venues', {
    name: o.venue,
    sections: [{ name: 'Floor', ...o.section }],
  });
  const { event } = await org<{ event: { id: string } }>('POST', '/api/events', {
    venueId: venue.id,
    name: o.event,
    startsAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    onSaleAt: new Date(Date.now() - 60_000).toISOString(),
    prices: [{ section: 'Floor', amount: o.amount, currency: 'USD' }],
    queue: { admitPerMinute: o.admitPerMinute },
  });
  await org('PATCH', `/api/admin/events/${event.id}/queue`, { paused: true });
  for (const name of o.ahead) {
    const b = await signup(base, name);
    await apiClient(base, b.token)('POST', `/api/events/${event.id}/queue`);
  }
  return event.id;
}

/** Harbour Hall (two seated sections and a standing one) and its event Lighthouse Sessions, on sale at 30 admissions a minute. */
export async function harbourHallEvent(base: string, organizerToken: string): Promise<string> {
  const org = apiClient(base, organizerToken);
  const { venue } = await org<{ venue: { id: string } }>('POST', '/api/venues', {
    name: 'Harbour Hall',
    sections: [
      { name: 'Stalls', kind: 'seated', grid: { rows: 8, seatsPerRow: 12 } },
      { name: 'Circle', kind: 'seated', grid: { rows: 4, seatsPerRow: 10 } },
      { name: 'Standing', kind: 'ga', capacity: 200 },
    ],
  });
  const { event } = await org<{ event: { id: string } }>('POST', '/api/events', {
    venueId: venue.id,
    name: 'Lighthouse Sessions',
    description: 'An acoustic night by the water.',
    startsAt: new Date(Date.now() + 20 * 86_400_000).toISOString(),
    onSaleAt: new Date(Date.now() - 60_000).toISOString(),
    prices: [
      { section: 'Stalls', amount: 6000, currency: 'USD' },
      { section: 'Circle', amount: 4000, currency: 'USD' },
      { section: 'Standing', amount: 2500, currency: 'USD' },
    ],
    queue: { admitPerMinute: 30 },
  });
  return event.id;
}

/**
 * Through the API, as the buyer's page would: joins the event's waiting room, waits for the turn,
 * holds the seat and turns the hold into a pending order. Returns the order's id.
 */
export async function pendingOrder(base: string, buyer: { id: string; token: string }, eventId: string, seatId: string) {
  const call = apiClient(base, buyer.token);
  type Q = { queue: { admission: { token: string } | null } };
  const queued = await call<Q>('POST', `/api/events/${eventId}/queue`);
  const token =
    queued.queue.admission?.token ??
    (await until(async () => (await call<Q>('GET', `/api/events/${eventId}/queue`)).queue.admission?.token, 20_000, 'admission'));
  const headers = { 'x-admission-token': token! };
  await call('PUT', `/api/events/${eventId}/hold`, { seats: [seatId] }, headers);
  const { order } = await call<{ order: { id: string } }>(
    'POST',
    '/api/orders',
    { eventId },
    { ...headers, 'idempotency-key': `e2e-${buyer.id}` },
  );
  return order.id;
}

/**
 * A browser test file's stage: the built pages, the server, Chromium, and an organizer with the
 * Harbour Hall event on sale and its seat map. `close` stops what was started.
 */
export async function harbourHallStage(organizerName: string) {
  buildWeb();
  const server = await startServer();
  let browser: Browser | undefined;
  try {
    browser = await launch();
    const adminToken = await login(server.url, ADMIN.email, ADMIN.password);
    const organizer = await signup(server.url, organizerName, 'organizer', adminToken);
    const eventId = await harbourHallEvent(server.url, organizer.token);
    const map = await apiClient(server.url)<SeatmapBody>('GET', `/api/events/${eventId}/seatmap`);
    const started = browser;
    return {
      server,
      browser: started,
      adminToken,
      organizer,
      eventId,
      /** The id of the seat in this section's row and place (0-based). */
      seatAt: (section: string, row: number, seat: number) =>
        map.sections.find((s) => s.name === section)!.rows![row]!.seats[seat]!.id,
      async close() {
        await started.close();
        await server.stop();
      },
    };
  } catch (err) {
    await browser?.close();
    await server.stop();
    throw err;
  }
}
export type Stage = Awaited<ReturnType<typeof harbourHallStage>>;

/** Through the API: the buyer orders the seat and pays with the test card that succeeds. */
export async function paidOrder(base: string, buyer: { id: string; token: string }, eventId: string, seatId: string) {
  const orderId = await pendingOrder(base, buyer, eventId, seatId);
  await apiClient(base, buyer.token)(
    'POST',
    `/api/orders/${orderId}/pay`,
    { card: { number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' } },
    { 'idempotency-key': `e2e-pay-${buyer.id}` },
  );
  return orderId;
}

/** Signs in through the sign-in page. */
export async function signIn(page: Page, base: string, email: string, password: string) {
  await page.goto(`${base}/signin`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Saves the page at 1280×800 and at 375 px wide, then puts the viewport back. */
export async function shoot(page: Page, name: string) {
  await mkdir(SCREENSHOTS, { recursive: true });
  const size = page.viewportSize() ?? { width: 1280, height: 800 };
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 375, height: 800 });
  await page.waitForTimeout(150);
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-375.png`), fullPage: true });
  // Works at 375 px: nothing makes the page scroll sideways.
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  if (width > 375) throw new Error(`${name}: the page is ${width} px wide at a 375 px viewport`);
  await page.setViewportSize(size);
  await accessible(page, name);
}

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/**
 * The page as it stands passes axe-core's WCAG 2.x A and AA rules, but for findings of minor or
 * moderate impact: what a screen-reader or keyboard user or a low-vision buyer would trip over.
 * `AXE_REPORT=1` writes the findings beside the screenshots instead of failing (for a survey).
 */
export async function accessible(page: Page, name: string) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const { axe } = window as unknown as { axe: { run(c: Document, o: RunOptions): Promise<AxeResults> } };
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map(
        (v) =>
          `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary ?? ''}`).join('\n')}`,
      );
  });
  if (violations.length > 0) {
    const text = `${name}: ${violations.length} accessibility problem(s)\n${violations.join('\n')}`;
    if (process.env.AXE_REPORT) await writeFile(path.join(SCREENSHOTS, `${name}-axe.txt`), text);
    else throw new Error(text);
  }
}

/** Polls until fn returns a truthy value. */
export async function until<T>(fn: () => Promise<T> | T, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

declare global {
  interface Window {
    /** Set by the seat page (web/src/pages/seats.tsx): where a seat is drawn and its state (0 free, 1 taken, 2 mine). */
    tmSeatmap?: {
      seatToClient(id: string): { x: number; y: number } | null;
      status(id: string): number | null;
      focus(id: string): void;
      drawStats(): { frames: number; totalMs: number; maxMs: number };
    };
  }
}
