// Small building blocks the console pages share.

import { createContext, type AnchorHTMLAttributes, type ComponentChildren } from 'preact';
import { useContext, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { RpcError } from '../api';
import { formatDateTime, reasonText, t } from '../i18n';
import type { Page } from './api';
import type { Tone } from './charts';
import { at } from './i18n';
import { navigate } from './router';

/** Lets any page hand a lost session back to the console (which shows the login form). */
export const SessionLost = createContext<() => void>(() => {});

/** Turns a failed call into words; a lost session goes back to the login form. */
export function useFail(): (err: unknown) => string {
  const lost = useContext(SessionLost);
  return (err) => {
    const reason = err instanceof RpcError ? err.reason : 'network';
    if (reason === 'unauthorized' || reason === 'forbidden') lost();
    return reasonText(reason, err instanceof RpcError ? err.message : undefined);
  };
}

/** A link inside the console: a plain click moves without reloading; modified clicks open normally. */
export function Link({ href, children, ...rest }: AnchorHTMLAttributes & { href: string; 'data-testid'?: string }) {
  const onClick = (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}

export function Time({ at }: { at: number | null | undefined }) {
  if (!at) return <span class="muted">—</span>;
  return <time dateTime={new Date(at * 1000).toISOString()}>{formatDateTime(at)}</time>;
}

export function Badge({ kind, children, testid }: { kind: string; children: ComponentChildren; testid?: string }) {
  return (
    <span class={`badge badge-${kind}`} data-testid={testid} data-status={kind}>
      {children}
    </span>
  );
}

export function ErrorNote({ text, testid }: { text: string | null; testid?: string }) {
  if (!text) return null;
  return (
    <p class="form-error" role="alert" data-testid={testid}>
      {text}
    </p>
  );
}

export function OkNote({ text, testid }: { text: string | null; testid?: string }) {
  if (!text) return null;
  return (
    <p class="form-ok" role="status" data-testid={testid}>
      {text}
    </p>
  );
}

/**
 * A table that never widens the page: on phones each row becomes a card whose cells are labelled
 * with their column's heading (copied into data-label for the CSS); wider screens scroll it
 * sideways inside its own box when it does not fit.
 */
export function TableBox({ children, label, testid }: { children: ComponentChildren; label: string; testid?: string }) {
  const table = useRef<HTMLTableElement>(null);
  useLayoutEffect(() => {
    const el = table.current;
    if (!el) return;
    const headings = [...el.querySelectorAll('thead th')].map((th) => th.textContent ?? '');
    for (const row of el.querySelectorAll('tbody tr')) {
      [...row.children].forEach((cell, i) => cell.setAttribute('data-label', headings[i] ?? ''));
    }
  });
  return (
    <div class="table-box" role="region" aria-label={label} tabIndex={0}>
      <table class="adm-table" ref={table} data-testid={testid}>
        {children}
      </table>
    </div>
  );
}

export function Section({ title, children, actions, testid }: { title: string; children: ComponentChildren; actions?: ComponentChildren; testid?: string }) {
  return (
    <section class="panel" data-testid={testid}>
      <div class="panel-head">
        <h2>{title}</h2>
        {actions && <div class="panel-actions">{actions}</div>}
      </div>
      {children}
    </section>
  );
}

/** Reads an integer from a form field; null when it is empty or not a whole number. */
export function wholeNumber(text: string): number | null {
  const trimmed = text.trim();
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : null;
}

/** "Load more" under a paged list, or a loading line while a page is on its way. */
export function More({ cursor, loading, onMore, testid }: { cursor: string | null; loading: boolean; onMore: () => void; testid: string }) {
  if (loading) return <p class="muted center">{t('app.loading')}</p>;
  if (cursor === null) return null;
  return (
    <div class="center">
      <button type="button" class="btn" onClick={onMore} data-testid={testid}>
        {at('common.more')}
      </button>
    </div>
  );
}

/**
 * A list read page by page. `fetchPage` asks for the page after `cursor` with the caller's current
 * filters; an answer to a request that a newer one has overtaken is dropped.
 */
export function usePaged<T>(fetchPage: (cursor?: string) => Promise<Page<T>>) {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const request = useRef(0);
  const latest = useRef(fetchPage);
  latest.current = fetchPage;
  const fail = useFail();

  /** The first page (`from` null) replaces the list; later ones are appended. */
  const load = async (from: string | null) => {
    const mine = ++request.current;
    setLoading(true);
    setError(null);
    try {
      const page = await latest.current(from ?? undefined);
      if (mine !== request.current) return;
      setItems((old) => (from === null ? page.items : [...old, ...page.items]));
      setCursor(page.next_cursor);
    } catch (err) {
      if (mine === request.current) setError(fail(err));
    } finally {
      if (mine === request.current) setLoading(false);
    }
  };

  return { items, cursor, loading, error, setError, load };
}

/** Runs a change to a list, reports it and reloads the list; resolves true when it worked. */
export type RunChange = (change: () => Promise<unknown>, done: string) => Promise<boolean>;

/** A short list edited in place (models, roles, presets): loaded once, reloaded after each change. */
export function useList<T>(fetch: () => Promise<{ items: T[] }>) {
  const [items, setItems] = useState<T[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const fail = useFail();
  const reload = () => fetch().then((r) => setItems(r.items), (err) => setError(fail(err)));
  useEffect(() => {
    void reload();
  }, []);
  const run: RunChange = async (change, done) => {
    setError(null);
    setMessage(null);
    try {
      await change();
      setMessage(done);
      await reload();
      return true;
    } catch (err) {
      setError(fail(err));
      return false;
    }
  };
  return { items, error, message, run };
}

interface TileProps {
  id: string;
  label: string;
  /** The machine value (also in data-value for tests and scripts). */
  value: number | string;
  /** What to show, when it differs from the value. */
  shown?: string;
  sub?: string;
  tone?: Tone;
}

/** A figure on the dashboard: `stat-<id>` with the machine value in data-value. */
export function Tile({ id, label, value, shown, sub, tone }: TileProps) {
  return (
    <div class={tone ? `tile tile-${tone}` : 'tile'} data-testid={`stat-${id}`} data-value={value}>
      <span class="tile-label">{label}</span>
      <strong class="tile-value">{shown ?? (typeof value === 'number' ? value.toLocaleString() : value)}</strong>
      {sub && <span class="tile-sub">{sub}</span>}
    </div>
  );
}
