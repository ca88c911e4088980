import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { createTicketSigner, qrSvg } from './ticket-codes.ts';

const signer = createTicketSigner('a-secret-that-is-long-enough-for-this-test');
/** Changes the first character, which always changes the first decoded byte. */
const flipFirst = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
const claims = { t: 'tkt_1', e: 'evt_1', s: 'Stalls · B · 7', i: 1_800_000_000 };

describe('ticket codes', () => {
  it('round-trips signed claims', () => {
    assert.deepEqual(signer.verify(signer.sign(claims)), claims);
  });

  it('can be verified offline with only the published public key', () => {
    const code = signer.sign(claims);
    const [prefix, payload, signature] = code.split('.');
    const key = createPublicKey({ key: Buffer.from(signer.publicKey, 'base64'), format: 'der', type: 'spki' });
    assert.equal(key.asymmetricKeyType, 'ed25519');
    assert.ok(verify(null, Buffer.from(`${prefix}.${payload}`), key, Buffer.from(signature!, 'base64url')));
  });

  it('derives the same key in every process from the same secret, another from another', () => {
    assert.equal(createTicketSigner('a-secret-that-is-long-enough-for-this-test').publicKey, signer.publicKey);
    const other = createTicketSigner('another-secret-that-is-long-enough-for-it');
    assert.notEqual(other.publicKey, signer.publicKey);
    assert.equal(other.verify(signer.sign(claims)), undefined);
  });

  it('refuses tampered, truncated and garbage codes', () => {
    const code = signer.sign(claims);
    const [prefix, payload, signature] = code.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, e: 'evt_2' })).toString('base64url');
    for (const bad of [
      `${prefix}.${forged}.${signature}`,
      `${prefix}.${payload}`,
      `${prefix}.${payload}.${flipFirst(signature!)}`,
      `TM2.${payload}.${signature}`,
      '',
      'not a code',
      '...',
      'x'.repeat(5000),
    ]) {
      assert.equal(signer.verify(bad), undefined, bad.slice(0, 40));
    }
  });

  it('draws the code as an SVG QR code', async () => {
    const svg = await qrSvg(signer.sign(claims));
    assert.match(svg, /^<svg[\s\S]*<\/svg>\s*$/);
    assert.match(svg, /<path/);
  });
});
