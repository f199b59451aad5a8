// One order in a drawer over the orders list (admin.orders.get): what was bought, by whom, through
// which channel, and every notification and query the daemon recorded for it, refusals included,
// so an operator can answer "I paid but got nothing" without reading logs. A pending order can be
// asked about at the channel at once (admin.orders.sync) instead of waiting for the minute job.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { admin, type OrderDetail, type OrderEvent } from '../api';
import { at, atDynamic } from '../i18n';
import { channelName, OrderBadge, verdictText, verdictTone } from '../pay-labels';
import { ErrorNote, Link, OkNote, Time, useFail } from '../ui';
import { formatYuan } from '../yuan';

interface Props {
  orderNo: string;
  onClose: () => void;
  /** The order changed (a query found it paid or closed): the list behind should show that too. */
  onChanged: () => void;
}

export function OrderDrawer({ orderNo, onClose, onChanged }: Props) {
  const [order, setOrder] = useState<OrderDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<{ status: string; text: string } | null>(null);
  const [syncing, setSyncing] = useState(false);
  const panel = useRef<HTMLDivElement>(null);
  const fail = useFail();

  const load = () => admin.order(orderNo).then(setOrder, (err) => setError(fail(err)));

  useEffect(() => {
    setOrder(null);
    setError(null);
    setResult(null);
    void load();
  }, [orderNo]);

  // Focus moves into the drawer, Esc closes it, Tab stays inside while it is open.
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    panel.current?.querySelector<HTMLElement>('[data-testid="order-close"]')?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
      if (e.key !== 'Tab' || !panel.current) return;
      const focusable = panel.current.querySelectorAll<HTMLElement>('a[href], button:not(:disabled)');
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    };
    addEventListener('keydown', onKey);
    return () => {
      removeEventListener('keydown', onKey);
      opener?.focus?.();
    };
  }, []);

  const sync = async () => {
    setSyncing(true);
    setError(null);
    setResult(null);
    try {
      const fresh = await admin.syncOrder(orderNo);
      const key = fresh.status === 'paid' ? 'order.syncPaid' : fresh.status === 'closed' ? 'order.syncClosed' : 'order.syncPending';
      setResult({ status: fresh.status, text: at(key) });
      await load();
      if (fresh.status !== 'pending') onChanged();
    } catch (err) {
      setError(fail(err));
    } finally {
      setSyncing(false);
    }
  };

  return (
    <div class="drawer-scrim" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div
        class="drawer"
        role="dialog"
        aria-modal="true"
        aria-labelledby="order-title"
        ref={panel}
        data-testid="order-detail"
        data-order-no={orderNo}
        data-status={order?.status}
      >
        <div class="drawer-head">
          <h2 id="order-title">{at('order.title')}</h2>
          <button type="button" class="icon-btn" aria-label={at('order.close')} onClick={onClose} data-testid="order-close">
            ×
          </button>
        </div>
        <div class="drawer-body">
          <ErrorNote text={error} testid="order-error" />
          {order && (
            <>
              <div class="order-summary">
                <code class="order-no break" data-testid="order-detail-no">{order.order_no}</code>
                <OrderBadge status={order.status} testid="order-detail-status" />
                <strong class="order-amount" data-testid="order-detail-amount" data-cents={order.amount_cents}>
                  {formatYuan(order.amount_cents)}
                </strong>
              </div>
              {order.status === 'pending' && (
                <div class="order-sync">
                  <button type="button" class="btn btn-primary" disabled={syncing} onClick={() => void sync()} data-testid="order-sync">
                    {syncing ? at('common.working') : at('order.sync')}
                  </button>
                  <span class="hint">{at('order.syncHint')}</span>
                </div>
              )}
              {result && (
                <div data-testid="order-sync-result" data-status={result.status}>
                  <OkNote text={result.text} />
                </div>
              )}
              <dl class="facts order-facts">
                <Fact label={at('orders.channel')}>{channelName(order.channel)}</Fact>
                <Fact label={at('orders.plan')}>
                  {order.plan.name}
                  <span class="muted block small">{at('cards.perCardValue', { q: order.plan.questions, d: order.plan.days })}</span>
                </Fact>
                <Fact label={at('orders.user')}>
                  <Link href={`/admin/users/${order.user_id}`} data-testid="order-detail-user">#{order.user_id}</Link>
                </Fact>
                <Fact label={at('order.tradeNo')}>
                  {order.trade_no ? <code class="break" data-testid="order-trade-no">{order.trade_no}</code> : <span class="muted">—</span>}
                </Fact>
                <Fact label={at('common.created')}><Time at={order.created_at} /></Fact>
                {order.status === 'pending' && <Fact label={at('order.expiresAt')}><Time at={order.expires_at} /></Fact>}
                {order.paid_at !== null && <Fact label={at('orders.paidAt')}><Time at={order.paid_at} /></Fact>}
                {order.closed_at !== null && <Fact label={at('order.closedAt')}><Time at={order.closed_at} /></Fact>}
                {(order.pay_url || order.qr_url) && (
                  <Fact label={at('order.payLink')} wide>
                    <code class="break small">{order.pay_url || order.qr_url}</code>
                  </Fact>
                )}
              </dl>
              <section class="order-events-box" aria-labelledby="order-events-title">
                <h3 id="order-events-title">{at('order.events')}</h3>
                {order.events.length === 0 && <p class="muted" data-testid="order-no-events">{at('order.noEvents')}</p>}
                <ol class="order-events">
                  {order.events.map((e, i) => <EventItem key={i} event={e} />)}
                </ol>
              </section>
            </>
          )}
        </div>
      </div>
    </div>
  );
}

function EventItem({ event }: { event: OrderEvent }) {
  return (
    <li class="order-event" data-testid="order-event" data-source={event.source} data-verdict={event.verdict}>
      <div class="order-event-head">
        <Time at={event.at} />
        <span class="order-event-source">{atDynamic(`source.${event.source}`, event.source)}</span>
        <span class={`badge badge-${verdictTone(event.verdict)}`} title={event.verdict} data-testid="order-event-verdict">
          {verdictText(event.verdict)}
        </span>
      </div>
      <dl class="order-event-facts">
        <dt>{at('event.clientIp')}</dt>
        <dd data-testid="order-event-ip">{event.client_ip || '—'}</dd>
        {event.detail && (
          <>
            <dt>{at('event.detail')}</dt>
            <dd class="break" data-testid="order-event-detail">{event.detail}</dd>
          </>
        )}
      </dl>
    </li>
  );
}

function Fact({ label, children, wide }: { label: string; children: ComponentChildren; wide?: boolean }) {
  return (
    <div class={wide ? 'full' : undefined}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}
