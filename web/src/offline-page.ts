// Pages that must open without a connection (the door's check-in page, a buyer's tickets at the
// venue's gate): the service worker (web/public/sw.js) and the signed-in user this device remembers.
import { useEffect, useState } from 'preact/hooks';
import type { User } from './api.ts';

const REMEMBERED_USER = 'tm.offline.user';

/** Remembers who is signed in on this device, for opening these pages when `/api/me` cannot be reached. */
export function rememberUser(user: User) {
  localStorage.setItem(REMEMBERED_USER, JSON.stringify(user));
}

export function rememberedUser(): User | null {
  try {
    return JSON.parse(localStorage.getItem(REMEMBERED_USER) ?? 'null') as User | null;
  } catch {
    return null;
  }
}

/** Signing out forgets the user and everything kept for them (their saved tickets). */
export function forgetUser() {
  localStorage.removeItem(REMEMBERED_USER);
  for (let i = localStorage.length - 1; i >= 0; i--) {
    const key = localStorage.key(i);
    if (key?.startsWith('tm.tickets.')) localStorage.removeItem(key);
  }
}

/** The service worker's store (web/public/sw.js names it too). */
const PAGE_CACHE = 'ticketmax-pages-v1';

/**
 * Registers the service worker and stores the files this page was built from (loaded before the
 * worker could see them), so the page opens again on this device without a connection. Only the
 * pages needed where the network fails — the door's check-in, a buyer's tickets — call this. True
 * once done; false where the browser has no service workers.
 */
export function useOfflinePage() {
  const [ready, setReady] = useState(false);
  useEffect(() => {
    if (!('serviceWorker' in navigator) || !('caches' in window)) return;
    let live = true;
    void (async () => {
      try {
        await navigator.serviceWorker.register('/sw.js');
        const assets = performance
          .getEntriesByType('resource')
          .map((entry) => new URL(entry.name))
          .filter((url) => url.origin === location.origin && url.pathname.startsWith('/assets/'))
          .map((url) => url.pathname);
        const cache = await caches.open(PAGE_CACHE);
        await cache.addAll([...new Set(assets)]);
        const page = await fetch('/', { headers: { accept: 'text/html' } });
        if (page.ok) await cache.put('/index.html', page);
        if (live) setReady(true);
      } catch {
        // Not this time (no connection, or storage refused): the page still works while open.
      }
    })();
    return () => {
      live = false;
    };
  }, []);
  return ready;
}
