import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSigner, newId, newIds } from './crypto.ts';

test('a signer accepts its own tokens and nothing altered, before and after remembering them', () => {
  const signer = createSigner('s'.repeat(32), 'session');
  const token = signer.sign({ u: 'usr_1', e: 99 });
  const [body, mac] = token.split('.') as [string, string];
  const altered = [
    `${Buffer.from(JSON.stringify({ u: 'usr_2', e: 99 })).toString('base64url')}.${mac}`,
    `${body}.${mac.slice(0, -2)}AA`,
    `${body}.`,
    body,
    `${token}x`,
    '',
  ];
  for (const round of [1, 2]) {
    assert.deepEqual(signer.verify(token), { u: 'usr_1', e: 99 }, `round ${round}`);
    for (const bad of altered) assert.equal(signer.verify(bad), undefined, `round ${round}: ${bad}`);
  }
  // Another purpose's key never accepts it, even though this signer has it remembered.
  assert.equal(createSigner('s'.repeat(32), 'admission').verify(token), undefined);
  assert.equal(createSigner('t'.repeat(32), 'session').verify(token), undefined);
});

test('a remembered payload cannot be changed by a caller, and the memory is bounded', () => {
  const signer = createSigner('s'.repeat(32), 'admission', { cacheLimit: 3 });
  const tokens = [1, 2, 3, 4, 5].map((n) => signer.sign({ n }));
  const first = signer.verify<{ n: number }>(tokens[0]!)!;
  assert.throws(() => {
    first.n = 7;
  }, TypeError);
  for (const t of tokens) signer.verify(t);
  assert.ok(signer.remembered() <= 3, `${signer.remembered()} remembered`);
  // Evicted or not, every token still verifies to its own payload.
  tokens.forEach((t, i) => assert.deepEqual(signer.verify(t), { n: i + 1 }));
  assert.ok(signer.remembered() <= 3, `${signer.remembered()} remembered`);
  // Many more tokens than the limit: the memory stays within it, and a token in use stays remembered.
  const big = createSigner('s'.repeat(32), 'admission', { cacheLimit: 100 });
  const hot = big.sign({ hot: true });
  for (let n = 0; n < 1000; n++) {
    big.verify(big.sign({ n }));
    assert.deepEqual(big.verify(hot), { hot: true });
    assert.ok(big.remembered() <= 100);
  }
  assert.ok(big.remembered() >= 50, `${big.remembered()} remembered`);
  const none = createSigner('s'.repeat(32), 'admission', { cacheLimit: 0 });
  assert.deepEqual(none.verify(hot), { hot: true });
  assert.equal(none.remembered(), 0);
  // A payload that is not an object is refused outright.
  assert.equal(signer.verify(signer.sign(5 as unknown as object)), undefined);
  assert.equal(signer.verify(signer.sign(null as unknown as object)), undefined);
});

test('ids drawn across many refills of the shared randomness are all different and well formed', () => {
  const seen = new Set<string>();
  // Single ids, small batches and one batch larger than the pool, interleaved over several refills.
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 97; i++) seen.add(newId('ord'));
    for (const id of newIds('tkt', 13)) seen.add(id);
  }
  for (const id of newIds('seat', 5000)) seen.add(id);
  assert.equal(seen.size, 50 * (97 + 13) + 5000);
  for (const id of seen) assert.match(id, /^(ord|tkt|seat)_[0-9a-hjkmnp-tv-z]{16}$/);
});
