import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signWebhook, verifyWebhook } from './webhook-signature.ts';

const secret = 'whsec-for-tests';
const body = JSON.stringify({ id: 'gwevt_1', type: 'charge.succeeded' });
const now = 1_800_000_000;

describe('webhook signatures', () => {
  it('accepts a fresh signature over the exact body', () => {
    assert.equal(verifyWebhook(secret, signWebhook(secret, body, now), body, now + 10), true);
  });

  it('refuses a signature older than five minutes, or from the future', () => {
    assert.equal(verifyWebhook(secret, signWebhook(secret, body, now - 301), body, now), false);
    assert.equal(verifyWebhook(secret, signWebhook(secret, body, now + 301), body, now), false);
  });

  it('refuses another body, another secret and malformed headers', () => {
    const header = signWebhook(secret, body, now);
    assert.equal(verifyWebhook(secret, header, `${body} `, now), false);
    assert.equal(verifyWebhook('other-secret', header, body, now), false);
    for (const bad of [undefined, '', 't=abc,v1=00', `v1=${'0'.repeat(64)}`, `t=${now}`, `t=${now},v1=zz`, 'garbage']) {
      assert.equal(verifyWebhook(secret, bad, body, now), false, String(bad));
    }
  });

  it('accepts any of several v1 signatures (secret rotation)', () => {
    const good = signWebhook(secret, body, now).split(',')[1]!;
    assert.equal(verifyWebhook(secret, `t=${now},v1=${'0'.repeat(64)},${good}`, body, now), true);
  });
});
