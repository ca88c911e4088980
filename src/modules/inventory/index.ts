export type { AvailabilityDelta, InventoryStore } from './inventory.store.ts';
export { createMemoryInventoryStore } from './store.memory.ts';
export { createRedisInventoryStore } from './store.redis.ts';
export { createInventoryRepository } from './inventory.repository.ts';
export { createInventoryService, type HoldView, type InventoryService } from './inventory.service.ts';
export { inventoryRoutes, type AdmissionCheck } from './inventory.routes.ts';
export { ADMISSION_HEADER } from './inventory.schemas.ts';
