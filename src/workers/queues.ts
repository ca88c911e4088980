import { createBroker } from '../platform/amqp.ts';

/** The work queue of delayed order-expiry checks. */
export const EXPIRY_QUEUE = 'order-expiry';
/** The queue of gateway refunds to carry out (domain events `payment.refund_requested`). */
export const REFUNDS_QUEUE = 'refunds';

/**
 * Deletes a deployment's queues and exchange from the broker: for runs under a throw-away
 * `TICKETMAX_AMQP_PREFIX` (tests, load tests), once every process of the run has stopped.
 */
export async function removeBrokerTopology(url: string, prefix: string): Promise<void> {
  const quiet = { info: () => undefined, warn: () => undefined };
  const broker = await createBroker(url, quiet, { prefix, delayedQueues: [EXPIRY_QUEUE], connectRetries: 1 });
  try {
    await broker.destroy([REFUNDS_QUEUE]);
  } finally {
    await broker.close();
  }
}
