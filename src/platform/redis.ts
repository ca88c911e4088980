import { readFile } from 'node:fs/promises';
import { createClient } from 'redis';

/** A Lua script reply as node-redis returns it over RESP2: integers, strings, nested arrays, nil. */
export type LuaReply = number | string | null | LuaReply[];

export interface Redis {
  /** The raw node-redis client, for plain commands (SET NX PX, SADD, INFO...). */
  readonly client: ReturnType<typeof createClient>;
  ping(): Promise<void>;
  quit(): Promise<void>;
  /**
   * Loads Lua scripts once (SCRIPT LOAD) and returns a caller that runs them by SHA (EVALSHA),
   * falling back to EVAL with the source when the server answers NOSCRIPT (a restart or SCRIPT FLUSH).
   */
  loadScripts<N extends string>(files: Record<N, URL>): Promise<ScriptRunner<N>>;
}

export type ScriptRunner<N extends string> = (name: N, keys: string[], args: (string | number)[]) => Promise<LuaReply>;

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

/** Connects to Redis at `url` (redis:// or rediss://). Rejects when it cannot connect. */
export async function createRedis(url: string, options: { connectTimeoutMs?: number } = {}): Promise<Redis> {
  let connected = false;
  const client = createClient({
    url,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 5000,
      // Once connected, keep retrying a lost connection (commands fail meanwhile; /readyz says so).
      // The first connect fails at once instead, so start-up reports an unreachable Redis.
      reconnectStrategy: (retries, cause) => (connected ? Math.min(50 * 2 ** retries, 2000) : cause),
    },
  });
  // node-redis emits 'error' on every failed reconnect; without a listener the process would crash.
  client.on('error', () => undefined);
  try {
    await client.connect();
    connected = true;
  } catch (err) {
    if (client.isOpen) client.destroy();
    throw err;
  }

  return {
    client,
    async ping() {
      await client.ping();
    },
    async quit() {
      if (client.isOpen) await client.close();
    },
    async loadScripts<N extends string>(files: Record<N, URL>): Promise<ScriptRunner<N>> {
      const sources = new Map<N, string>();
      const shas = new Map<N, string>();
      for (const [name, file] of Object.entries(files) as [N, URL][]) {
        const source = await readFile(file, 'utf8');
        sources.set(name, source);
        shas.set(name, await client.scriptLoad(source));
      }
      return async (name, keys, args) => {
        const options = { keys, arguments: args.map(String) };
        try {
          return (await client.evalSha(shas.get(name)!, options)) as LuaReply;
        } catch (err) {
          if (!isNoScript(err)) throw err;
          // The server forgot it (restart, SCRIPT FLUSH): EVAL with the source always runs, even if
          // another flush lands in between, and puts the script back in the server's cache.
          return (await client.eval(sources.get(name)!, options)) as LuaReply;
        }
      };
    },
  };
}
