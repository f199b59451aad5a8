// History: the user's conversations, newest first with pinned ones on top, grouped by the
// visitor's local day (today, yesterday, …), loaded page by page as the list scrolls; search
// (debounced); rename in place, delete (confirmed), pin.

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, RpcError } from '../api';
import { formatDateTime, reasonText, t, type MessageKey } from '../i18n';
import type { ConversationSummary } from '../types';
import { CloseIcon, EditIcon, PinIcon, TrashIcon } from './chat-ui/Icons';
import { IconButton } from './chat-ui/IconButton';

interface Props {
  activeId: number | null;
  /** Changes whenever the list should be fetched again (a conversation was created or changed). */
  refreshKey: number;
  open: boolean;
  onSelect: (id: number) => void;
  onDeleted: (id: number) => void;
  onClose: () => void;
  onUnauthorized: () => void;
}

const PAGE = 30;
const SEARCH_DELAY_MS = 300;
const DAY_MS = 86_400_000;

/** The heading a conversation falls under: pinned, or how many local days ago it last changed. */
function groupOf(c: ConversationSummary, today: number): MessageKey {
  if (c.pinned) return 'side.groupPinned';
  const d = new Date(c.updated_at * 1000);
  const days = Math.round((today - new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime()) / DAY_MS);
  if (days <= 0) return 'side.groupToday';
  if (days === 1) return 'side.groupYesterday';
  if (days < 7) return 'side.groupWeek';
  if (days < 30) return 'side.groupMonth';
  return 'side.groupEarlier';
}

export function Sidebar({ activeId, refreshKey, open, onSelect, onDeleted, onClose, onUnauthorized }: Props) {
  const [items, setItems] = useState<ConversationSummary[]>([]);
  const [cursor, setCursor] = useState<string | number | null>(null);
  const [loading, setLoading] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  const [search, setSearch] = useState('');
  const [renaming, setRenaming] = useState<number | null>(null);
  const request = useRef(0);
  const sentinel = useRef<HTMLLIElement>(null);

  const fail = (err: unknown) => {
    const reason = err instanceof RpcError ? err.reason : 'network';
    if (reason === 'unauthorized') onUnauthorized();
    else setError(reasonText(reason));
  };

  const fetchPage = useCallback(async (from: string | number | null, q: string) => {
    const mine = ++request.current;
    setLoading(true);
    setError(null);
    try {
      const page = await api.listConversations({
        limit: PAGE,
        ...(from !== null ? { cursor: from } : {}),
        ...(q ? { query: q } : {}),
      });
      if (mine !== request.current) return;
      setItems((old) => {
        if (from === null) return page.items;
        const seen = new Set(old.map((c) => c.id));
        return [...old, ...page.items.filter((c) => !seen.has(c.id))];
      });
      setCursor(page.next_cursor ?? null);
      setLoaded(true);
    } catch (err) {
      if (mine === request.current) fail(err);
    } finally {
      if (mine === request.current) setLoading(false);
    }
  }, []);

  // Debounce typing into the search box.
  useEffect(() => {
    const timer = setTimeout(() => setSearch(query.trim()), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [query]);

  useEffect(() => {
    void fetchPage(null, search);
  }, [search, refreshKey]);

  // The next page when the end of the list scrolls into view.
  useEffect(() => {
    const el = sentinel.current;
    if (!el || cursor === null) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !loading) void fetchPage(cursor, search);
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [cursor, loading, search]);

  const rename = async (c: ConversationSummary, title: string) => {
    setRenaming(null);
    title = title.trim();
    if (!title || title === c.title) return;
    setItems((list) => list.map((x) => (x.id === c.id ? { ...x, title } : x)));
    try {
      await api.renameConversation(c.id, title);
    } catch (err) {
      setItems((list) => list.map((x) => (x.id === c.id ? { ...x, title: c.title } : x)));
      fail(err);
    }
  };

  const remove = async (c: ConversationSummary) => {
    if (!confirm(t('side.deleteConfirm', { title: c.title || t('side.untitled') }))) return;
    try {
      await api.deleteConversation(c.id);
      setItems((list) => list.filter((x) => x.id !== c.id));
      onDeleted(c.id);
    } catch (err) {
      fail(err);
    }
  };

  const pin = async (c: ConversationSummary) => {
    try {
      await api.pinConversation(c.id, !c.pinned);
      void fetchPage(null, search);
    } catch (err) {
      fail(err);
    }
  };

  const now = new Date();
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();

  return (
    <aside class={open ? 'sidebar open' : 'sidebar'} aria-label={t('side.title')} data-testid="sidebar">
      <div class="sidebar-top">
        <h2 class="sidebar-title">{t('side.title')}</h2>
        <IconButton class="icon-btn sidebar-close" label={t('side.close')} onClick={onClose}>
          <CloseIcon size={20} />
        </IconButton>
      </div>
      <div class="sidebar-search">
        <label class="sr-only" for="history-search">{t('side.search')}</label>
        <input
          id="history-search"
          type="search"
          value={query}
          placeholder={t('side.searchPlaceholder')}
          onInput={(e) => setQuery(e.currentTarget.value)}
          data-testid="history-search"
        />
      </div>
      <nav class="history" aria-label={t('side.title')}>
        {error && <p class="history-note history-error" role="alert">{error}</p>}
        {loaded && items.length === 0 && !loading && (
          <p class="history-note" data-testid="history-empty">{search ? t('side.noResults') : t('side.empty')}</p>
        )}
        <ul class="history-list" data-testid="history-list">
          {items.map((c, i) => {
            const group = groupOf(c, today);
            const heading = i === 0 || groupOf(items[i - 1], today) !== group;
            return [
            heading && (
              <li key={`g-${c.id}`} class="history-group" aria-hidden="true">
                {t(group)}
              </li>
            ),
            <li
              key={c.id}
              class={c.id === activeId ? 'conv active' : 'conv'}
              data-testid="history-item"
              data-id={c.id}
              data-pinned={c.pinned ? 'true' : 'false'}
            >
              {renaming === c.id ? (
                <input
                  class="conv-rename"
                  aria-label={t('side.renameLabel')}
                  defaultValue={c.title}
                  ref={(el) => {
                    if (el && document.activeElement !== el) {
                      el.focus();
                      el.select();
                    }
                  }}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter') {
                      e.preventDefault();
                      void rename(c, e.currentTarget.value);
                    } else if (e.key === 'Escape') {
                      setRenaming(null);
                    }
                  }}
                  onBlur={(e) => void rename(c, e.currentTarget.value)}
                  data-testid="history-rename-input"
                />
              ) : (
                <a
                  class="conv-title"
                  href={`/c/${c.id}`}
                  aria-current={c.id === activeId ? 'page' : undefined}
                  onClick={(e) => {
                    if (e.ctrlKey || e.metaKey || e.shiftKey) return;
                    e.preventDefault();
                    onSelect(c.id);
                  }}
                  title={`${c.title || t('side.untitled')}\n${formatDateTime(c.updated_at)}`}
                  data-testid="history-title"
                >
                  {c.pinned && <span class="sr-only">{t('side.pinned')}: </span>}
                  {c.source === 'api' && (
                    <span class="badge badge-api" title={t('side.apiKey', { name: c.api_key_name ?? '' })} data-testid="history-api">
                      API
                    </span>
                  )}
                  {c.title || t('side.untitled')}
                </a>
              )}
              <span class="conv-actions">
                <button
                  type="button"
                  class="icon-btn"
                  title={c.pinned ? t('side.unpin') : t('side.pin')}
                  aria-label={c.pinned ? t('side.unpin') : t('side.pin')}
                  onClick={() => void pin(c)}
                  data-testid="history-pin"
                >
                  <PinIcon size={15} filled={c.pinned} />
                </button>
                <IconButton class="icon-btn" label={t('side.rename')} onClick={() => setRenaming(c.id)} testid="history-rename">
                  <EditIcon size={15} />
                </IconButton>
                <IconButton class="icon-btn" label={t('side.delete')} onClick={() => void remove(c)} testid="history-delete">
                  <TrashIcon size={15} />
                </IconButton>
              </span>
            </li>,
            ];
          })}
          {cursor !== null && (
            <li ref={sentinel} class="history-more">
              <button type="button" class="btn-link" disabled={loading} onClick={() => void fetchPage(cursor, search)} data-testid="history-more">
                {loading ? t('side.loading') : t('side.loadMore')}
              </button>
            </li>
          )}
        </ul>
      </nav>
    </aside>
  );
}
