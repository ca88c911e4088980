// An event's queue settings as this process serves them: from memory, read again in the background.
import type { Clock } from '../../platform/clock.ts';
import { notFound } from '../../platform/errors.ts';
import { type Settings, toSettings } from './waiting-room.model.ts';
import type { WaitingRoomRepository } from './waiting-room.repository.ts';

export interface SettingsCacheDeps {
  repo: Pick<WaitingRoomRepository, 'findSettings'>;
  clock: Clock;
  log: { warn(obj: object, msg: string): void };
  /** How long an event's settings are served from memory before they are read again. */
  ttlMs: number;
}

export function createSettingsCache({ repo, clock, log, ttlMs }: SettingsCacheDeps) {
  const settingsCache = new Map<string, Settings>();
  const settingsLoads = new Map<string, Promise<Settings>>();

  function loadSettings(eventId: string): Promise<Settings> {
    let load = settingsLoads.get(eventId);
    if (!load) {
      load = repo
        .findSettings(eventId)
        .then((row) => {
          if (!row) {
            settingsCache.delete(eventId);
            throw notFound('Event');
          }
          const s = toSettings(row, clock.now());
          settingsCache.set(eventId, s);
          return s;
        })
        .finally(() => settingsLoads.delete(eventId));
      settingsLoads.set(eventId, load);
    }
    return load;
  }

  /**
   * The event's settings from memory, read again from the database at most every ttlMs
   * (so a change made by another process or through PATCH /api/events applies within about a
   * second). A stale entry is served while the fresh one loads: no request waits on the database.
   */
  async function settingsOf(eventId: string): Promise<Settings> {
    const cached = settingsCache.get(eventId);
    if (!cached) return loadSettings(eventId);
    if (clock.now() - cached.loadedAt >= ttlMs) {
      loadSettings(eventId).catch((err: unknown) => log.warn({ err, eventId }, 'queue settings refresh failed'));
    }
    return cached;
  }

  /** Settings this process has just written (the organizer's controls): served from now on. */
  function remember(eventId: string, s: Settings) {
    settingsCache.set(eventId, s);
  }

  return { settingsOf, remember };
}
