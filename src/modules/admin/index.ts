export { createAdminRepository, type AdminRepository } from './admin.repository.ts';
export { adminRoutes, Stats } from './admin.routes.ts';
export { createAdminService, type AdminService, type EventStats } from './admin.service.ts';
