import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';

const SECRET = 'a-secret-that-is-at-least-32-characters-long';
const SCALE_OUT = {
  DATABASE_URL: 'postgres://db.internal:5432/ticketmax',
  TICKETMAX_SECRET: SECRET,
  PAYMENT_WEBHOOK_SECRET: 'whsec',
};

/** Asserts that loading this environment stops with a ConfigError naming the variable. */
function assertRefuses(env: Record<string, string>, variable: string) {
  assert.throws(
    () => loadConfig(env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
      assert.equal(err.variable, variable);
      assert.ok(err.message.startsWith(`${variable}:`), err.message);
      return true;
    },
  );
}

describe('loadConfig', () => {
  it('defaults to the embedded shape when the environment is empty', () => {
    const config = loadConfig({});
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.dataDir, './data');
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.redisUrl, undefined);
    assert.equal(config.amqpUrl, undefined);
    assert.equal(config.embedded, true);
    assert.equal(config.demo, true, 'demo data is on by default in the embedded shape');
    assert.equal(config.secret, undefined, 'generated later and kept in the data dir');
    assert.equal(config.paymentWebhookSecret, undefined);
    assert.equal(config.metricsToken, undefined);
    assert.deepEqual(config.rateLimitAllow, []);
    assert.equal(config.signupsPerMinute, 10);
    assert.equal(config.loginsPerMinute, 20);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.trustProxy, false);
    assert.equal(config.admissionBackoffMs, 0, 'admission back-off off');
    assert.deepEqual(config.roles, ['api', 'ticker', 'expiry', 'outbox']);
  });

  it('takes the scale-out shape from DATABASE_URL, with demo data off', () => {
    const config = loadConfig({ ...SCALE_OUT, REDIS_URL: 'redis://cache:6379', AMQP_URL: 'amqp://mq' });
    assert.equal(config.embedded, false);
    assert.equal(config.demo, false);
    assert.equal(config.databaseUrl, SCALE_OUT.DATABASE_URL);
    assert.equal(config.redisUrl, 'redis://cache:6379');
    assert.equal(config.amqpUrl, 'amqp://mq');
    assert.equal(config.secret, SECRET);
  });

  it('reads the values it is given, trimming spaces', () => {
    const config = loadConfig({
      PORT: ' 8080 ',
      HOST: '0.0.0.0',
      TICKETMAX_DEMO: 'off',
      LOG_LEVEL: 'warn',
      TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1, 10.0.0.0/8, ::1',
      TICKETMAX_SIGNUPS_PER_MINUTE: '120',
      TICKETMAX_LOGINS_PER_MINUTE: '300',
      METRICS_TOKEN: 'tok',
      TICKETMAX_TRUST_PROXY: 'yes',
      TICKETMAX_ADMISSION_BACKOFF_MS: '80',
      TICKETMAX_ROLES: 'api',
      TICKETMAX_ADMIN_EMAIL: 'Root@Example.test',
      TICKETMAX_ADMIN_PASSWORD: 'long-enough',
    });
    assert.equal(config.port, 8080);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.demo, false);
    assert.equal(config.logLevel, 'warn');
    assert.deepEqual(config.rateLimitAllow, ['127.0.0.1', '10.0.0.0/8', '::1']);
    assert.equal(config.signupsPerMinute, 120);
    assert.equal(config.loginsPerMinute, 300);
    assert.equal(config.metricsToken, 'tok');
    assert.equal(config.trustProxy, true);
    assert.equal(config.admissionBackoffMs, 80);
    assert.deepEqual(config.roles, ['api']);
    assert.equal(config.adminEmail, 'root@example.test');
  });

  it('treats an empty or blank variable as unset', () => {
    const config = loadConfig({ PORT: '', DATABASE_URL: '   ', LOG_LEVEL: '' });
    assert.equal(config.port, 3000);
    assert.equal(config.embedded, true);
    assert.equal(config.logLevel, 'info');
  });

  it('stops on a PORT that is not an integer', () => assertRefuses({ PORT: 'abc' }, 'PORT'));
  it('stops on a PORT above 65535', () => assertRefuses({ PORT: '70000' }, 'PORT'));
  it('stops on a negative or fractional PORT', () => {
    assertRefuses({ PORT: '-1' }, 'PORT');
    assertRefuses({ PORT: '80.5' }, 'PORT');
  });
  it('stops on a DATABASE_URL that is not PostgreSQL', () => assertRefuses({ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'));
  it('stops on a REDIS_URL that is not a URL', () => assertRefuses({ REDIS_URL: 'not a url' }, 'REDIS_URL'));
  it('stops on a REDIS_URL with another scheme', () => assertRefuses({ REDIS_URL: 'http://cache:6379' }, 'REDIS_URL'));
  it('stops on an AMQP_URL with another scheme', () => assertRefuses({ AMQP_URL: 'redis://mq' }, 'AMQP_URL'));
  it('stops on a TICKETMAX_DEMO that is neither true nor false', () =>
    assertRefuses({ TICKETMAX_DEMO: 'maybe' }, 'TICKETMAX_DEMO'));
  it('stops on an unknown LOG_LEVEL', () => assertRefuses({ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'));
  it('stops on a TICKETMAX_ADMISSION_BACKOFF_MS that is not a whole number of ms', () =>
    assertRefuses({ TICKETMAX_ADMISSION_BACKOFF_MS: '-5' }, 'TICKETMAX_ADMISSION_BACKOFF_MS'));
  it('stops on a TICKETMAX_RATE_LIMIT_ALLOW entry that is no address', () => {
    assertRefuses({ TICKETMAX_RATE_LIMIT_ALLOW: '1.2.3' }, 'TICKETMAX_RATE_LIMIT_ALLOW');
    assertRefuses({ TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1,10.0.0.0/33' }, 'TICKETMAX_RATE_LIMIT_ALLOW');
  });
  it('stops on a TICKETMAX_SECRET shorter than 32 characters', () =>
    assertRefuses({ TICKETMAX_SECRET: 'short' }, 'TICKETMAX_SECRET'));
  it('stops on DATABASE_URL without TICKETMAX_SECRET', () =>
    assertRefuses({ DATABASE_URL: SCALE_OUT.DATABASE_URL, PAYMENT_WEBHOOK_SECRET: 'whsec' }, 'TICKETMAX_SECRET'));
  it('stops on DATABASE_URL without PAYMENT_WEBHOOK_SECRET', () =>
    assertRefuses({ DATABASE_URL: SCALE_OUT.DATABASE_URL, TICKETMAX_SECRET: SECRET }, 'PAYMENT_WEBHOOK_SECRET'));
  it('stops on an admin e-mail without a password, and on a short admin password', () => {
    assertRefuses({ TICKETMAX_ADMIN_EMAIL: 'root@example.test' }, 'TICKETMAX_ADMIN_PASSWORD');
    assertRefuses({ TICKETMAX_ADMIN_PASSWORD: 'long-enough' }, 'TICKETMAX_ADMIN_EMAIL');
    assertRefuses({ TICKETMAX_ADMIN_EMAIL: 'root@example.test', TICKETMAX_ADMIN_PASSWORD: 'short' }, 'TICKETMAX_ADMIN_PASSWORD');
  });
  it('stops on an unknown role', () => assertRefuses({ TICKETMAX_ROLES: 'api,mailer' }, 'TICKETMAX_ROLES'));

  it('returns a frozen config: nothing can change it after start-up', () => {
    const config = loadConfig({ TICKETMAX_RATE_LIMIT_ALLOW: '127.0.0.1' });
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.rateLimitAllow));
    assert.ok(Object.isFrozen(config.roles));
    // ES modules run in strict mode: writing to a frozen object throws.
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (config.rateLimitAllow as string[]).push('10.0.0.1');
    }, TypeError);
    assert.equal(config.port, 3000);
  });
});
