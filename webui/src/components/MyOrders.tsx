// "My orders" in the usage panel: the user's orders page by page (me.orders), each with its status;
// a pending order that has not expired yet can be reopened in the buy dialog to finish paying.

import { api } from '../api';
import { formatDateTime, t } from '../i18n';
import { channelLabel, yuan } from '../pay';
import type { Order } from '../types';
import { usePages } from '../use-pages';

const PAGE = 20;

interface Props {
  fail: (err: unknown) => string;
  onReopen: (order: Order) => void;
}

export function MyOrders({ fail, onReopen }: Props) {
  const { items, cursor, loading, loaded, error, more } = usePages<Order>(api.myOrders, PAGE, fail);

  const now = Date.now() / 1000;
  return (
    <div class="usage">
      {error && <p class="form-error" role="alert" data-testid="orders-error">{error}</p>}
      {loaded && items.length === 0 && <p class="hint" data-testid="orders-empty">{t('orders.empty')}</p>}
      {items.length > 0 && (
        <ol class="ledger" data-testid="orders-list">
          {items.map((o) => {
            // A pending order past its time is as good as closed; the server closes it within a minute.
            const status = o.status === 'pending' && o.expires_at <= now ? 'expired' : o.status;
            return (
              <li key={o.order_no} class="ledger-row" data-testid="order-item" data-order-no={o.order_no} data-status={o.status}>
                <div class="ledger-what">
                  <span class="ledger-reason">{o.plan.name}</span>
                  <span class="hint">
                    <time dateTime={new Date(o.created_at * 1000).toISOString()}>{formatDateTime(o.created_at)}</time>
                    {' · '}
                    {channelLabel(o.channel)}
                  </span>
                </div>
                <div class="ledger-change order-side">
                  <span class="order-amount">{yuan(o.amount_cents)}</span>
                  <span class={`badge badge-${status}`} data-testid="order-status" data-status={status}>
                    {t(`orders.status.${status}`)}
                  </span>
                  {status === 'pending' && (
                    <button type="button" class="btn btn-primary order-reopen" onClick={() => onReopen(o)} data-testid="order-reopen">
                      {t('orders.continue')}
                    </button>
                  )}
                </div>
              </li>
            );
          })}
        </ol>
      )}
      {loading && <p class="hint" aria-busy="true">{t('usage.loading')}</p>}
      {!loading && cursor !== null && (
        <div class="ledger-more">
          <button type="button" class="btn" onClick={() => void more()} data-testid="orders-more">
            {t('usage.more')}
          </button>
        </div>
      )}
    </div>
  );
}
