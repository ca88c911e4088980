// The service worker of the pages that must open without a connection, registered by them only
// (the door's check-in page, a buyer's tickets): a device opens them again while the venue's
// connection is down. Pages come from the network first and fall back to the last copy; the
// hashed files under /assets/ never change, so a stored one is served as it is. The API is never
// stored here: what those pages show offline they keep themselves (web/src/staff/offline.ts,
// web/src/pages/tickets.tsx). When a new build is deployed, the first page opened with a
// connection forgets the files of the builds before it.
const CACHE = 'ticketmax-pages-v1';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) =>
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith('ticketmax-pages-') && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  ),
);

/**
 * Keeps `response` as the page's last copy. When it is another build's page than the one kept,
 * the stored /assets/ files it does not name go: the new build's own, named by its scripts rather
 * than by the page (the chunk of a page opened later), are stored again as the page asks for them.
 * Done before the page is answered, so nothing the new page fetches is lost.
 */
async function keepPage(response) {
  const cache = await caches.open(CACHE);
  const html = await response.clone().text();
  const kept = await cache.match('/index.html');
  if (!kept || (await kept.text()) !== html) {
    for (const stored of await cache.keys()) {
      const path = new URL(stored.url).pathname;
      if (path.startsWith('/assets/') && !html.includes(path)) await cache.delete(stored);
    }
  }
  await cache.put('/index.html', response);
}

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
          if (response.ok) await keepPage(response.clone());
          return response;
        })
        .catch(async () => (await caches.match('/index.html')) ?? Response.error()),
    );
  }
});
