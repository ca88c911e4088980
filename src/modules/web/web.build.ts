import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The front end's source folder (web/) of this checkout. */
export const WEB_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));

/**
 * The built pages, building them first when web/dist is missing (a fresh clone's `npm start`).
 * Several processes may start at once: each builds into its own folder and the first rename wins,
 * so none ever serves a half-written build. Resolves undefined when there is nothing to serve.
 */
export async function ensureWebBuild(log: { info(msg: string): void; warn(msg: string): void }): Promise<string | undefined> {
  const dist = path.join(WEB_DIR, 'dist');
  if (existsSync(path.join(dist, 'index.html'))) return dist;
  if (!existsSync(path.join(WEB_DIR, 'index.html'))) return undefined;
  const tmp = path.join(WEB_DIR, `.dist-${process.pid}-${Date.now()}`);
  log.info('building the web pages (web/dist is missing)');
  try {
    const vite = path.join(path.dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [vite, 'build', '--config', path.join(WEB_DIR, 'vite.config.ts'), '--logLevel', 'warn'],
        {
          env: { ...process.env, TICKETMAX_WEB_OUT: tmp },
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vite build exited with ${code}`))));
    });
    await rename(tmp, dist).catch(async (err: NodeJS.ErrnoException) => {
      // Another process finished first: keep its build.
      if (!existsSync(path.join(dist, 'index.html'))) throw err;
    });
    return dist;
  } catch (err) {
    log.warn(`the web pages could not be built, serving the API only: ${(err as Error).message}`);
    return undefined;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
