import type { Queryable } from '../platform/db.ts';
import type { AccountsService, Role } from '../modules/accounts/index.ts';
import type { CatalogService } from '../modules/catalog/index.ts';

/** The demo accounts the README lists. For trying TicketMax locally; never enabled by default in scale-out. */
export const DEMO_ACCOUNTS: { email: string; password: string; name: string; role: Role }[] = [
  { email: 'admin@demo.ticketmax.dev', password: 'demo-admin-pass', name: 'Ada Admin', role: 'admin' },
  { email: 'organizer@demo.ticketmax.dev', password: 'demo-organizer-pass', name: 'Olive Organizer', role: 'organizer' },
  { email: 'staff@demo.ticketmax.dev', password: 'demo-staff-pass', name: 'Sam Staff', role: 'staff' },
  { email: 'buyer1@demo.ticketmax.dev', password: 'demo-buyer-pass', name: 'Bea Buyer', role: 'buyer' },
  { email: 'buyer2@demo.ticketmax.dev', password: 'demo-buyer-pass', name: 'Ben Buyer', role: 'buyer' },
];

const SEEDED_KEY = 'demo_seeded_at';

/**
 * Seeds the demo data once per database: the accounts above, a 2,000-seat arena on sale now,
 * a 50,000-seat stadium whose sale opens five minutes after seeding, and a GA club night.
 */
export async function seedDemo(deps: { db: Queryable; accounts: AccountsService; catalog: CatalogService; now: number }) {
  const { db, accounts, catalog, now } = deps;
  // Claim the seeding first, so several processes starting together seed once.
  const claimed = await db.query(
    'INSERT INTO system_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key',
    [SEEDED_KEY, new Date(now).toISOString()],
  );
  if (claimed.length === 0) return false;
  try {
    await seed(accounts, catalog, now);
  } catch (err) {
    await db.query('DELETE FROM system_settings WHERE key = $1', [SEEDED_KEY]);
    throw err;
  }
  return true;
}

async function seed(accounts: AccountsService, catalog: CatalogService, now: number) {
  const ids: Record<string, string> = {};
  for (const account of DEMO_ACCOUNTS) ids[account.email] = await accounts.ensureAccount(account, account.role);
  const organizer = { userId: ids['organizer@demo.ticketmax.dev']!, sessionId: 'demo-seed', role: 'organizer' as const };
  const day = 24 * 3600 * 1000;
  const iso = (ms: number) => new Date(ms).toISOString();

  const arena = await catalog.createVenue(organizer, {
    name: 'Harbour Arena',
    sections: [
      { name: 'Floor', kind: 'seated', grid: { rows: 20, seatsPerRow: 25 } },
      { name: 'Lower North', kind: 'seated', grid: { rows: 20, seatsPerRow: 25 } },
      { name: 'Lower South', kind: 'seated', grid: { rows: 20, seatsPerRow: 25 } },
      { name: 'Balcony', kind: 'seated', grid: { rows: 20, seatsPerRow: 25 } },
    ],
  });
  await catalog.createEvent(organizer, {
    venueId: arena.id,
    name: 'The Midnight Owls — Live',
    description: 'An evening of indie rock in a 2,000-seat arena. On sale now.',
    startsAt: iso(now + 30 * day),
    onSaleAt: iso(now - 60_000),
    prices: [
      { section: 'Floor', amount: 9500, currency: 'USD' },
      { section: 'Lower North', amount: 7500, currency: 'USD' },
      { section: 'Lower South', amount: 7500, currency: 'USD' },
      { section: 'Balcony', amount: 4500, currency: 'USD' },
    ],
    queue: { admitPerMinute: 600, maxActive: 500, preQueueMinutes: 30 },
  });

  const stadiumSections = [
    'North',
    'North-East',
    'East',
    'South-East',
    'South',
    'South-West',
    'West',
    'North-West',
    'Upper North',
    'Upper South',
  ];
  const stadium = await catalog.createVenue(organizer, {
    name: 'Riverside Stadium',
    sections: stadiumSections.map((name) => ({ name, kind: 'seated' as const, grid: { rows: 50, seatsPerRow: 100 } })),
  });
  await catalog.createEvent(organizer, {
    venueId: stadium.id,
    name: 'Summer Anthems Festival',
    description: 'The big one: 50,000 seats. The sale opens five minutes after the demo starts; join the waiting room early.',
    startsAt: iso(now + 60 * day),
    onSaleAt: iso(now + 5 * 60_000),
    prices: stadiumSections.map((section, i) => ({ section, amount: i < 8 ? 12000 - i * 500 : 6500, currency: 'USD' })),
    maxSeatsPerOrder: 4,
    queue: { admitPerMinute: 1200, maxActive: 2000, preQueueMinutes: 30 },
  });

  const club = await catalog.createVenue(organizer, {
    name: 'The Basement Club',
    sections: [
      { name: 'Dance Floor', kind: 'ga', capacity: 400 },
      { name: 'Mezzanine', kind: 'ga', capacity: 100 },
    ],
  });
  await catalog.createEvent(organizer, {
    venueId: club.id,
    name: 'Deep House Night',
    description: 'General admission: pick how many, not where.',
    startsAt: iso(now + 10 * day),
    onSaleAt: iso(now - 60_000),
    prices: [
      { section: 'Dance Floor', amount: 2500, currency: 'USD' },
      { section: 'Mezzanine', amount: 3500, currency: 'USD' },
    ],
    maxSeatsPerOrder: 8,
  });
}
