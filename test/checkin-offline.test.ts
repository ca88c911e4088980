// The door's offline check (web/src/staff/offline.ts) against codes the server signs: the
// browser's WebCrypto Ed25519, here Node's, must accept exactly what the server's signer made.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTicketSigner } from '../src/modules/tickets/ticket-codes.ts';
import { importTicketKey, readClaims, seatOfClaims, verifyTicketCode } from '../web/src/staff/offline.ts';

const signer = createTicketSigner('a-secret-that-is-long-enough-for-this-test');
const claims = { t: 'tkt_door', e: 'evt_door', s: 'Stalls · B · 7', i: 1_700_000_000 };

describe('offline ticket check', () => {
  it('accepts a code the server signed, with its claims', async () => {
    const key = await importTicketKey(signer.publicKey);
    assert.ok(key, 'the published key imports as Ed25519');
    assert.deepEqual(await verifyTicketCode(key, signer.sign(claims)), claims);
    assert.deepEqual(await verifyTicketCode(key, `  ${signer.sign(claims)}\n`), claims, 'pasted with spaces');
    assert.equal(seatOfClaims(claims), 'Stalls · row B · seat 7');
    assert.equal(seatOfClaims({ ...claims, s: 'Standing · GA' }), 'Standing');
  });

  it('refuses forged, altered, foreign and malformed codes without throwing', async () => {
    const key = (await importTicketKey(signer.publicKey))!;
    const code = signer.sign(claims);
    const [prefix, payload, signature] = code.split('.') as [string, string, string];
    const altered = Buffer.from(JSON.stringify({ ...claims, s: 'Circle · A · 1' })).toString('base64url');
    const other = createTicketSigner('another-secret-that-is-long-enough-too').sign(claims);
    const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
    for (const bad of [
      `${prefix}.${altered}.${signature}`,
      `${prefix}.${payload}.${flipped}`,
      other,
      `TM2.${payload}.${signature}`,
      `${prefix}.${payload}`,
      `${prefix}.${payload}.${signature.slice(0, 20)}`,
      `${prefix}.!!!.${signature}`,
      'not a code',
      '',
      `${prefix}.${payload}.${signature}${'A'.repeat(1100)}`,
    ]) {
      assert.equal(await verifyTicketCode(key, bad), undefined, bad.slice(0, 40));
    }
    // Unverified, the claims still name the ticket (for this device's own list of scans).
    assert.equal(readClaims(`${prefix}.${altered}.${signature}`)?.t, 'tkt_door');
  });

  it('has no key from garbage', async () => {
    assert.equal(await importTicketKey('bm90IGEga2V5'), undefined);
  });
});
