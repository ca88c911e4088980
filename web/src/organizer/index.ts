// The organizer's pages, loaded on demand so the buyer's bundle does not carry them.
export { Dashboard } from './dashboard.tsx';
export { EventForm } from './event-form.tsx';
export { OrganizerHome } from './home.tsx';
export { VenueForm } from './venue-form.tsx';
export { VenuesPage } from './venues.tsx';
