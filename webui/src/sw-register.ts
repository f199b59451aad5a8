// Registers /sw.js (the app-shell cache that makes the app installable) in production builds, on
// https or a loopback address — the only places a browser allows a service worker anyway.

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  if (location.protocol !== 'https:' && !LOOPBACK.has(location.hostname)) return;
  // The console under /admin is for operators; it needs no offline shell.
  if (/^\/admin(\/|$)/.test(location.pathname)) return;
  const register = () => {
    // This module is bundled into the hashed main script: its name changes with every build.
    const build = new URL(import.meta.url).pathname.split('/').pop() ?? '';
    navigator.serviceWorker.register(`/sw.js?v=${encodeURIComponent(build)}`, { scope: '/', updateViaCache: 'none' }).catch(() => {
      // Without it the app still works, only not offline.
    });
  };
  if (document.readyState === 'complete') register();
  else addEventListener('load', register, { once: true });
}
