import type { InventoryService } from './modules/inventory/index.ts';
import type { AdmissionGovernor, createLoadSensor, WaitingRoomService } from './modules/waiting-room/index.ts';
import type { Metrics } from './platform/metrics.ts';

export interface AppGaugesDeps {
  /** This API process's load sensor, when admission back-off is on and the process serves the API. */
  loadSensor: ReturnType<typeof createLoadSensor> | undefined;
  /** The admission back-off governor, in a process that runs the ticker with back-off on. */
  governor: Pick<AdmissionGovernor, 'factors'> | undefined;
  waitingRoom: Pick<WaitingRoomService, 'lengths'>;
  inventory: Pick<InventoryService, 'holdCounts'>;
}

/** The gauges of the waiting room and the seat inventory, read at each scrape. */
export function registerAppGauges(metrics: Metrics, { loadSensor, governor, waitingRoom, inventory }: AppGaugesDeps) {
  // What the back-off sees and does, for operators: this process's load reading (API role) and the
  // factor its ticker applies (ticker role).
  if (loadSensor)
    metrics.gauge(
      'ticketmax_admission_backoff_load_ms',
      "This API process's load as admission back-off reads it (ms)",
      [],
      function () {
        this.set(loadSensor.latest());
      },
    );
  if (governor)
    metrics.gauge(
      'ticketmax_admission_backoff_factor',
      "The factor admission back-off applies to each event's maxActive (1: none), for the events this process's ticker leads",
      ['event'],
      function () {
        this.reset();
        for (const [event, factor] of governor.factors()) this.set({ event }, factor);
      },
    );
  metrics.gauge(
    'ticketmax_queue_buyers',
    'Buyers in each event queue by state (at most a second old)',
    ['event', 'state'],
    async function () {
      for (const q of await waitingRoom.lengths()) {
        this.set({ event: q.eventId, state: 'waiting' }, q.waiting);
        this.set({ event: q.eventId, state: 'active' }, q.active);
      }
    },
  );
  metrics.gauge('ticketmax_holds', 'Live seat holds by event', ['event'], async function () {
    this.reset();
    for (const [event, count] of Object.entries(await inventory.holdCounts())) this.set({ event }, count);
  });
}
