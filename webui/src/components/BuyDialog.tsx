// The buy dialog (CONTRACT.md §11): pick a plan and a way to pay, then the QR code drawn here with
// the amount and a countdown while pay.order is asked every 2 s; paid → the new balance, expired →
// try again. A phone cannot scan its own screen: there it gets a link that opens the aggregator's
// cashier or the Alipay app where the channel gives one, and plain words where it does not
// (WeChat Pay Native can only be scanned).

import { useEffect, useRef, useState } from 'preact/hooks';
import { api, RpcError } from '../api';
import { currentLang, formatDate, reasonText, t } from '../i18n';
import { channelLabel, usePhone, walletOf, yuan } from '../pay';
import { qrDataUrl } from '../qr';
import type { Balance, Order, PayChannel, PayOrder, PayPlans, Plan } from '../types';
import { Modal } from './Modal';

const POLL_MS = 2000;
/** After the countdown ends the server may still say pending until its minute job closes the order. */
const GRACE_S = 90;

/** The order on screen: pay.create's answer, or a pending order reopened from "my orders". */
interface Paying {
  order_no: string;
  amount_cents: number;
  qr_url?: string | null;
  pay_url?: string | null;
  expires_at: number;
  channel: PayChannel;
  plan: { id: number | null; name: string; questions: number; days: number };
}

type Stage =
  | { kind: 'choose' }
  | { kind: 'paying'; order: Paying }
  | { kind: 'paid'; order: Paying; balance?: Balance }
  | { kind: 'closed'; order: Paying };

interface Failure {
  reason: string;
  text: string;
}

interface Props {
  shop: PayPlans;
  reopen?: Order;
  onBalance: (balance: Balance) => void;
  onClose: () => void;
  onUnauthorized: () => void;
}

export function BuyDialog({ shop, reopen, onBalance, onClose, onUnauthorized }: Props) {
  const [stage, setStage] = useState<Stage>(reopen ? { kind: 'paying', order: reopen } : { kind: 'choose' });
  const [planId, setPlanId] = useState(reopen?.plan.id ?? shop.items[0]?.id);
  const [channel, setChannel] = useState<PayChannel>(reopen?.channel ?? shop.channels[0]);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Failure | null>(null);

  const failureOf = (err: unknown): Failure => {
    const reason = err instanceof RpcError ? err.reason : 'network';
    if (reason === 'unauthorized') onUnauthorized();
    // Here "too many requests" means too many unpaid orders, not clicking too fast.
    const text = reason === 'too_many_requests' ? t('error.too_many_requests.pay') : reasonText(reason, err instanceof RpcError ? err.message : undefined);
    return { reason, text };
  };

  const create = async (plan: Plan, how: PayChannel) => {
    setBusy(true);
    setFailure(null);
    try {
      const created = await api.payCreate(plan.id, how);
      setStage({ kind: 'paying', order: { ...created, channel: how, plan } });
    } catch (err) {
      setFailure(failureOf(err));
      setStage({ kind: 'choose' });
    } finally {
      setBusy(false);
    }
  };

  const retry = (order: Paying) => {
    const plan = shop.items.find((p) => p.id === order.plan.id);
    if (plan && shop.channels.includes(order.channel)) void create(plan, order.channel);
    else setStage({ kind: 'choose' });
  };

  const paid = (order: Paying, answer: PayOrder) => {
    if (answer.balance) onBalance(answer.balance);
    setStage({ kind: 'paid', order, balance: answer.balance });
  };

  const orderNo = stage.kind === 'choose' ? undefined : stage.order.order_no;
  return (
    <Modal title={t('pay.title')} closeLabel={t('pay.close')} onClose={onClose} testid="buy-dialog" data={{ stage: stage.kind, 'order-no': orderNo }}>
      {stage.kind === 'choose' && (
        <Choose
          shop={shop}
          planId={planId}
          channel={channel}
          busy={busy}
          failure={failure}
          onPlan={setPlanId}
          onChannel={setChannel}
          onSubmit={(plan) => void create(plan, channel)}
        />
      )}
      {stage.kind === 'paying' && (
        <PayingView
          key={stage.order.order_no}
          order={stage.order}
          onPaid={(answer) => paid(stage.order, answer)}
          onClosed={() => setStage({ kind: 'closed', order: stage.order })}
          onBack={() => setStage({ kind: 'choose' })}
          onUnauthorized={onUnauthorized}
        />
      )}
      {stage.kind === 'paid' && <PaidView order={stage.order} balance={stage.balance} onDone={onClose} />}
      {stage.kind === 'closed' && (
        <div class="pay-end" data-testid="pay-expired">
          <p class="form-error" role="alert">{t('pay.expired')}</p>
          {failure && <p class="form-error" role="alert" data-testid="pay-error" data-reason={failure.reason}>{failure.text}</p>}
          <button type="button" class="btn btn-primary btn-block" disabled={busy} onClick={() => retry(stage.order)} data-testid="pay-retry">
            {busy ? t('pay.creating') : t('pay.retry')}
          </button>
        </div>
      )}
    </Modal>
  );
}

interface ChooseProps {
  shop: PayPlans;
  planId: number | undefined;
  channel: PayChannel;
  busy: boolean;
  failure: Failure | null;
  onPlan: (id: number) => void;
  onChannel: (channel: PayChannel) => void;
  onSubmit: (plan: Plan) => void;
}

function Choose({ shop, planId, channel, busy, failure, onPlan, onChannel, onSubmit }: ChooseProps) {
  const plan = shop.items.find((p) => p.id === planId) ?? shop.items[0];
  return (
    <form class="pay-choose" onSubmit={(e) => { e.preventDefault(); if (plan && !busy) onSubmit(plan); }}>
      <fieldset class="pay-group">
        <legend>{t('pay.plans')}</legend>
        <div class="plan-grid">
          {shop.items.map((p) => (
            <label key={p.id} class={p.id === plan?.id ? 'plan-card selected' : 'plan-card'} data-testid="plan-card" data-plan-id={p.id}>
              <input type="radio" name="plan" class="sr-only" checked={p.id === plan?.id} onChange={() => onPlan(p.id)} data-autofocus={p.id === plan?.id ? '' : undefined} />
              <span class="plan-name">{p.name}</span>
              <span class="plan-price">{yuan(p.price_cents)}</span>
              <span class="hint">{t('pay.planQuestions', { n: p.questions })}</span>
              <span class="hint">{t('pay.planDays', { n: p.days })}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <fieldset class="pay-group">
        <legend>{t('pay.channels')}</legend>
        <div class="channel-row">
          {shop.channels.map((c) => (
            <label key={c} class={`channel-choice wallet-${walletOf(c)}${c === channel ? ' selected' : ''}`} data-testid="pay-channel" data-channel={c}>
              <input type="radio" name="channel" class="sr-only" checked={c === channel} onChange={() => onChannel(c)} />
              <span class="wallet-dot" aria-hidden="true" />
              {channelLabel(c, shop.channels)}
            </label>
          ))}
        </div>
      </fieldset>
      {failure && <p class="form-error" role="alert" data-testid="pay-error" data-reason={failure.reason}>{failure.text}</p>}
      <button type="submit" class="btn btn-primary btn-block" disabled={busy || !plan} aria-busy={busy} data-testid="pay-submit">
        {busy ? t('pay.creating') : t('pay.submit', { amount: plan ? yuan(plan.price_cents) : '' })}
      </button>
      <p class="hint">{t('pay.note')}</p>
    </form>
  );
}

interface PayingProps {
  order: Paying;
  onPaid: (answer: PayOrder) => void;
  onClosed: () => void;
  onBack: () => void;
  onUnauthorized: () => void;
}

function PayingView({ order, onPaid, onClosed, onBack, onUnauthorized }: PayingProps) {
  const phone = usePhone();
  const [src, setSrc] = useState<string | null>(null);
  const [drawFailed, setDrawFailed] = useState(false);
  const [left, setLeft] = useState(() => secondsUntil(order.expires_at));
  const [trouble, setTrouble] = useState(false);

  useEffect(() => {
    if (!order.qr_url) return;
    qrDataUrl(order.qr_url).then(setSrc, () => setDrawFailed(true));
  }, [order.qr_url]);

  useEffect(() => {
    const timer = setInterval(() => setLeft(secondsUntil(order.expires_at)), 1000);
    return () => clearInterval(timer);
  }, [order.expires_at]);

  // Ask while the dialog is open and the page is seen; a hidden tab asks again the moment it is
  // shown (the buyer comes back from the wallet app).
  useEffect(() => {
    let live = true;
    let inFlight = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const schedule = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => void ask(), ms);
    };
    const ask = async () => {
      if (!live || inFlight || document.hidden) return;
      inFlight = true;
      try {
        const answer = await api.payOrder(order.order_no);
        if (!live) return;
        setTrouble(false);
        if (answer.status === 'paid') return onPaid(answer);
        if (answer.status === 'closed' || secondsUntil(order.expires_at) < -GRACE_S) return onClosed();
      } catch (err) {
        if (!live) return;
        if (err instanceof RpcError && err.reason === 'unauthorized') return onUnauthorized();
        setTrouble(true);
      } finally {
        inFlight = false;
      }
      schedule(POLL_MS);
    };
    const onVisibility = () => {
      if (document.hidden) clearTimeout(timer);
      else schedule(0);
    };
    document.addEventListener('visibilitychange', onVisibility);
    schedule(POLL_MS);
    return () => {
      live = false;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [order.order_no]);

  const wallet = walletOf(order.channel);
  const alipayLink = (url?: string | null) => /^https:\/\/qr\.alipay\.com\//i.test(url ?? '');
  // Alipay's QR link opens the Alipay app on a phone; epay may give its cashier page instead.
  const openUrl = order.pay_url || (wallet === 'alipay' && alipayLink(order.qr_url) ? order.qr_url : null);
  const cashier = order.channel.startsWith('epay_') && !!order.pay_url && !alipayLink(order.pay_url);
  const expired = left <= 0;

  return (
    <div class="pay-qr-view">
      <p class="pay-amount">
        <span class="hint">{order.plan.name} · {t('pay.amount')}</span>
        <strong data-testid="pay-amount" data-cents={order.amount_cents}>{yuan(order.amount_cents)}</strong>
      </p>
      {phone && openUrl && (
        <a class="btn btn-primary btn-block" href={openUrl} target="_blank" rel="noopener noreferrer" data-testid="pay-open">
          {alipayLink(openUrl) ? t('pay.openAlipay') : t('pay.openPayUrl')}
        </a>
      )}
      {phone && !openUrl && wallet === 'wechat' && (
        <p class="pay-phone-note" role="note" data-testid="pay-phone-note">{t('pay.phoneWechat')}</p>
      )}
      {order.qr_url && (
        <div class={expired ? 'qr qr-dimmed' : 'qr'}>
          {src && <img src={src} alt={t('pay.qrAlt')} data-testid="pay-qr" data-url={order.qr_url} />}
          {drawFailed && <p class="qr-note">{t('pay.qrFailed')}</p>}
        </div>
      )}
      {!(phone && !openUrl && wallet === 'wechat') && (
        <p class="hint pay-scan">
          {phone && openUrl ? t('pay.phoneAfter') : t(wallet === 'wechat' ? 'pay.scanWechat' : 'pay.scanAlipay')}
        </p>
      )}
      {!phone && cashier && (
        <a class="btn-link pay-desktop-link" href={order.pay_url ?? undefined} target="_blank" rel="noopener noreferrer" data-testid="pay-open">
          {t('pay.openPayUrlDesktop')}
        </a>
      )}
      <p class="pay-status" role="status" data-testid="pay-status" data-status={expired ? 'expiring' : 'pending'}>
        <span data-testid="pay-countdown" data-left={Math.max(0, left)}>
          {expired ? t('pay.confirming') : t('pay.countdown', { time: clock(left) })}
        </span>
        {trouble && <span class="hint"> {t('pay.checkFailed')}</span>}
      </p>
      <p class="hint pay-order-no">{t('pay.orderNo', { no: order.order_no })}</p>
      <button type="button" class="btn btn-quiet" onClick={onBack} data-testid="pay-back">{t('pay.back')}</button>
    </div>
  );
}

function PaidView({ order, balance, onDone }: { order: Paying; balance?: Balance; onDone: () => void }) {
  const done = useRef<HTMLButtonElement>(null);
  // The view that had the focus is gone: keep it inside the dialog.
  useEffect(() => done.current?.focus(), []);
  return (
    <div class="pay-end" data-testid="pay-success">
      <p class="pay-check" aria-hidden="true">✓</p>
      <p class="form-ok" role="status">{paidText(order, balance)}</p>
      <button type="button" class="btn btn-primary btn-block" onClick={onDone} ref={done} data-testid="pay-done">{t('pay.done')}</button>
    </div>
  );
}

function paidText(order: Paying, balance?: Balance): string {
  const parts = [t('pay.paid'), t('pay.paidCredits', { n: order.plan.questions })];
  if (balance) parts.push(t('pay.paidBalance', { paid: balance.paid }));
  if (balance?.paid_expires_at != null) parts.push(t('pay.paidUntil', { date: formatDate(balance.paid_expires_at) }));
  // Chinese sentences run on after their full stops; English ones take a space.
  return parts.join(currentLang() === 'en' ? ' ' : '');
}

function secondsUntil(at: number): number {
  return Math.floor(at - Date.now() / 1000);
}

/** Seconds as m:ss. */
function clock(seconds: number): string {
  const s = Math.max(0, seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
