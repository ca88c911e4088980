import { createHmac, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import QRCode from 'qrcode';

/** What a ticket's QR code carries, signed. Short keys keep the QR small enough to scan at the door. */
export interface TicketClaims {
  t: string; // ticket id
  e: string; // event id
  s: string; // seat: "Section · Row · Seat", or "Section · GA"
  i: number; // issued at, epoch seconds
}

const PREFIX = 'TM1';
// PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows it.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * Ed25519 signing of ticket codes. The key pair is derived from the deployment secret, so
 * every API process signs with the same key and no key needs storing; the public key is
 * published for scanners that verify offline.
 */
export function createTicketSigner(secret: string) {
  const seed = createHmac('sha256', secret).update('ticketmax:ticket-signing-key:v1').digest();
  const privateKey: KeyObject = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey(privateKey);
  const publicKeyB64 = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');

  return {
    /** SPKI DER, base64: what GET /api/tickets/public-key publishes. */
    publicKey: publicKeyB64,

    sign(claims: TicketClaims): string {
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      const signature = sign(null, Buffer.from(`${PREFIX}.${payload}`), privateKey).toString('base64url');
      return `${PREFIX}.${payload}.${signature}`;
    },

    /** The claims when the code is well-formed and signed by us, else undefined. Never throws on garbage. */
    verify(code: string): TicketClaims | undefined {
      if (code.length > 1024) return undefined;
      const parts = code.trim().split('.');
      if (parts.length !== 3 || parts[0] !== PREFIX) return undefined;
      const [, payload, signature] = parts as [string, string, string];
      const sig = Buffer.from(signature, 'base64url');
      if (sig.length !== 64) return undefined;
      if (!verify(null, Buffer.from(`${PREFIX}.${payload}`), publicKey, sig)) return undefined;
      try {
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TicketClaims;
        if (typeof claims.t !== 'string' || typeof claims.e !== 'string') return undefined;
        return claims;
      } catch {
        return undefined;
      }
    },
  };
}
export type TicketSigner = ReturnType<typeof createTicketSigner>;

/** The QR code of a ticket code as an SVG document. */
export function qrSvg(code: string): Promise<string> {
  return QRCode.toString(code, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
