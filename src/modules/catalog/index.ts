export { createCatalogRepository, type CatalogRepository, type EventRow } from './catalog.repository.ts';
export { catalogRoutes } from './catalog.routes.ts';
export { createCatalogService, eventStatus, type CatalogService, type VenueLayout } from './catalog.service.ts';
