// Audit log: every admin change, newest first, page by page: when, who, through which door
// (socket = chatctl, web = this console), the method, its parameters (secrets masked by the
// daemon) and, where recorded, what changed.

import { useEffect } from 'preact/hooks';
import { admin, type AuditItem } from '../api';
import { at } from '../i18n';
import { Badge, ErrorNote, Link, More, TableBox, Time, usePaged } from '../ui';

const PAGE = 50;
const SUMMARY_CHARS = 60;

export function AuditPage() {
  const list = usePaged<AuditItem>((cursor) => admin.audit({ cursor, limit: PAGE }));
  const { items, cursor, loading, error } = list;

  useEffect(() => {
    void list.load(null);
  }, []);

  return (
    <div class="page">
      <div class="page-head">
        <h1>{at('nav.audit')}</h1>
        <button type="button" class="btn" disabled={loading} onClick={() => void list.load(null)} data-testid="audit-refresh">
          {at('common.refresh')}
        </button>
      </div>
      <ErrorNote text={error} />
      <TableBox label={at('nav.audit')} testid="audit-table">
        <thead>
          <tr>
            <th>{at('audit.at')}</th>
            <th>{at('audit.actor')}</th>
            <th>{at('audit.via')}</th>
            <th>{at('audit.method')}</th>
            <th>{at('audit.params')}</th>
            <th>{at('audit.changes')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((a, i) => (
            <tr key={i} data-testid="audit-row" data-method={a.method} data-via={a.via} data-actor={a.actor}>
              <td><Time at={a.at} /></td>
              <td><Actor actor={a.actor} /></td>
              <td>
                <Badge kind={a.via === 'web' ? 'web' : 'socket'}>{a.via === 'web' ? at('audit.web') : a.via === 'socket' ? at('audit.socket') : a.via}</Badge>
                {a.address && <span class="muted small block">{a.address}</span>}
              </td>
              <td><code>{a.method}</code></td>
              <td class="json-cell"><JsonDetails value={a.params} testid="audit-params" /></td>
              <td class="json-cell"><Changes before={a.before} after={a.after} /></td>
            </tr>
          ))}
        </tbody>
      </TableBox>
      {!loading && items.length === 0 && !error && <p class="muted">{at('common.nothing')}</p>}
      <More cursor={cursor} loading={loading} onMore={() => void list.load(cursor)} testid="audit-more" />
    </div>
  );
}

/** `user:3 boss` → a link to that user; `socket` (chatctl on the server) as it is. */
function Actor({ actor }: { actor: string }) {
  const m = /^user:(\d+)\s*(.*)$/.exec(actor);
  if (!m) return <span>{actor === 'socket' ? at('audit.socketActor') : actor}</span>;
  return <Link href={`/admin/users/${m[1]}`}>{m[2] || `#${m[1]}`}</Link>;
}

function compact(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
  return text.length > SUMMARY_CHARS ? `${text.slice(0, SUMMARY_CHARS - 1)}…` : text;
}

function pretty(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2) ?? '';
}

function JsonDetails({ value, testid }: { value: unknown; testid?: string }) {
  if (value === undefined || value === null || (typeof value === 'object' && Object.keys(value).length === 0)) {
    return <span class="muted">—</span>;
  }
  return (
    <details class="json" data-testid={testid}>
      <summary><code>{compact(value)}</code></summary>
      <pre>{pretty(value)}</pre>
    </details>
  );
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown) => (v === undefined ? '∅' : v === '' ? at('audit.empty') : compact(v));

/**
 * What a change did: for an update only the keys whose values differ (`key: before → after`);
 * something created or removed is listed with its values.
 */
function Changes({ before, after }: { before: unknown; after: unknown }) {
  const had = before !== undefined && before !== null;
  const has = after !== undefined && after !== null;
  if (!had && !has) return <span class="muted">—</span>;
  if (had !== has && isRecord(had ? before : after)) {
    const record = (had ? before : after) as Record<string, unknown>;
    return (
      <div data-testid="audit-diff" data-kind={had ? 'removed' : 'created'}>
        <span class="diff-label">{had ? at('audit.removed') : at('audit.created')}</span>
        <ul class="diff">
          {Object.entries(record).map(([key, value]) => (
            <li key={key} data-key={key}>
              <code class="diff-key">{key}</code>
              {had ? <del>{show(value)}</del> : <ins>{show(value)}</ins>}
            </li>
          ))}
        </ul>
      </div>
    );
  }
  let rows: [string, unknown, unknown][];
  if (isRecord(before) && isRecord(after)) {
    rows = [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]))
      .map((key) => [key, before[key], after[key]]);
  } else {
    rows = JSON.stringify(before) === JSON.stringify(after) ? [] : [['', before, after]];
  }
  if (rows.length === 0) return <span class="muted">{at('audit.noChange')}</span>;
  return (
    <ul class="diff" data-testid="audit-diff" data-kind="changed">
      {rows.map(([key, b, a]) => (
        <li key={key} data-key={key}>
          {key && <code class="diff-key">{key}</code>}
          <del>{show(b)}</del>
          <span aria-hidden="true"> → </span>
          <ins>{show(a)}</ins>
        </li>
      ))}
    </ul>
  );
}
