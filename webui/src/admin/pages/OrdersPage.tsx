// Orders: every online payment (admin.orders.list), newest first, filtered by status, user and
// text (order number, the channel's trade number, plan name), page by page. The filter lives in
// the address; /admin/orders/{order_no} opens one order in a drawer over the same list, so closing
// it (or going back) finds the list where it was.

import { useEffect, useState } from 'preact/hooks';
import { admin, ORDER_STATUSES, type Order } from '../api';
import { at } from '../i18n';
import { navigate, type Route } from '../router';
import { channelName, OrderBadge } from '../pay-labels';
import { ErrorNote, Link, More, TableBox, Time, usePaged, wholeNumber } from '../ui';
import { formatYuan } from '../yuan';
import { OrderDrawer } from './OrderDrawer';
import '../payments.css';

const PAGE = 50;

function listHref(filter: { status: string; user: string; query: string }): string {
  const params = new URLSearchParams();
  if (filter.status) params.set('status', filter.status);
  if (filter.user) params.set('user', filter.user);
  if (filter.query) params.set('q', filter.query);
  const search = params.toString();
  return search ? `/admin/orders?${search}` : '/admin/orders';
}

export function OrdersPage({ route }: { route: Route }) {
  const status = route.query.get('status') ?? '';
  const user = route.query.get('user') ?? '';
  const query = route.query.get('q') ?? '';
  const open = route.rest[0] ?? null;
  const [userField, setUserField] = useState(user);
  const [queryField, setQueryField] = useState(query);
  const list = usePaged<Order>((cursor) =>
    admin.orders({ status, user_id: wholeNumber(user) ?? undefined, query, cursor, limit: PAGE }),
  );
  const { items, cursor, loading, error } = list;
  const here = listHref({ status, user, query });

  // The fields follow the address (back, forward, a link with ?user=); a new status alone must
  // not wipe what is being typed into them.
  useEffect(() => {
    setUserField(user);
    setQueryField(query);
  }, [user, query]);
  useEffect(() => {
    void list.load(null);
  }, [status, user, query]);

  const go = (filter: { status: string; user: string; query: string }) => {
    const href = listHref(filter);
    // The same filter again means "refresh".
    if (href === here) void list.load(null);
    else navigate(href);
  };

  const submit = (e: Event) => {
    e.preventDefault();
    const id = userField.trim();
    if (id && wholeNumber(id) === null) {
      list.setError(at('logs.badUser'));
      return;
    }
    go({ status, user: id, query: queryField.trim() });
  };

  return (
    <div class="page">
      <div class="page-head">
        <h1>{at('nav.orders')}</h1>
      </div>
      <form class="toolbar-row orders-filter" role="search" onSubmit={submit} data-testid="orders-filter">
        <label class="field">
          <span>{at('orders.status')}</span>
          <select value={status} onChange={(e) => go({ status: e.currentTarget.value, user, query })} data-testid="orders-status">
            <option value="">{at('orders.allStatuses')}</option>
            {ORDER_STATUSES.map((s) => (
              <option key={s} value={s}>{at(`order.${s}`)}</option>
            ))}
          </select>
        </label>
        <label class="field narrow">
          <span>{at('logs.userId')}</span>
          <input inputMode="numeric" value={userField} onInput={(e) => setUserField(e.currentTarget.value)} data-testid="orders-user" />
        </label>
        <label class="field grow">
          <span>{at('common.search')}</span>
          <input type="search" value={queryField} placeholder={at('orders.query')}
            onInput={(e) => setQueryField(e.currentTarget.value)} data-testid="orders-query" />
        </label>
        <button type="submit" class="btn btn-primary align-end" data-testid="orders-search">{at('common.search')}</button>
      </form>
      <ErrorNote text={error} testid="orders-error" />
      <TableBox label={at('nav.orders')} testid="orders-table">
        <thead>
          <tr>
            <th>{at('orders.orderNo')}</th>
            <th>{at('orders.status')}</th>
            <th class="num">{at('orders.amount')}</th>
            <th>{at('orders.channel')}</th>
            <th>{at('orders.plan')}</th>
            <th>{at('orders.user')}</th>
            <th>{at('common.created')}</th>
            <th>{at('orders.paidAt')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((o) => (
            <tr key={o.order_no} data-testid="order-row" data-order-no={o.order_no} data-status={o.status}
              class={o.order_no === open ? 'row-open' : undefined}>
              <td>
                <Link href={`/admin/orders/${encodeURIComponent(o.order_no)}${location.search}`} class="order-no" data-testid="order-open">
                  {o.order_no}
                </Link>
              </td>
              <td><OrderBadge status={o.status} /></td>
              <td class="num" data-testid="order-amount" data-cents={o.amount_cents}>{formatYuan(o.amount_cents)}</td>
              <td data-testid="order-channel" data-channel={o.channel}>{channelName(o.channel)}</td>
              <td class="wrap">{o.plan.name}</td>
              <td><Link href={`/admin/users/${o.user_id}`} data-testid="order-user">#{o.user_id}</Link></td>
              <td><Time at={o.created_at} /></td>
              <td><Time at={o.paid_at} /></td>
            </tr>
          ))}
        </tbody>
      </TableBox>
      {!loading && items.length === 0 && !error && <p class="muted" data-testid="orders-empty">{at('common.nothing')}</p>}
      <More cursor={cursor} loading={loading} onMore={() => void list.load(cursor)} testid="orders-more" />
      {open && <OrderDrawer orderNo={open} onClose={() => navigate(here)} onChanged={() => void list.load(null)} />}
    </div>
  );
}
