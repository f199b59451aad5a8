// Users: search (id, WeChat openid, username or name), page by page; one user's balance and
// ledger, grant or deduct credits, ban and unban, and links to their conversations and orders.

import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { formatDate, t, tDynamic } from '../../i18n';
import type { Balance } from '../../types';
import { admin, type AdminUser, type AdminUserDetail } from '../api';
import { at } from '../i18n';
import type { Route } from '../router';
import { Badge, ErrorNote, Link, More, OkNote, Section, TableBox, Time, useFail, usePaged, wholeNumber } from '../ui';

const PAGE = 50;
const SEARCH_DELAY_MS = 300;

export function UsersPage({ route }: { route: Route }) {
  const id = wholeNumber(route.rest[0] ?? '');
  return id !== null ? <UserDetail id={id} /> : <UserList />;
}

function BalanceText({ balance }: { balance: Balance }) {
  return (
    <span class="nowrap">
      {at('users.trialN', { n: balance.trial })} · {at('users.paidN', { n: balance.paid })}
      {balance.paid > 0 && balance.paid_expires_at !== null && (
        <span class="muted"> ({formatDate(balance.paid_expires_at)})</span>
      )}
    </span>
  );
}

function UserList() {
  const [query, setQuery] = useState(new URLSearchParams(location.search).get('q') ?? '');
  const [search, setSearch] = useState(query.trim());
  const list = usePaged<AdminUser>((cursor) => admin.users({ query: search, cursor, limit: PAGE }));
  const { items, cursor, loading, error } = list;

  useEffect(() => {
    const timer = setTimeout(() => setSearch(query.trim()), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [query]);

  useEffect(() => {
    // Keep the search in the address, so going back to the list finds it again.
    history.replaceState(null, '', search ? `/admin/users?q=${encodeURIComponent(search)}` : '/admin/users');
    void list.load(null);
  }, [search]);

  return (
    <div class="page">
      <div class="page-head">
        <h1>{at('nav.users')}</h1>
      </div>
      <form class="toolbar-row" role="search" onSubmit={(e) => { e.preventDefault(); setSearch(query.trim()); }}>
        <label class="grow">
          <span class="sr-only">{at('users.search')}</span>
          <input
            type="search"
            class="input"
            value={query}
            placeholder={at('users.searchPlaceholder')}
            onInput={(e) => setQuery(e.currentTarget.value)}
            data-testid="users-search"
          />
        </label>
        <button type="submit" class="btn">{at('common.search')}</button>
      </form>
      <ErrorNote text={error} />
      <TableBox label={at('nav.users')} testid="users-table">
        <thead>
          <tr>
            <th class="num">ID</th>
            <th>{at('users.name')}</th>
            <th>{at('users.balance')}</th>
            <th>{at('users.state')}</th>
            <th>{at('common.created')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((u) => (
            <tr key={u.id} data-testid="user-row" data-id={u.id}>
              <td class="num">{u.id}</td>
              <td class="wrap">
                <Link href={`/admin/users/${u.id}`} data-testid="user-open">{u.name || u.username || `#${u.id}`}</Link>
                {u.username && u.username !== u.name && <span class="muted"> @{u.username}</span>}
                {u.is_admin && <Badge kind="admin">{at('users.admin')}</Badge>}
              </td>
              <td><BalanceText balance={u.balance} /></td>
              <td>{u.banned ? <Badge kind="banned">{at('users.banned')}</Badge> : <span class="muted">{at('users.normal')}</span>}</td>
              <td><Time at={u.created_at} /></td>
            </tr>
          ))}
        </tbody>
      </TableBox>
      {!loading && items.length === 0 && !error && <p class="muted" data-testid="users-empty">{at('common.nothing')}</p>}
      <More cursor={cursor} loading={loading} onMore={() => void list.load(cursor)} testid="users-more" />
    </div>
  );
}

function UserDetail({ id }: { id: number }) {
  const [user, setUser] = useState<AdminUserDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const fail = useFail();

  const load = async () => {
    try {
      setUser(await admin.user(id));
      setError(null);
    } catch (err) {
      setError(fail(err));
    }
  };

  useEffect(() => {
    setUser(null);
    setNotice(null);
    void load();
  }, [id]);

  const toggleBan = async () => {
    if (!user) return;
    const name = user.name || `#${user.id}`;
    if (!confirm(at(user.banned ? 'users.unbanConfirm' : 'users.banConfirm', { name }))) return;
    try {
      await (user.banned ? admin.unban(user.id) : admin.ban(user.id));
      setNotice(at(user.banned ? 'users.unbanned' : 'users.bannedNow'));
      await load();
    } catch (err) {
      setError(fail(err));
    }
  };

  const toggleApi = async () => {
    if (!user) return;
    try {
      await admin.setApi(user.id, !user.api_enabled);
      setNotice(at(user.api_enabled ? 'users.apiSwitchedOff' : 'users.apiSwitchedOn'));
      await load();
    } catch (err) {
      setError(fail(err));
    }
  };

  return (
    <div class="page">
      <div class="page-head">
        <Link href="/admin/users" class="btn btn-quiet" data-testid="user-back">← {at('nav.users')}</Link>
      </div>
      <ErrorNote text={error} testid="user-error" />
      {user && (
        <div class="detail" data-testid="user-detail" data-id={user.id}>
          <Section
            title={`${user.name || user.username || ''} #${user.id}`}
            actions={
              <>
                <Link href={`/admin/logs?user=${user.id}`} class="btn" data-testid="user-conversations">
                  {at('users.conversations')}
                </Link>
                <Link href={`/admin/orders?user=${user.id}`} class="btn" data-testid="user-orders">
                  {at('users.orders')}
                </Link>
                <button
                  type="button"
                  class={user.banned ? 'btn' : 'btn btn-danger'}
                  onClick={() => void toggleBan()}
                  data-testid={user.banned ? 'user-unban' : 'user-ban'}
                >
                  {user.banned ? at('users.unban') : at('users.ban')}
                </button>
              </>
            }
          >
            <OkNote text={notice} testid="user-notice" />
            <dl class="facts">
              <Fact label={at('users.state')}>
                {user.banned ? <Badge kind="banned" testid="user-banned">{at('users.banned')}</Badge> : at('users.normal')}
                {user.is_admin && <Badge kind="admin">{at('users.admin')}</Badge>}
              </Fact>
              {user.username && <Fact label={t('login.username')}>{user.username}</Fact>}
              <Fact label={at('common.created')}><Time at={user.created_at} /></Fact>
              {user.invited_by !== null && (
                <Fact label={at('users.invitedBy')}>
                  <Link href={`/admin/users/${user.invited_by}`}>#{user.invited_by}</Link>
                </Fact>
              )}
              <Fact label={at('users.api')}>
                <span data-testid="user-api" data-enabled={String(user.api_enabled)}>
                  {at(user.api_enabled ? 'users.apiOn' : 'users.apiOff')}
                </span>{' '}
                <button type="button" class="btn btn-small" onClick={() => void toggleApi()} data-testid="user-api-toggle">
                  {at(user.api_enabled ? 'users.apiTurnOff' : 'users.apiTurnOn')}
                </button>
                {user.api_keys.length > 0 && (
                  <ul class="plain-list" data-testid="user-api-keys">
                    {user.api_keys.map((k) => (
                      <li key={k.id} data-testid="user-api-key">
                        <code>{k.masked}</code> {k.name}
                        <span class="muted">
                          {' · '}
                          {k.last_used_at ? <Time at={k.last_used_at} /> : at('users.apiNeverUsed')}
                        </span>
                      </li>
                    ))}
                  </ul>
                )}
              </Fact>
              {user.wechat && (
                <>
                  <Fact label="WeChat openid"><code class="break" data-testid="user-openid">{user.wechat.openid}</code></Fact>
                  {user.wechat.unionid && <Fact label="unionid"><code class="break">{user.wechat.unionid}</code></Fact>}
                </>
              )}
            </dl>
            <dl class="balance-summary" data-testid="user-balance" data-trial={user.balance.trial} data-paid={user.balance.paid}>
              <div>
                <dt>{t('account.trial')}</dt>
                <dd><strong>{user.balance.trial}</strong></dd>
              </div>
              <div>
                <dt>{t('account.paid')}</dt>
                <dd>
                  <strong>{user.balance.paid}</strong>
                  <span class="hint">
                    {user.balance.paid_expires_at !== null
                      ? t('account.paidUntil', { date: formatDate(user.balance.paid_expires_at) })
                      : user.paid_credits > 0
                        ? at('users.paidExpired', { n: user.paid_credits })
                        : t('account.paidNone')}
                  </span>
                </dd>
              </div>
            </dl>
          </Section>
          <GrantForm user={user} onDone={(balance) => { setUser({ ...user, balance }); void load(); }} />
          <Section title={at('users.ledger')}>
            <TableBox label={at('users.ledger')} testid="user-ledger">
              <thead>
                <tr>
                  <th>{t('usage.when')}</th>
                  <th>{t('usage.what')}</th>
                  <th class="num">{at('users.deltaTrial')}</th>
                  <th class="num">{at('users.deltaPaid')}</th>
                  <th>{at('users.ref')}</th>
                </tr>
              </thead>
              <tbody>
                {user.ledger.map((l, i) => (
                  <tr key={i} data-testid="ledger-row" data-reason={l.reason}>
                    <td><Time at={l.at} /></td>
                    <td>{tDynamic(`reason.${l.reason}`, l.reason)}</td>
                    <td class="num"><Delta n={l.delta_trial} /></td>
                    <td class="num"><Delta n={l.delta_paid} /></td>
                    <td class="wrap muted">{l.ref ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </TableBox>
          </Section>
        </div>
      )}
    </div>
  );
}

function Fact({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function Delta({ n }: { n: number }) {
  if (n === 0) return <span class="muted">0</span>;
  return <span class={n > 0 ? 'delta-plus' : 'delta-minus'}>{n > 0 ? `+${n}` : n}</span>;
}

function GrantForm({ user, onDone }: { user: AdminUserDetail; onDone: (balance: Balance) => void }) {
  const [questions, setQuestions] = useState('');
  const [days, setDays] = useState('');
  const [bucket, setBucket] = useState<'paid' | 'trial'>('trial');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const fail = useFail();

  const submit = async (e: Event) => {
    e.preventDefault();
    const n = wholeNumber(questions);
    const d = days.trim() ? wholeNumber(days) : undefined;
    if (n === null || n === 0) {
      setError(at('grant.badQuestions'));
      return;
    }
    if (d === null || (d !== undefined && d < 1)) {
      setError(at('grant.badDays'));
      return;
    }
    if (n < 0 && !confirm(at('grant.deductConfirm', { n: -n, name: user.name || `#${user.id}` }))) return;
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const { balance } = await admin.grant({ id: user.id, questions: n, days: bucket === 'paid' ? d : undefined, bucket });
      setResult(at(n > 0 ? 'grant.granted' : 'grant.deducted', { n: Math.abs(n), trial: balance.trial, paid: balance.paid }));
      setQuestions('');
      setDays('');
      onDone(balance);
    } catch (err) {
      setError(fail(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section title={at('grant.title')}>
      <form class="form-grid" onSubmit={submit} noValidate data-testid="grant-form">
        <label class="field">
          <span>{at('grant.questions')}</span>
          <input type="number" step="1" inputMode="numeric" value={questions} onInput={(e) => setQuestions(e.currentTarget.value)} data-testid="grant-questions" />
        </label>
        <label class="field">
          <span>{at('grant.bucket')}</span>
          <select value={bucket} onChange={(e) => setBucket(e.currentTarget.value as 'paid' | 'trial')} data-testid="grant-bucket">
            <option value="trial">{t('account.trial')}</option>
            <option value="paid">{t('account.paid')}</option>
          </select>
        </label>
        {bucket === 'paid' && (
          <label class="field">
            <span>{at('grant.days')}</span>
            <input type="number" min="1" step="1" inputMode="numeric" value={days} onInput={(e) => setDays(e.currentTarget.value)} data-testid="grant-days" />
          </label>
        )}
        <div class="form-actions align-end">
          <button type="submit" class="btn btn-primary" disabled={busy} data-testid="grant-submit">{at('grant.submit')}</button>
        </div>
        <p class="hint full">{bucket === 'paid' ? at('grant.hintPaid') : at('grant.hintTrial')}</p>
        <div class="full">
          <ErrorNote text={error} testid="grant-error" />
          <OkNote text={result} testid="grant-result" />
        </div>
      </form>
    </Section>
  );
}
