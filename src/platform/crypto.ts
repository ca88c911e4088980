import { createHmac, randomBytes, randomFillSync, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * Randomness for ids, drawn from the CSPRNG 4 KiB at a time: one call serves about 400 ids, where a
 * call per id cost a checkout's server a call into OpenSSL for each of the seven or so ids an order
 * and its payment name. Each byte is handed out once, and only to `base32` below, which reads it at once.
 */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let poolUsed = POOL_BYTES;

function randomForIds(size: number): Uint8Array {
  if (size > POOL_BYTES) return randomBytes(size);
  if (poolUsed + size > POOL_BYTES) {
    randomFillSync(pool);
    poolUsed = 0;
  }
  poolUsed += size;
  return pool.subarray(poolUsed - size, poolUsed);
}

/** A random opaque id: a short prefix naming the kind, then 80 bits of randomness in base32. */
export function newId(prefix: string): string {
  return `${prefix}_${base32(randomForIds(10))}`;
}

/** Many ids at once (venue creation makes tens of thousands). */
export function newIds(prefix: string, count: number): string[] {
  const bytes = randomForIds(10 * count);
  const ids = new Array<string>(count);
  for (let i = 0; i < count; i++) ids[i] = `${prefix}_${base32(bytes.subarray(i * 10, i * 10 + 10))}`;
  return ids;
}

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

// scrypt cost: about 50 ms and 16 MiB per hash on this class of machine. Deliberately slow.
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 64 * 1024 * 1024 });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 64 * 1024 * 1024,
  });
  return timingSafeEqual(key, expected);
}

/** A stored hash that matches no password: login compares against it for unknown e-mails so both cost the same. */
export const DUMMY_PASSWORD_HASH = `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${Buffer.alloc(16).toString('base64url')}$${Buffer.alloc(32).toString('base64url')}`;

/** Most verified tokens a signer remembers: about 20 MB at this size. */
const VERIFIED_CACHE_LIMIT = 50_000;

/**
 * Signs small JSON payloads with HMAC-SHA256 under a key derived per purpose, so a session
 * token can never pass as an admission token and the other way round.
 * Format: base64url(json) "." base64url(mac).
 *
 * A token whose signature checked out is remembered (the exact string, with its frozen payload),
 * so a buyer's next request with the same token costs a map lookup instead of an HMAC and a JSON
 * parse: every hold carries two tokens. Only byte-identical strings hit, so nothing is accepted
 * that was not verified; expiry and revocation are the callers' checks and run on every use.
 *
 * The memory is two generations of at most half the limit each: tokens go into the young one, a
 * token found in the old one moves back into the young one, and when the young one is full it
 * becomes the old one and the old one is dropped whole. (Evicting the oldest entry one at a time
 * cost a walk over the holes a Map's deletions leave: 50 µs per new token once full, against 7 µs
 * for the HMAC itself.)
 */
export function createSigner(secret: string, purpose: string, options: { cacheLimit?: number } = {}) {
  const key = createHmac('sha256', secret).update(`ticketmax:${purpose}`).digest();
  const mac = (data: string) => createHmac('sha256', key).update(data).digest();
  const generation = Math.floor((options.cacheLimit ?? VERIFIED_CACHE_LIMIT) / 2);
  let young = new Map<string, unknown>();
  let old = new Map<string, unknown>();

  function remember(token: string, payload: unknown) {
    if (generation <= 0) return;
    if (young.size >= generation) {
      old = young;
      young = new Map();
    }
    young.set(token, payload);
  }

  function check(token: string): unknown {
    if (token.length > 2048) return undefined;
    const dot = token.indexOf('.');
    if (dot <= 0) return undefined;
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = mac(body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  }

  return {
    sign(payload: object): string {
      const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
      return `${body}.${mac(body).toString('base64url')}`;
    },
    /** The payload (frozen) when the signature is good, else undefined. Never throws on garbage. */
    verify<T>(token: string): T | undefined {
      const known = young.get(token);
      if (known !== undefined) return known as T;
      const older = old.get(token);
      if (older !== undefined) {
        remember(token, older);
        return older as T;
      }
      const payload = check(token);
      if (payload === undefined || payload === null || typeof payload !== 'object') return undefined;
      Object.freeze(payload);
      remember(token, payload);
      return payload as T;
    },
    /** How many verified tokens are remembered now (at most the cache limit). */
    remembered(): number {
      return young.size + old.size;
    },
  };
}
export type Signer = ReturnType<typeof createSigner>;
