// The account dialog: balance (trial, paid, paid expiry) on top and up to four tabs — redeem a
// recharge card (with the operator's shop for cards), "my usage" (the ledger, page by page, and
// "my orders" when the site sells plans online), when invites earn something, the invite link
// with what it has earned, and, when the site offers its API, the user's API keys.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, RpcError } from '../api';
import { currentLang, formatDate, formatDateTime, reasonText, t, tDynamic } from '../i18n';
import { apiOn, invitesOn, useSite } from '../site';
import type { Balance, InviteInfo, LedgerEntry, Order, SiteInfo } from '../types';
import { copyText } from '../util';
import { usePages } from '../use-pages';
import { ApiKeysPanel } from './ApiKeys';
import { useDialogFocus } from './Modal';
import { MyOrders } from './MyOrders';

export type AccountTab = 'redeem' | 'usage' | 'invite' | 'api';
const TABS: AccountTab[] = ['redeem', 'usage', 'invite', 'api'];
const TAB_LABEL = {
  redeem: 'account.tabRedeem',
  usage: 'account.tabUsage',
  invite: 'account.tabInvite',
  api: 'account.tabApi',
} as const;

interface Props {
  tab: AccountTab;
  balance: Balance;
  onTab: (tab: AccountTab) => void;
  onBalance: (balance: Balance) => void;
  onClose: () => void;
  onUnauthorized: () => void;
  /** Given when plans can be bought online: the way to the buy dialog, with a pending order to finish. */
  onBuy?: (reopen?: Order) => void;
  /** The history should be fetched again (the user chose to show or hide API conversations). */
  onHistoryChanged: () => void;
}

export function AccountDialog({
  tab: askedTab,
  balance,
  onTab,
  onBalance,
  onClose,
  onUnauthorized,
  onBuy,
  onHistoryChanged,
}: Props) {
  const site = useSite();
  const tabs = TABS.filter((id) => (id !== 'invite' || invitesOn(site)) && (id !== 'api' || apiOn(site)));
  const tab = tabs.includes(askedTab) ? askedTab : 'redeem';
  const box = useRef<HTMLDivElement>(null);
  // The focus starts on the selected tab.
  const dialogKeys = useDialogFocus(box, onClose, '[aria-selected="true"]');

  const onKeyDown = (e: KeyboardEvent) => {
    if (dialogKeys(e)) return;
    if ((e.key === 'ArrowRight' || e.key === 'ArrowLeft') && (e.target as Element).getAttribute('role') === 'tab') {
      const next = tabs[(tabs.indexOf(tab) + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
      onTab(next);
      requestAnimationFrame(() => box.current?.querySelector<HTMLElement>(`#account-tab-${next}`)?.focus());
    }
  };

  // The balance may have changed elsewhere (another tab, an invitee's reward): fetch it afresh,
  // with the user's choice about API conversations in the history (the API tab shows it).
  const [showApiHistory, setShowApiHistory] = useState<boolean | null>(null);
  useEffect(() => {
    api.me().then(
      (me) => {
        onBalance(me.balance);
        setShowApiHistory(me.show_api_history === true);
      },
      () => {},
    );
  }, []);

  const fail = (err: unknown): string => {
    const reason = err instanceof RpcError ? err.reason : 'network';
    if (reason === 'unauthorized') onUnauthorized();
    return reasonText(reason, err instanceof RpcError ? err.message : undefined);
  };

  return (
    <div class="modal-scrim" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div
        class="modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby="account-title"
        ref={box}
        onKeyDown={onKeyDown}
        data-testid="account-dialog"
      >
        <div class="modal-head">
          <h2 id="account-title">{t('account.title')}</h2>
          <button type="button" class="icon-btn" aria-label={t('account.close')} onClick={onClose} data-testid="account-close">
            ×
          </button>
        </div>
        <BalanceSummary balance={balance} />
        <div class="tabs" role="tablist" aria-label={t('account.tabs')}>
          {tabs.map((id) => (
            <button
              key={id}
              type="button"
              role="tab"
              id={`account-tab-${id}`}
              class="tab"
              aria-selected={tab === id}
              aria-controls="account-panel"
              tabIndex={tab === id ? 0 : -1}
              onClick={() => onTab(id)}
              data-testid={`tab-${id}`}
            >
              {t(TAB_LABEL[id])}
            </button>
          ))}
        </div>
        <div class="tab-panel" role="tabpanel" id="account-panel" aria-labelledby={`account-tab-${tab}`}>
          {tab === 'redeem' && <RedeemPanel balance={balance} onBalance={onBalance} fail={fail} />}
          {tab === 'redeem' && site?.shop_url && (
            <p class="hint buy-instead" data-testid="redeem-shop-row">
              {t('redeem.noCard')}{' '}
              <a href={site.shop_url} target="_blank" rel="noopener noreferrer" data-testid="redeem-shop">{t('redeem.shop')}</a>
            </p>
          )}
          {tab === 'redeem' && onBuy && (
            <p class="hint buy-instead">
              {t('pay.redeemInstead')}{' '}
              <button type="button" class="btn-link" onClick={() => onBuy()} data-testid="redeem-buy">{t('pay.buyOnline')}</button>
            </p>
          )}
          {tab === 'usage' && (onBuy ? <UsageViews fail={fail} onReopen={onBuy} /> : <UsagePanel fail={fail} />)}
          {tab === 'invite' && <InvitePanel site={site} fail={fail} />}
          {tab === 'api' && (
            <ApiKeysPanel
              fail={fail}
              showApiHistory={showApiHistory}
              onShowApiHistory={setShowApiHistory}
              onHistoryChanged={onHistoryChanged}
            />
          )}
        </div>
      </div>
    </div>
  );
}

function BalanceSummary({ balance }: { balance: Balance }) {
  const paidValid = balance.paid > 0 && balance.paid_expires_at !== null;
  return (
    <dl class="balance-summary" data-testid="account-balance" data-trial={balance.trial} data-paid={balance.paid}>
      <div>
        <dt>{t('account.trial')}</dt>
        <dd>
          <strong>{balance.trial}</strong>
          <span class="hint">{t('account.trialNote')}</span>
        </dd>
      </div>
      <div>
        <dt>{t('account.paid')}</dt>
        <dd>
          <strong>{balance.paid}</strong>
          <span class="hint" data-testid="account-expiry">
            {paidValid ? t('account.paidUntil', { date: formatDate(balance.paid_expires_at!) }) : t('account.paidNone')}
          </span>
        </dd>
      </div>
    </dl>
  );
}

type Outcome = { ok: true; text: string } | { ok: false; reason: string; text: string } | null;

/** Card codes: 16 letters and digits, shown as XXXX-XXXX-XXXX-XXXX; any case, separators optional. */
function normalizeCode(raw: string): string | null {
  const code = raw.replace(/[\s-]+/g, '').toUpperCase();
  return /^[0-9A-Z]{16}$/.test(code) ? code.replace(/(.{4})(?=.)/g, '$1-') : null;
}

function RedeemPanel({ balance, onBalance, fail }: { balance: Balance; onBalance: (b: Balance) => void; fail: (err: unknown) => string }) {
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => input.current?.focus(), []);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    const normalized = normalizeCode(code);
    if (!normalized) {
      setOutcome({ ok: false, reason: 'format', text: t('redeem.format') });
      input.current?.focus();
      return;
    }
    setBusy(true);
    setOutcome(null);
    try {
      const { balance: next } = await api.redeemCard(normalized);
      const now = Date.now() / 1000;
      const before = balance.paid_expires_at !== null && balance.paid_expires_at > now ? balance.paid : 0;
      const added = next.paid - before;
      let text = added > 0 ? t('redeem.success', { n: added }) : t('redeem.success', { n: next.paid });
      if (next.paid_expires_at !== null) text += ` ${t('redeem.successExpiry', { date: formatDate(next.paid_expires_at) })}`;
      onBalance(next);
      setCode('');
      setOutcome({ ok: true, text });
    } catch (err) {
      const reason = err instanceof RpcError ? err.reason : 'network';
      setOutcome({ ok: false, reason, text: fail(err) });
      input.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="redeem" onSubmit={submit} noValidate>
      <label class="field">
        <span>{t('redeem.label')}</span>
        <input
          ref={input}
          value={code}
          placeholder="XXXX-XXXX-XXXX-XXXX"
          autocomplete="off"
          autocapitalize="characters"
          spellcheck={false}
          maxLength={40}
          aria-describedby="redeem-hint"
          onInput={(e) => setCode(e.currentTarget.value)}
          data-testid="redeem-code"
        />
      </label>
      <p id="redeem-hint" class="hint">{t('redeem.hint')}</p>
      {outcome?.ok === true && (
        <p class="form-ok" role="status" data-testid="redeem-success">{outcome.text}</p>
      )}
      {outcome?.ok === false && (
        <p class="form-error" role="alert" data-testid="redeem-error" data-reason={outcome.reason}>{outcome.text}</p>
      )}
      <button type="submit" class="btn btn-primary btn-block" disabled={busy || code.trim() === ''} aria-busy={busy} data-testid="redeem-submit">
        {busy ? t('redeem.busy') : t('redeem.submit')}
      </button>
    </form>
  );
}

const LEDGER_PAGE = 20;

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

function refText(entry: LedgerEntry): string {
  const card = entry.ref ? /^card:([0-9A-Za-z-]+)$/.exec(entry.ref) : null;
  if (card) return t('usage.cardRef', { code: card[1].replace(/-/g, '').slice(-4) });
  const order = entry.ref ? /^order:(\S+)$/.exec(entry.ref) : null;
  return order ? t('usage.orderRef', { no: order[1].slice(-6) }) : '';
}

/** "My usage" with a switch between the ledger and the orders. */
function UsageViews({ fail, onReopen }: { fail: (err: unknown) => string; onReopen: (order: Order) => void }) {
  const [view, setView] = useState<'ledger' | 'orders'>('ledger');
  return (
    <div class="usage">
      <div class="segmented" role="group" aria-label={t('usage.title')}>
        {(['ledger', 'orders'] as const).map((id) => (
          <button key={id} type="button" class="seg" aria-pressed={view === id} onClick={() => setView(id)} data-testid={`usage-view-${id}`}>
            {t(id === 'ledger' ? 'usage.title' : 'orders.title')}
          </button>
        ))}
      </div>
      {view === 'ledger' ? <UsagePanel fail={fail} /> : <MyOrders fail={fail} onReopen={onReopen} />}
    </div>
  );
}

function UsagePanel({ fail }: { fail: (err: unknown) => string }) {
  const { items, cursor, loading, loaded, error, more } = usePages<LedgerEntry>(api.ledger, LEDGER_PAGE, fail);

  return (
    <div class="usage">
      <h3 class="sr-only">{t('usage.title')}</h3>
      {error && <p class="form-error" role="alert" data-testid="ledger-error">{error}</p>}
      {loaded && items.length === 0 && <p class="hint" data-testid="ledger-empty">{t('usage.empty')}</p>}
      {items.length > 0 && (
        <ol class="ledger" data-testid="ledger-list">
          {items.map((entry, i) => (
            <li key={`${entry.at}-${i}`} class="ledger-row" data-testid="ledger-item" data-reason={entry.reason}>
              <div class="ledger-what">
                <span class="ledger-reason">{tDynamic(`reason.${entry.reason}`, entry.reason)}</span>
                <span class="hint">
                  <time dateTime={new Date(entry.at * 1000).toISOString()}>{formatDateTime(entry.at)}</time>
                  {refText(entry) && <span> · {refText(entry)}</span>}
                </span>
              </div>
              <div class="ledger-change">
                {entry.delta_trial !== 0 && (
                  <Delta n={entry.delta_trial}>{t('usage.trial', { n: signed(entry.delta_trial) })}</Delta>
                )}
                {entry.delta_paid !== 0 && (
                  <Delta n={entry.delta_paid}>{t('usage.paid', { n: signed(entry.delta_paid) })}</Delta>
                )}
              </div>
            </li>
          ))}
        </ol>
      )}
      {loading && <p class="hint" aria-busy="true">{t('usage.loading')}</p>}
      {!loading && cursor !== null && (
        <div class="ledger-more">
          <button type="button" class="btn" onClick={() => void more()} data-testid="ledger-more">
            {t('usage.more')}
          </button>
        </div>
      )}
    </div>
  );
}

function Delta({ n, children }: { n: number; children: ComponentChildren }) {
  return <span class={n > 0 ? 'delta delta-plus' : 'delta delta-minus'}>{children}</span>;
}

function InvitePanel({ site, fail }: { site: SiteInfo | null; fail: (err: unknown) => string }) {
  const [info, setInfo] = useState<InviteInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);

  useEffect(() => {
    api.inviteInfo().then(setInfo, (err) => setError(fail(err)));
  }, []);

  const copy = async () => {
    if (!info) return;
    const ok = await copyText(info.link);
    setCopied(ok ? 'yes' : 'failed');
    if (ok) setTimeout(() => setCopied(null), 1500);
  };

  if (error) return <p class="form-error" role="alert" data-testid="invite-error">{error}</p>;
  if (!info) return <p class="hint" aria-busy="true">{t('invite.loading')}</p>;
  return (
    <div class="invite">
      <p class="hint" data-testid="invite-intro">{inviteTerms(site)}</p>
      <label class="field">
        <span>{t('invite.link')}</span>
        <span class="invite-row">
          <input
            readOnly
            value={info.link}
            onFocus={(e) => e.currentTarget.select()}
            data-testid="invite-link"
          />
          <button type="button" class="btn btn-primary" onClick={() => void copy()} data-testid="invite-copy">
            {copied === 'yes' ? t('invite.copied') : t('invite.copy')}
          </button>
        </span>
      </label>
      {copied === 'failed' && <p class="hint" role="status">{t('invite.copyFailed')}</p>}
      <dl class="invite-stats">
        <div>
          <dt>{t('invite.invited')}</dt>
          <dd data-testid="invite-invited" data-n={info.invited}>{t('invite.people', { n: info.invited })}</dd>
        </div>
        <div>
          <dt>{t('invite.rewarded')}</dt>
          <dd data-testid="invite-rewarded" data-n={info.rewarded_questions}>{t('invite.questions', { n: info.rewarded_questions })}</dd>
        </div>
      </dl>
    </div>
  );
}

/** What inviting earns, naming only the rewards the operator has set. */
function inviteTerms(site: SiteInfo | null): string {
  const parts = [t('invite.intro')];
  const signup = site?.referral_signup_reward ?? 0;
  const paid = site?.referral_paid_percent ?? 0;
  if (signup > 0) parts.push(t('invite.introSignup', { n: signup }));
  if (paid > 0) parts.push(t('invite.introPaid', { p: paid }));
  parts.push(t('invite.introNote'));
  return parts.join(currentLang() === 'en' ? ' ' : '');
}
