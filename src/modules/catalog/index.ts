export { createCatalogRepository, type CatalogRepository, type EventRow } from './catalog.repository.ts';
export { catalogRoutes } from './catalog.routes.ts';
export { createCatalogService, eventStatus, type CatalogService } from './catalog.service.ts';
export type { VenueLayout } from './catalog.venues.ts';
