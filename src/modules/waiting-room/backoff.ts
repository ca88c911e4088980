/**
 * Admission back-off: the ticker admits more slowly while the API processes are overloaded, so a
 * `maxActive` set higher than the servers can serve briskly does not turn into seconds of waiting
 * for every buyer in checkout, and a crowd arriving at once gets its places before the admitted
 * buyers' checkouts take the CPU (bench/README.md, spike-10x on the eighth machine).
 *
 * Each API process measures how late its event loop runs (`createLoadSensor`: the 99th percentile
 * over each half second) and reports it to the store's load board; the ticker reads the highest
 * recent report every step and `createAdmissionGovernor` turns it into a factor on the event's
 * admission rate: halved while the load is above the threshold, never below a floor, and brought
 * back by a tenth of the rate each step while it is not (two seconds from the floor to the full
 * rate at 200 ms a step). Off unless TICKETMAX_ADMISSION_BACKOFF_MS is set; `maxActive` and
 * `admitPerMinute` stay the limits — the back-off only ever admits fewer.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface AdmissionGovernor {
  /** The factor for this step, given the highest recent load (ms; null: no process reported). */
  update(loadMs: number | null): number;
}

export function createAdmissionGovernor(
  thresholdMs: number,
  options: { floor?: number; recovery?: number } = {},
): AdmissionGovernor {
  const floor = options.floor ?? 0.05;
  const recovery = options.recovery ?? 0.1;
  let factor = 1;
  return {
    update(loadMs) {
      factor = loadMs !== null && loadMs > thresholdMs ? Math.max(floor, factor / 2) : Math.min(1, factor + recovery);
      return factor;
    },
  };
}

/** How late this process's event loop has been running: the 99th percentile of the last period, ms. */
export function createLoadSensor(periodMs = 500) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  let latest = 0;
  let timer: NodeJS.Timeout | undefined;
  return {
    start(onReading: (delayMs: number) => void) {
      histogram.enable();
      timer ??= setInterval(() => {
        // The histogram counts the resolution's own sleep in every sample: what is over it is lateness.
        latest = Math.max(0, histogram.percentile(99) / 1e6 - 10);
        histogram.reset();
        onReading(latest);
      }, periodMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
      histogram.disable();
    },
    latest: () => latest,
  };
}
