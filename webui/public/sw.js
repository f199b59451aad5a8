// The app shell, cached so the installed app opens (and shows its own offline state) without a
// network: the page, the hashed /assets/ files and the icons. Never the API: answers, balances,
// payments and logins always go to the server, and nothing but GETs is ever touched.

// The page registers /sw.js?v=<its main script's hashed name>: every build is a new worker with
// its own cache, and the old caches are dropped on activate.
const VERSION = new URL(self.location.href).searchParams.get('v') || 'unversioned';
const CACHE = `chatd-shell-${VERSION}`;
const PREFIX = 'chatd-shell-';
const SHELL = ['/', '/favicon.svg', '/icon-192.png', '/icon-512.png', '/apple-touch-icon.png', '/theme-boot.js'];
const NEVER = /^\/(?:rpc|api|pay|wechat|admin|healthz|metrics)(?:\/|$)|^\/manifest\.webmanifest$|^\/sw\.js$/;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(SHELL.map((path) => new Request(path, { cache: 'no-cache' })));
      // The page's own scripts and styles, so the first offline start works before any reload.
      const page = await cache.match('/');
      const html = page ? await page.text() : '';
      const assets = [...new Set(html.match(/\/assets\/[\w.-]+/g) ?? [])];
      await cache.addAll(assets);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE).map((n) => caches.delete(n)));
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || NEVER.test(url.pathname)) return;
  if (url.pathname.startsWith('/assets/')) event.respondWith(cacheFirst(request));
  else if (request.mode === 'navigate') event.respondWith(pageNetworkFirst(request));
  else if (SHELL.includes(url.pathname)) event.respondWith(networkFirst(request));
});

/** Hashed files never change: once cached, always served from the cache. */
async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok && response.type === 'basic') await cache.put(request, response.clone());
  return response;
}

/** Every address of the app is the same page: the fresh one when online, else the cached shell. */
async function pageNetworkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    const html = (response.headers.get('Content-Type') ?? '').startsWith('text/html');
    if (response.ok && html) await cache.put('/', response.clone());
    return response;
  } catch (err) {
    const shell = await cache.match('/');
    if (shell) return shell;
    throw err;
  }
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (err) {
    const hit = await cache.match(request);
    if (hit) return hit;
    throw err;
  }
}
