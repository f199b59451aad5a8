// Console addresses: /admin (the dashboard), /admin/<page>, /admin/<page>/<id>, with the history
// API like the chat's /c/{id}. chatd serves index.html for all of them.

import { useEffect, useState } from 'preact/hooks';

export const PAGES = ['dashboard', 'users', 'logs', 'keys', 'cards', 'plans', 'orders', 'settings', 'audit'] as const;
export type PageId = (typeof PAGES)[number];

export interface Route {
  page: PageId;
  /** Path parts after the page: an id, a sub-section. */
  rest: string[];
  query: URLSearchParams;
}

export function isAdminPath(pathname: string): boolean {
  return /^\/admin(\/|$)/.test(pathname);
}

export function pageHref(page: PageId): string {
  return page === 'dashboard' ? '/admin' : `/admin/${page}`;
}

function currentRoute(): Route {
  const parts = location.pathname.replace(/^\/admin\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const page = (PAGES as readonly string[]).includes(parts[0]) ? (parts[0] as PageId) : 'dashboard';
  return { page, rest: page === parts[0] ? parts.slice(1) : [], query: new URLSearchParams(location.search) };
}

/** Goes to another console address without reloading. */
export function navigate(href: string, replace = false): void {
  if (href === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const follow = () => setRoute(currentRoute());
    addEventListener('popstate', follow);
    return () => removeEventListener('popstate', follow);
  }, []);
  return route;
}
