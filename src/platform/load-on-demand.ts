/**
 * Hot state that a store may not hold (a new event, or one lost in a Redis restart or flush, or in a
 * restart of the embedded process) and that is rebuilt from the database on demand: a store call
 * answers "not loaded", the key is loaded — once at a time per key in this process, however many
 * calls meet it together — and the call runs again. The inventory and the waiting room both use it.
 */
export function createLoadOnDemand<N>(options: {
  isNotLoaded: (value: unknown) => value is N;
  /** Loads the key into the store (a no-op in the store when another process loaded it first). */
  load: (key: string) => Promise<void>;
  /** What is loaded, for the error when loading does not help ("inventory", "queue"). */
  what: string;
}) {
  const loading = new Map<string, Promise<void>>();

  /** Loads the key unless a load of it is under way already (then waits for that one). */
  function ensureLoaded(key: string): Promise<void> {
    let pending = loading.get(key);
    if (!pending) {
      pending = options.load(key).finally(() => loading.delete(key));
      loading.set(key, pending);
    }
    return pending;
  }

  /** Runs a store call; when the store does not hold the key, loads it and runs the call again. */
  async function loaded<T>(key: string, op: () => Promise<T | N>): Promise<T> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await op();
      if (!options.isNotLoaded(result)) return result;
      await ensureLoaded(key);
    }
    throw new Error(`${options.what} of event ${key} could not be loaded`);
  }

  return { loaded, ensureLoaded };
}
