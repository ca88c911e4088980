import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

/** The real entry point, as `npm start` runs it, on a free port; resolves with its URL once it listens. */
export function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /running at (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening:\n${output}`));
    });
  });
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
  );
}

/**
 * How many connections the kernel queues for the server listening on `url`'s port before it accepts
 * them (Send-Q of the listening socket, as `ss` shows it), and the kernel's cap on that
 * (net.core.somaxconn). Linux only, with iproute2's `ss`.
 */
export async function listenBacklog(url: string): Promise<{ backlog: number; cap: number }> {
  const port = new URL(url).port;
  const { stdout } = await promisify(execFile)('ss', ['-Hltn', `sport = :${port}`]);
  const sizes = stdout
    .trim()
    .split('\n')
    .map((line) => Number(line.trim().split(/\s+/)[2]));
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n)))
    throw new Error(`no listening socket on port ${port}: ${stdout}`);
  const cap = Number((await readFile('/proc/sys/net/core/somaxconn', 'utf8')).trim());
  return { backlog: Math.min(...sizes), cap };
}
