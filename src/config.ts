import { isIP } from 'node:net';

/** Roles a process can take. `api` serves HTTP; the others are background workers. */
export const ROLES = ['api', 'ticker', 'expiry', 'outbox'] as const;
export type Role = (typeof ROLES)[number];

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly redisUrl: string | undefined;
  readonly amqpUrl: string | undefined;
  /** Prefix of every RabbitMQ exchange and queue name. */
  readonly amqpPrefix: string;
  /** Signs sessions and admission tokens. Undefined only in the embedded shape before it is generated. */
  readonly secret: string | undefined;
  readonly demo: boolean;
  readonly adminEmail: string | undefined;
  readonly adminPassword: string | undefined;
  readonly paymentWebhookSecret: string | undefined;
  readonly metricsToken: string | undefined;
  readonly rateLimitAllow: readonly string[];
  /** Sign-ups and logins allowed per minute from one address. */
  readonly signupsPerMinute: number;
  readonly loginsPerMinute: number;
  readonly logLevel: string;
  /** Trust X-Forwarded-For from a load balancer in front (needed for per-IP rate limits there). */
  readonly trustProxy: boolean;
  /**
   * Admission back-off: how slowly an API process may answer (ms; the 99th percentile over half a
   * second of its answer times, less their time waiting on the payment provider, or of its event
   * loop's lateness) before the ticker admits fewer; 0: off.
   */
  readonly admissionBackoffMs: number;
  readonly roles: readonly Role[];
  /** True when no DATABASE_URL is given: PGlite, memory stores, in-process jobs. */
  readonly embedded: boolean;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function text(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = text(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `expected true or false, got "${raw}"`);
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return raw;
}

function name(env: Env, variable: string, fallback: string): string {
  const raw = text(env, variable);
  if (raw === undefined) return fallback;
  if (!/^[a-z0-9][a-z0-9._-]{0,62}$/i.test(raw))
    throw new ConfigError(variable, 'use letters, digits, dot, dash or underscore (at most 63)');
  return raw;
}

function cidrList(env: Env, name: string): string[] {
  const raw = text(env, name);
  if (raw === undefined) return [];
  return raw.split(',').map((entry) => {
    const item = entry.trim();
    const [address, prefix] = item.split('/');
    const family = isIP(address ?? '');
    const maxPrefix = family === 6 ? 128 : 32;
    if (family === 0 || (prefix !== undefined && !(/^\d+$/.test(prefix) && Number(prefix) <= maxPrefix))) {
      throw new ConfigError(name, `"${item}" is not an IP address or CIDR block`);
    }
    return item;
  });
}

/** Reads the environment once into a frozen config. Throws ConfigError naming the bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const embedded = databaseUrl === undefined;
  const secret = text(env, 'TICKETMAX_SECRET');
  if (secret !== undefined && secret.length < 32) {
    throw new ConfigError('TICKETMAX_SECRET', 'must be at least 32 characters');
  }
  if (!embedded && secret === undefined) {
    throw new ConfigError('TICKETMAX_SECRET', 'is required when DATABASE_URL is set');
  }
  const paymentWebhookSecret = text(env, 'PAYMENT_WEBHOOK_SECRET');
  if (!embedded && paymentWebhookSecret === undefined) {
    throw new ConfigError('PAYMENT_WEBHOOK_SECRET', 'is required when DATABASE_URL is set');
  }
  const logLevel = text(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const adminEmail = text(env, 'TICKETMAX_ADMIN_EMAIL');
  const adminPassword = text(env, 'TICKETMAX_ADMIN_PASSWORD');
  if ((adminEmail === undefined) !== (adminPassword === undefined)) {
    throw new ConfigError(
      adminEmail === undefined ? 'TICKETMAX_ADMIN_EMAIL' : 'TICKETMAX_ADMIN_PASSWORD',
      'TICKETMAX_ADMIN_EMAIL and TICKETMAX_ADMIN_PASSWORD go together',
    );
  }
  if (adminPassword !== undefined && adminPassword.length < 8) {
    throw new ConfigError('TICKETMAX_ADMIN_PASSWORD', 'must be at least 8 characters');
  }
  const rolesRaw = text(env, 'TICKETMAX_ROLES') ?? 'api,ticker,expiry,outbox';
  const roles = rolesRaw.split(',').map((r) => r.trim());
  for (const role of roles) {
    if (!(ROLES as readonly string[]).includes(role)) {
      throw new ConfigError('TICKETMAX_ROLES', `unknown role "${role}" (known: ${ROLES.join(', ')})`);
    }
  }
  return Object.freeze({
    port: integer(env, 'PORT', 3000, 0, 65535),
    host: text(env, 'HOST') ?? '127.0.0.1',
    dataDir: text(env, 'TICKETMAX_DATA_DIR') ?? './data',
    databaseUrl,
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    amqpUrl: url(env, 'AMQP_URL', ['amqp:', 'amqps:']),
    amqpPrefix: name(env, 'TICKETMAX_AMQP_PREFIX', 'ticketmax'),
    secret,
    demo: bool(env, 'TICKETMAX_DEMO', embedded),
    adminEmail: adminEmail?.toLowerCase(),
    adminPassword,
    paymentWebhookSecret,
    metricsToken: text(env, 'METRICS_TOKEN'),
    rateLimitAllow: Object.freeze(cidrList(env, 'TICKETMAX_RATE_LIMIT_ALLOW')),
    signupsPerMinute: integer(env, 'TICKETMAX_SIGNUPS_PER_MINUTE', 10, 1, 100_000),
    loginsPerMinute: integer(env, 'TICKETMAX_LOGINS_PER_MINUTE', 20, 1, 100_000),
    logLevel,
    trustProxy: bool(env, 'TICKETMAX_TRUST_PROXY', false),
    admissionBackoffMs: integer(env, 'TICKETMAX_ADMISSION_BACKOFF_MS', 0, 0, 60_000),
    roles: Object.freeze(roles as Role[]),
    embedded,
  });
}
