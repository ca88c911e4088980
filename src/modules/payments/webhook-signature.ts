import { createHmac, timingSafeEqual } from 'node:crypto';

/** Webhooks older (or further in the future) than this are refused: a captured one cannot be replayed later. */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

function mac(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The `Tm-Signature` header for a body: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`. */
export function signWebhook(secret: string, body: string, nowSeconds: number): string {
  return `t=${nowSeconds},v1=${mac(secret, nowSeconds, body)}`;
}

/**
 * Checks a `Tm-Signature` header against the raw body. Accepts several v1 values (the gateway
 * may sign with an old and a new secret while rotating). False for anything malformed, stale
 * or wrong; never throws.
 */
export function verifyWebhook(secret: string, header: string | undefined, body: string, nowSeconds: number): boolean {
  if (typeof header !== 'string' || header.length > 1000) return false;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && value !== undefined && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && value !== undefined && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  if (Math.abs(nowSeconds - timestamp) > WEBHOOK_TOLERANCE_SECONDS) return false;
  const expected = Buffer.from(mac(secret, timestamp, body), 'hex');
  return signatures.some((s) => timingSafeEqual(Buffer.from(s, 'hex'), expected));
}
