export { queueKeys } from './keys.ts';
export { createWaitingRoomRepository, type WaitingRoomRepository } from './waiting-room.repository.ts';
export { waitingRoomRoutes } from './waiting-room.routes.ts';
export {
  createWaitingRoomService,
  type Admission,
  type QueueView,
  type RoomStatus,
  type WaitingRoomService,
} from './waiting-room.service.ts';
export { createTicker, type Ticker } from './waiting-room.ticker.ts';
export { createAdmissionGovernor, createLoadSensor, tallyOutside, waitOutside, type AdmissionGovernor } from './backoff.ts';
export { createAdmissionRecorder, type AdmissionRecorder } from './waiting-room.recorder.ts';
export { createMemoryStore } from './store.memory.ts';
export { createRedisStore } from './store.redis.ts';
export { createSnapshotSource, withoutDatabase, withRebuild } from './waiting-room.rebuild.ts';
export type { WaitingRoomStore, WaitingRoomStoreAdapter } from './waiting-room.store.ts';
