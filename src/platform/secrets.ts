import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomToken } from './crypto.ts';
import type { Config } from '../config.ts';

export interface Secrets {
  secret: string;
  paymentWebhookSecret: string;
}

/**
 * The signing secrets. Scale-out: from the environment (config insists on them). Embedded:
 * generated on first start and kept in the data directory, so sessions survive a restart.
 */
export async function loadSecrets(config: Config): Promise<Secrets> {
  if (config.secret !== undefined && config.paymentWebhookSecret !== undefined) {
    return { secret: config.secret, paymentWebhookSecret: config.paymentWebhookSecret };
  }
  const file = path.resolve(config.dataDir, 'secrets.json');
  let stored: Partial<Secrets> = {};
  try {
    stored = JSON.parse(await readFile(file, 'utf8')) as Partial<Secrets>;
  } catch {
    // First start: nothing stored yet.
  }
  const secrets: Secrets = {
    secret: config.secret ?? stored.secret ?? randomToken(48),
    paymentWebhookSecret: config.paymentWebhookSecret ?? stored.paymentWebhookSecret ?? randomToken(48),
  };
  // Only generated secrets are written down; one given in the environment stays there.
  const generated: Partial<Secrets> = {
    ...(config.secret === undefined ? { secret: secrets.secret } : {}),
    ...(config.paymentWebhookSecret === undefined ? { paymentWebhookSecret: secrets.paymentWebhookSecret } : {}),
  };
  if (stored.secret !== generated.secret || stored.paymentWebhookSecret !== generated.paymentWebhookSecret) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(generated), { mode: 0o600 });
  }
  return secrets;
}
