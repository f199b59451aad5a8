// History: the user's conversations, newest first with pinned ones on top, loaded page by page as
// the list scrolls; search (debounced); rename in place, delete (confirmed), pin.

import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, RpcError } from '../api';
import { reasonText, t } from '../i18n';
import type { ConversationSummary } from '../types';

interface Props {
  activeId: number | null;
  /** Changes whenever the list should be fetched again (a conversation was created or changed). */
  refreshKey: number;
  open: boolean;
  onSelect: (id: number) => void;
  onNewChat: () => void;
  onDeleted: (id: number) => void;
  onClose: () => void;
  onUnauthorized: () => void;
  /** Shown under the list (account links). */
  footer?: ComponentChildren;
}

const PAGE = 30;
const SEARCH_DELAY_MS = 300;

export function Sidebar({ activeId, refreshKey, open, onSelect, onNewChat, onDeleted, onClose, onUnauthorized, footer }: Props) {
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

  return (
    <aside class={open ? 'sidebar open' : 'sidebar'} aria-label={t('side.title')} data-testid="sidebar">
      <div class="sidebar-top">
        <button type="button" class="btn btn-block" onClick={onNewChat} data-testid="sidebar-new-chat">
          + {t('header.newChat')}
        </button>
        <button type="button" class="icon-btn sidebar-close" aria-label={t('side.close')} onClick={onClose}>
          ×
        </button>
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
          {items.map((c) => (
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
                  data-testid="history-title"
                >
                  {c.pinned && <span class="pin-mark" aria-label={t('side.pinned')}>★ </span>}
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
                  {c.pinned ? '★' : '☆'}
                </button>
                <button
                  type="button"
                  class="icon-btn"
                  title={t('side.rename')}
                  aria-label={t('side.rename')}
                  onClick={() => setRenaming(c.id)}
                  data-testid="history-rename"
                >
                  ✎
                </button>
                <button
                  type="button"
                  class="icon-btn"
                  title={t('side.delete')}
                  aria-label={t('side.delete')}
                  onClick={() => void remove(c)}
                  data-testid="history-delete"
                >
                  ✕
                </button>
              </span>
            </li>
          ))}
          {cursor !== null && (
            <li ref={sentinel} class="history-more">
              <button type="button" class="btn-link" disabled={loading} onClick={() => void fetchPage(cursor, search)} data-testid="history-more">
                {loading ? t('side.loading') : t('side.loadMore')}
              </button>
            </li>
          )}
        </ul>
      </nav>
      {footer && <div class="sidebar-foot">{footer}</div>}
    </aside>
  );
}
