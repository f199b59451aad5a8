// Logs: every user's conversations, filtered by user id and text (titles and messages), and one
// conversation read like the chat shows it: the branch its current_leaf_id points to.

import { useEffect, useState } from 'preact/hooks';
import { Markdown } from '../../components/Markdown';
import { Reasoning } from '../../components/Reasoning';
import { t } from '../../i18n';
import type { StoredMessage } from '../../types';
import { copyText } from '../../util';
import { admin, type AdminConversation, type AdminConversationSummary } from '../api';
import { at } from '../i18n';
import { navigate, type Route } from '../router';
import { Badge, ErrorNote, Link, More, TableBox, Time, useFail, usePaged, wholeNumber } from '../ui';

const PAGE = 50;

export function LogsPage({ route }: { route: Route }) {
  const id = wholeNumber(route.rest[0] ?? '');
  return id !== null ? <LogView id={id} /> : <LogList route={route} />;
}

function listHref(user: string, query: string): string {
  const params = new URLSearchParams();
  if (user) params.set('user', user);
  if (query) params.set('q', query);
  const search = params.toString();
  return search ? `/admin/logs?${search}` : '/admin/logs';
}

function LogList({ route }: { route: Route }) {
  const user = route.query.get('user') ?? '';
  const query = route.query.get('q') ?? '';
  const [userField, setUserField] = useState(user);
  const [queryField, setQueryField] = useState(query);
  const list = usePaged<AdminConversationSummary>((cursor) =>
    admin.conversations({ user_id: wholeNumber(user) ?? undefined, query, cursor, limit: PAGE }),
  );
  const { items, cursor, loading, error } = list;

  // The filter lives in the address: search, back and forward all go through it.
  useEffect(() => {
    setUserField(user);
    setQueryField(query);
    void list.load(null);
  }, [user, query]);

  const submit = (e: Event) => {
    e.preventDefault();
    const id = userField.trim();
    if (id && wholeNumber(id) === null) {
      list.setError(at('logs.badUser'));
      return;
    }
    const href = listHref(id, queryField.trim());
    // The same filter again means "refresh".
    if (href === location.pathname + location.search) void list.load(null);
    else navigate(href);
  };

  return (
    <div class="page">
      <div class="page-head">
        <h1>{at('nav.logs')}</h1>
      </div>
      <form class="toolbar-row" role="search" onSubmit={submit} data-testid="logs-filter">
        <label class="field narrow">
          <span>{at('logs.userId')}</span>
          <input inputMode="numeric" value={userField} onInput={(e) => setUserField(e.currentTarget.value)} data-testid="logs-user" />
        </label>
        <label class="field grow">
          <span>{at('logs.text')}</span>
          <input type="search" value={queryField} onInput={(e) => setQueryField(e.currentTarget.value)} data-testid="logs-query" />
        </label>
        <button type="submit" class="btn btn-primary align-end" data-testid="logs-search">{at('common.search')}</button>
      </form>
      <ErrorNote text={error} />
      <TableBox label={at('nav.logs')} testid="logs-table">
        <thead>
          <tr>
            <th class="num">ID</th>
            <th>{at('logs.title')}</th>
            <th>{at('logs.user')}</th>
            <th>{at('logs.model')}</th>
            <th>{at('logs.updated')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((c) => (
            <tr key={c.id} data-testid="log-row" data-id={c.id} data-deleted={c.deleted_at !== null}>
              <td class="num">{c.id}</td>
              <td class="wrap">
                <Link href={`/admin/logs/${c.id}`} data-testid="log-open">{c.title || t('side.untitled')}</Link>
                {c.deleted_at !== null && <Badge kind="deleted">{at('logs.deleted')}</Badge>}
              </td>
              <td class="wrap">
                <Link href={`/admin/users/${c.user_id}`}>{c.user_name || `#${c.user_id}`}</Link>
                <span class="muted"> #{c.user_id}</span>
              </td>
              <td>{c.model}</td>
              <td><Time at={c.updated_at} /></td>
            </tr>
          ))}
        </tbody>
      </TableBox>
      {!loading && items.length === 0 && !error && <p class="muted" data-testid="logs-empty">{at('common.nothing')}</p>}
      <More cursor={cursor} loading={loading} onMore={() => void list.load(cursor)} testid="logs-more" />
    </div>
  );
}

/** The path from the root to `leaf` (or to the newest message when there is no leaf). */
function shownBranch(messages: StoredMessage[], leaf: number | null): StoredMessage[] {
  const byId = new Map(messages.map((m) => [m.id, m]));
  let id: number | null = leaf ?? messages.reduce<number | null>((newest, m) => (newest === null || m.id > newest ? m.id : newest), null);
  const out: StoredMessage[] = [];
  const seen = new Set<number>();
  while (id !== null && !seen.has(id)) {
    seen.add(id);
    const m = byId.get(id);
    if (!m) break;
    out.push(m);
    id = m.parent_id;
  }
  return out.reverse();
}

function LogView({ id }: { id: number }) {
  const [conversation, setConversation] = useState<AdminConversation | null>(null);
  const [error, setError] = useState<string | null>(null);
  const fail = useFail();

  useEffect(() => {
    setConversation(null);
    setError(null);
    admin.conversation(id).then(setConversation, (err) => setError(fail(err)));
  }, [id]);

  // Copy buttons inside rendered code blocks (the markdown HTML is not made of components).
  const onClick = (e: MouseEvent) => {
    const button = (e.target as Element).closest?.('.code-copy');
    const code = button?.closest('.code-block')?.querySelector('pre code');
    if (code) void copyText(code.textContent ?? '');
  };

  const branch = conversation ? shownBranch(conversation.messages, conversation.current_leaf_id) : [];
  const hidden = conversation ? conversation.messages.length - branch.length : 0;

  return (
    <div class="page">
      <div class="page-head">
        <Link href={conversation ? listHref(String(conversation.user_id), '') : '/admin/logs'} class="btn btn-quiet" data-testid="log-back">
          ← {at('nav.logs')}
        </Link>
      </div>
      <ErrorNote text={error} />
      {conversation && (
        <article class="log" data-testid="log-view" data-id={conversation.id} data-deleted={conversation.deleted_at !== null}>
          <header class="panel log-head">
            <h1 class="log-title">
              {conversation.title || t('side.untitled')}
              {conversation.deleted_at !== null && (
                <Badge kind="deleted" testid="log-deleted">{at('logs.deleted')} · <Time at={conversation.deleted_at} /></Badge>
              )}
            </h1>
            <p class="muted small">
              <Link href={`/admin/users/${conversation.user_id}`} data-testid="log-user">
                {conversation.user_name || `#${conversation.user_id}`} #{conversation.user_id}
              </Link>
              {' · '}
              {conversation.model}
              {' · '}
              <Time at={conversation.created_at} />
            </p>
            {conversation.system_prompt && (
              <details class="log-system">
                <summary>{at('logs.systemPrompt')}</summary>
                <p class="text">{conversation.system_prompt}</p>
              </details>
            )}
            {hidden > 0 && <p class="hint" data-testid="log-branches">{at('logs.otherBranches', { n: hidden })}</p>}
          </header>
          <ol class="message-list log-messages" onClick={onClick}>
            {branch.map((m) => (
              <li key={m.id} class={`msg msg-${m.role}`}>
                <div class="bubble" data-testid="log-message" data-role={m.role} data-status={m.status} data-id={m.id}>
                  <span class="sr-only">{m.role === 'user' ? at('logs.userSaid') : t('chat.assistant')}: </span>
                  {m.role === 'assistant' && m.reasoning ? <Reasoning id={m.id} text={m.reasoning} ms={m.reasoning_ms} thinking={false} /> : null}
                  {m.role === 'assistant' ? <Markdown text={m.content} streaming={false} /> : <div class="text">{m.content}</div>}
                </div>
                <p class={m.status === 'failed' ? 'msg-note msg-note-error' : 'msg-note'}>
                  <Time at={m.created_at} />
                  {m.model ? ` · ${m.model}` : ''}
                  {m.asked_by_admin ? ` · ${at('logs.askedByAdmin')}` : ''}
                  {m.status !== 'done' ? ` · ${at(`status.${m.status}`)}` : ''}
                  {m.error ? ` · ${m.error.reason}: ${m.error.message}` : ''}
                </p>
              </li>
            ))}
          </ol>
          {branch.length === 0 && <p class="muted">{at('logs.noMessages')}</p>}
        </article>
      )}
    </div>
  );
}
