/** Runs `work` every `intervalMs`, never two at once; errors go to onError. For the workers' sweeps. */
export function periodic(work: () => Promise<unknown>, intervalMs: number, onError: (err: unknown) => void) {
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    running ??= work()
      .catch(onError)
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
