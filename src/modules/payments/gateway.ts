/** The payment gateway port. The built-in test gateway implements it; a real provider would too. */

export interface Card {
  number: string;
  expMonth: number;
  expYear: number;
  cvc: string;
}

export interface ChargeRequest {
  /** The gateway charges once per key, however often (and however concurrently) it is asked. */
  idempotencyKey: string;
  orderId: string;
  amount: number;
  currency: string;
  card: Card;
}

export type ChargeResult =
  | { ref: string; status: 'succeeded' }
  /** Accepted; the outcome arrives later in a signed webhook. */
  | { ref: string; status: 'processing' }
  | { ref: string; status: 'declined'; reason: string };

export interface PaymentGateway {
  readonly name: string;
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /** Refunds a succeeded charge in full. Idempotent. */
  refund(ref: string): Promise<void>;
}

/** A gateway webhook as it arrives: the event id (applied once) and the charge's state it reports. */
export interface GatewayEvent {
  id: string;
  type: 'charge.succeeded' | 'charge.failed' | 'charge.refunded' | 'charge.processing';
  created: number;
  data: {
    charge: {
      id: string;
      status: 'processing' | 'succeeded' | 'declined' | 'refunded';
      amount: number;
      currency: string;
      orderId: string;
      idempotencyKey: string;
      declineReason: string | null;
    };
  };
}

/** The Luhn checksum every real card number passes. */
export function luhnValid(number: string): boolean {
  if (!/^\d{12,19}$/.test(number)) return false;
  let sum = 0;
  for (let i = 0; i < number.length; i++) {
    let digit = number.charCodeAt(number.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}
