// The service worker of the pages that must open without a connection, registered by them only
// (the door's check-in page, a buyer's tickets): a device opens them again while the venue's
// connection is down. Pages come from the network first and fall back to the last copy; the
// hashed files under /assets/ never change, so a stored one is served as it is. The API is never
// stored here: what those pages show offline they keep themselves (web/src/staff/offline.ts,
// web/src/pages/tickets.tsx).
const CACHE = 'ticketmax-pages-v1';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  if (url.pathname.startsWith('/assets/')) {
    event.respondWith(
      caches.open(CACHE).then(async (cache) => {
        const stored = await cache.match(request);
        if (stored) return stored;
        const response = await fetch(request);
        if (response.ok) await cache.put(request, response.clone());
        return response;
      }),
    );
  } else if (request.mode === 'navigate') {
    event.respondWith(
      fetch(request)
        .then(async (response) => {
          if (response.ok) await (await caches.open(CACHE)).put('/index.html', response.clone());
          return response;
        })
        .catch(async () => (await caches.match('/index.html')) ?? Response.error()),
    );
  }
});
