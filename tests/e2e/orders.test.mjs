// Online payment in the operator's console (CONTRACT.md §11) against a real channel protocol: the
// fake epay aggregator (tests/fakes/fake_epay.py) is configured into a running chatd and reloaded
// with SIGHUP, as an operator would. Plans are added, edited, taken off sale and removed in the
// console (checked with `chatctl --json plans list` and the visitor's pay.plans); a visitor buys
// through pay.create, the fake marks the order paid and notifies chatd; the console's orders page
// lists it as paid, its drawer shows the notification accepted; a second order paid at the
// channel without a notification is credited by "query the channel now"; filters, paging, the
// dashboard's paid revenue, English and dark; screenshots `o*.png` at desktop and phone size.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe } from 'node:test';
import { ApiClient, signUp } from './lib/api.mjs';
import { admin as adm, common } from './lib/selectors.mjs';
import { DESKTOP, PHONE, scenario } from './lib/steps.mjs';
import { REPO_ROOT, waitFor } from './lib/stack.mjs';

const FAKE_EPAY = process.env.FAKE_EPAY_SCRIPT || path.join(REPO_ROOT, 'tests', 'fakes', 'fake_epay.py');
const EPAY = { pid: '1024', key: 'e2eEpayMerchantKey0123456789abcd' };
const ADMIN = { username: 'cashier', password: 'admin passphrase 2026' };
const VISITOR = { username: 'buyer1', password: 'correct horse battery staple' };
const PAGE_SIZE = 50; // the orders page's page

const tid = (id) => `[data-testid="${id}"]`;
const sel = {
  ...common,
  ...adm,
  planRow: (name) => `${tid('plan-row')}:has(${tid('plan-name')}:text-is("${name}"))`,
  orderRow: (no) => `${tid('order-row')}[data-order-no="${no}"]`,
};

/** The fake aggregator, started and stopped by this file (the shared stack knows nothing of it). */
class FakeEpay {
  async start(workdir) {
    const portFile = path.join(workdir, 'epay.port');
    this.logPath = path.join(workdir, 'epay.log');
    const fd = openSync(this.logPath, 'a');
    // Short retry delays: a refused notification is retried within the test, not in a minute.
    this.child = spawn('python3', [FAKE_EPAY, '--listen', '127.0.0.1:0', '--port-file', portFile,
      '--pid', EPAY.pid, '--key', EPAY.key, '--retry-delays', '1,2'], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.exited = new Promise((resolve) => this.child.on('exit', resolve));
    const port = await waitFor(() => existsSync(portFile) && readFileSync(portFile, 'utf8').trim(),
      { what: 'the fake_epay port file' });
    this.url = `http://127.0.0.1:${Number(port)}`;
  }

  /** A test hook (`/_fake/...`, tests/fakes/fake_pay_common.py): JSON in, JSON out. */
  async call(hook, body) {
    const response = await fetch(`${this.url}/_fake/${hook}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const result = await response.json();
    if (!response.ok) throw new Error(`fake_epay /_fake/${hook}: HTTP ${response.status}: ${JSON.stringify(result)}`);
    return result;
  }

  log() {
    return this.logPath && existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8') : '';
  }

  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }
}

describe('chatd console: plans and orders', () => {
  const { ctx, step, shoot, noProblems } = scenario({ prefix: 'o' });
  const epay = new FakeEpay();
  let visitor;
  let visitorId;
  let adminId;
  const plans = {}; // name → id
  const orders = {}; // role → pay.create's answer

  after(() => epay.stop());

  const page = () => ctx.page;
  const attr = (selector, name) => page().locator(selector).first().getAttribute(name);
  const rows = (testid) => page().locator(tid(testid));
  const ctlPlans = async () => (await ctx.stack.ctl(['plans', 'list'])).items;

  async function open(name) {
    const p = page();
    if (await p.locator(sel.menuToggle).isVisible()) await p.locator(sel.menuToggle).click();
    await p.locator(sel.navLink(name)).click();
    await p.locator(sel.page(name)).waitFor();
  }

  /** Clicks something that asks for confirmation and answers it. */
  async function answerConfirm(selector, accept) {
    const p = page();
    const dialog = p.waitForEvent('dialog').then((d) => (accept ? d.accept() : d.dismiss()));
    await p.locator(selector).click();
    await dialog;
  }

  async function fillPlanForm({ name, price, questions, days, sort }) {
    const p = page();
    if (name !== undefined) await p.locator(tid('plan-form-name')).fill(name);
    if (price !== undefined) await p.locator(tid('plan-form-price')).fill(price);
    if (questions !== undefined) await p.locator(tid('plan-form-questions')).fill(String(questions));
    if (days !== undefined) await p.locator(tid('plan-form-days')).fill(String(days));
    if (sort !== undefined) await p.locator(tid('plan-form-sort')).fill(String(sort));
    await p.locator(tid('plan-form-submit')).click();
  }

  /** Shows `locator` at each size (the phone layout moves it) and screenshots it there. */
  async function shootAround(name, locator) {
    const p = page();
    for (const size of [DESKTOP, PHONE]) {
      await p.setViewportSize(size);
      await p.locator(locator).scrollIntoViewIfNeeded();
      await shoot(name, [size]);
    }
    await p.setViewportSize(DESKTOP);
  }

  step('setup: the epay channel configured into the running chatd and reloaded; an admin and a visitor', async () => {
    const { stack } = ctx;
    await epay.start(stack.workdir);
    // public_url must name chatd's own port, which the stack picks when it starts chatd: so the
    // channel is added afterwards, top-level key first, and chatd reloads it on SIGHUP.
    const conf = readFileSync(stack.confPath, 'utf8');
    writeFileSync(stack.confPath, [`public_url = ${stack.url}`, conf, '[pay]', 'order_minutes = 15', '[pay.epay]',
      `pid = ${EPAY.pid}`, `key = ${EPAY.key}`, `api_base = ${epay.url}/`, ''].join('\n'));
    stack.chatd.child.kill('SIGHUP');
    const anonymous = new ApiClient(stack.url);
    await waitFor(async () => (await anonymous.call('pay.plans')).channels.length === 2,
      { timeout: 10_000, what: 'the epay channels after SIGHUP' });
    assert.deepEqual((await anonymous.call('pay.plans')).channels, ['epay_alipay', 'epay_wxpay']);

    adminId = (await stack.ctl(['admin', 'add', ADMIN.username], `${ADMIN.password}\n`)).id;
    visitor = await signUp(stack.url, VISITOR.username, VISITOR.password);
    visitorId = (await visitor.call('me.get')).id;
  });

  step('plans: added in the console (a bad price refused), listed by chatctl', async () => {
    const p = page();
    await p.goto(`${ctx.stack.url}/admin`);
    await p.locator(sel.username).fill(ADMIN.username);
    await p.locator(sel.password).fill(ADMIN.password);
    await p.locator(sel.submit).click();
    await p.locator(sel.page('dashboard')).waitFor();
    await open('plans');
    await p.locator(tid('plans-empty')).waitFor();
    assert.equal(await attr(tid('plans-channels'), 'data-channels'), 'epay_alipay,epay_wxpay');
    assert.match(await p.locator(tid('plans-channels')).innerText(), /易支付 · 支付宝、易支付 · 微信/);

    await fillPlanForm({ name: '月卡', price: '9.999', questions: 100, days: 30 });
    await p.locator(tid('plan-form-error')).waitFor();
    assert.match(await p.locator(tid('plan-form-error')).innerText(), /最多两位小数/);
    assert.deepEqual(await ctlPlans(), [], 'nothing saved');

    await fillPlanForm({ price: '9.9' });
    await waitFor(async () => (await rows('plan-row').count()) === 1, { what: 'the first plan in the table' });
    assert.match(await p.locator(tid('plans-message')).innerText(), /「月卡」已添加/);
    await fillPlanForm({ name: '季卡', price: '25', questions: 300, days: 90, sort: 1 });
    await waitFor(async () => (await rows('plan-row').count()) === 2, { what: 'the second plan' });
    await fillPlanForm({ name: '临时套餐', price: '¥0.5', questions: 1, days: 1, sort: 9 });
    await waitFor(async () => (await rows('plan-row').count()) === 3, { what: 'the third plan' });

    const listed = await ctlPlans();
    for (const plan of listed) plans[plan.name] = plan.id;
    const shape = (plan) => ({ name: plan.name, price_cents: plan.price_cents, questions: plan.questions,
      days: plan.days, enabled: plan.enabled, sort: plan.sort });
    assert.deepEqual(listed.map(shape).sort((a, b) => a.sort - b.sort), [
      { name: '月卡', price_cents: 990, questions: 100, days: 30, enabled: true, sort: 0 },
      { name: '季卡', price_cents: 2500, questions: 300, days: 90, enabled: true, sort: 1 },
      { name: '临时套餐', price_cents: 50, questions: 1, days: 1, enabled: true, sort: 9 },
    ]);
    assert.equal(await attr(`${sel.planRow('月卡')} ${tid('plan-price')}`, 'data-cents'), '990');
    assert.equal((await p.locator(`${sel.planRow('月卡')} ${tid('plan-price')}`).innerText()).trim(), '¥9.90');
  });

  step('plans: one edited, one taken off sale, one removed after confirming; visitors see what is on sale', async () => {
    const p = page();
    await p.locator(`${sel.planRow('季卡')} ${tid('plan-edit')}`).click();
    await waitFor(async () => (await attr(tid('plan-form'), 'data-id')) === String(plans['季卡']), { what: 'the form on 季卡' });
    assert.equal(await p.locator(tid('plan-form-price')).inputValue(), '25.00');
    assert.equal(await p.locator(tid('plan-form-questions')).inputValue(), '300');
    await fillPlanForm({ name: '季卡 Pro', price: '24.5' });
    await p.locator(sel.planRow('季卡 Pro')).waitFor();
    assert.match(await p.locator(tid('plans-message')).innerText(), /「季卡 Pro」已保存/);
    assert.equal(await attr(tid('plan-form'), 'data-id'), null, 'the form is back to adding');

    await p.locator(`${sel.planRow('月卡')} ${tid('plan-disable')}`).click();
    await waitFor(async () => (await attr(sel.planRow('月卡'), 'data-enabled')) === 'false', { what: '月卡 off sale' });
    assert.equal((await p.locator(`${sel.planRow('月卡')} ${tid('plan-status')}`).innerText()).trim(), '已停售');

    await answerConfirm(`${sel.planRow('临时套餐')} ${tid('plan-remove')}`, false);
    assert.equal(await p.locator(sel.planRow('临时套餐')).count(), 1, 'kept when the confirmation is declined');
    await answerConfirm(`${sel.planRow('临时套餐')} ${tid('plan-remove')}`, true);
    await waitFor(async () => (await rows('plan-row').count()) === 2, { what: 'the plan removed' });

    const byName = Object.fromEntries((await ctlPlans()).map((plan) => [plan.name, plan]));
    assert.deepEqual(Object.keys(byName).sort(), ['月卡', '季卡 Pro'].sort());
    assert.equal(byName['季卡 Pro'].price_cents, 2450);
    assert.equal(byName['季卡 Pro'].questions, 300);
    assert.equal(byName['月卡'].enabled, false);
    const onSale = (await visitor.call('pay.plans')).items.map((plan) => plan.name);
    assert.deepEqual(onSale, ['季卡 Pro']);
    await assert.rejects(visitor.call('pay.create', { plan_id: plans['月卡'], channel: 'epay_alipay' }),
      (err) => err.rpc?.data?.reason === 'not_found', 'a plan off sale cannot be bought');

    await p.locator(tid('plans-table')).scrollIntoViewIfNeeded();
    await shoot('plans');
  });

  step('a visitor buys through epay; the fake marks it paid and notifies chatd, which credits it', async () => {
    const plan_id = plans['季卡'];
    orders.notified = await visitor.call('pay.create', { plan_id, channel: 'epay_alipay' });
    assert.equal(orders.notified.amount_cents, 2450);
    assert.ok(orders.notified.qr_url, 'epay answered a QR code link');
    const paid = await epay.call('pay', { out_trade_no: orders.notified.order_no });
    const first = paid.notifications[0].attempts[0];
    assert.equal(first.ok, true, `chatd answered the notification: ${JSON.stringify(first)}`);
    orders.notifiedTradeNo = paid.order.trade_no;
    assert.equal((await visitor.call('me.get')).balance.paid, 300);

    orders.queried = await visitor.call('pay.create', { plan_id, channel: 'epay_wxpay' });
    orders.waiting = await visitor.call('pay.create', { plan_id, channel: 'epay_alipay' });
  });

  step('orders page: status badges, amounts in yuan, channel names, the buyer', async () => {
    const p = page();
    await open('orders');
    await waitFor(async () => (await rows('order-row').count()) === 3, { what: 'three orders' });
    const paidRow = sel.orderRow(orders.notified.order_no);
    assert.equal(await attr(paidRow, 'data-status'), 'paid');
    assert.equal((await p.locator(`${paidRow} ${tid('order-status')}`).innerText()).trim(), '已支付');
    assert.equal((await p.locator(`${paidRow} ${tid('order-amount')}`).innerText()).trim(), '¥24.50');
    assert.equal((await p.locator(`${paidRow} ${tid('order-channel')}`).innerText()).trim(), '易支付 · 支付宝');
    assert.equal(await attr(`${paidRow} ${tid('order-user')}`, 'href'), `/admin/users/${visitorId}`);
    const wxRow = sel.orderRow(orders.queried.order_no);
    assert.equal(await attr(wxRow, 'data-status'), 'pending');
    assert.equal((await p.locator(`${wxRow} ${tid('order-status')}`).innerText()).trim(), '待支付');
    assert.equal((await p.locator(`${wxRow} ${tid('order-channel')}`).innerText()).trim(), '易支付 · 微信');
    await shoot('orders');
  });

  step('order detail: the notification the fake sent, from 127.0.0.1, accepted', async () => {
    const p = page();
    await p.locator(`${sel.orderRow(orders.notified.order_no)} ${tid('order-open')}`).click();
    const drawer = tid('order-detail');
    await p.locator(`${drawer}[data-status="paid"]`).waitFor();
    assert.equal(new URL(p.url()).pathname, `/admin/orders/${orders.notified.order_no}`);
    assert.equal((await p.locator(tid('order-detail-no')).innerText()).trim(), orders.notified.order_no);
    assert.equal((await p.locator(tid('order-trade-no')).innerText()).trim(), orders.notifiedTradeNo);
    const notify = p.locator(`${tid('order-event')}[data-source="notify"]`);
    assert.equal(await notify.count(), 1, 'one notification, credited once');
    assert.equal(await notify.getAttribute('data-verdict'), 'accepted');
    assert.equal((await notify.locator(tid('order-event-verdict')).innerText()).trim(), '已入账');
    assert.equal((await notify.locator(tid('order-event-ip')).innerText()).trim(), '127.0.0.1');
    assert.match(await notify.locator(tid('order-event-detail')).innerText(), new RegExp(orders.notifiedTradeNo));
    assert.match(await notify.innerText(), /渠道通知/);
    assert.equal(await p.locator(tid('order-sync')).count(), 0, 'nothing to ask about a paid order');
    await shoot('order-detail');

    await p.keyboard.press('Escape');
    await p.locator(drawer).waitFor({ state: 'detached' });
    assert.equal(new URL(p.url()).pathname, '/admin/orders');
  });

  step('"query the channel now": an order paid without a notification is credited; an unpaid one stays pending', async () => {
    const p = page();
    const drawer = tid('order-detail');
    await p.locator(`${sel.orderRow(orders.waiting.order_no)} ${tid('order-open')}`).click();
    await p.locator(`${drawer}[data-status="pending"]`).waitFor();
    await p.locator(tid('order-sync')).click();
    await p.locator(tid('order-sync-result')).waitFor();
    assert.equal(await attr(tid('order-sync-result'), 'data-status'), 'pending');
    assert.match(await p.locator(tid('order-sync-result')).innerText(), /仍待支付/);
    await p.locator(tid('order-close')).click();
    await p.locator(drawer).waitFor({ state: 'detached' });

    await p.locator(`${sel.orderRow(orders.queried.order_no)} ${tid('order-open')}`).click();
    await p.locator(`${drawer}[data-status="pending"]`).waitFor();
    assert.equal(await p.locator(tid('order-event')).count(), 0);
    // Paid at the channel only now, with its notification held back, so only the query can tell.
    await epay.call('pay', { out_trade_no: orders.queried.order_no, notify: false });
    await p.locator(tid('order-sync')).click();
    await p.locator(`${drawer}[data-status="paid"]`).waitFor();
    assert.equal(await attr(tid('order-sync-result'), 'data-status'), 'paid');
    const synced = p.locator(`${tid('order-event')}[data-verdict="accepted"]`);
    assert.equal(await synced.count(), 1);
    assert.equal(await synced.getAttribute('data-source'), 'admin');
    await waitFor(async () => (await attr(sel.orderRow(orders.queried.order_no), 'data-status')) === 'paid',
      { what: 'the list behind the drawer updated' });
    assert.equal((await visitor.call('me.get')).balance.paid, 600);
    await p.keyboard.press('Escape');
  });

  step('filters: status, order number, trade number, plan name, user; kept in the address', async () => {
    const p = page();
    const shown = async () => (await p.locator(tid('order-row')).evaluateAll((els) => els.map((e) => e.dataset.orderNo))).sort();
    const allThree = () => [orders.notified, orders.queried, orders.waiting].map((o) => o.order_no);
    const expect = async (nos, what) => waitFor(async () => JSON.stringify(await shown()) === JSON.stringify([...nos].sort()), { what });

    await p.locator(tid('orders-status')).selectOption('pending');
    await expect([orders.waiting.order_no], 'only the pending order');
    assert.equal(new URL(p.url()).searchParams.get('status'), 'pending');
    await p.locator(tid('orders-status')).selectOption('paid');
    await expect([orders.notified.order_no, orders.queried.order_no], 'the two paid orders');
    await p.locator(tid('orders-status')).selectOption('');
    await expect(allThree(), 'every order again');

    await p.locator(tid('orders-query')).fill(orders.notified.order_no);
    await p.locator(tid('orders-search')).click();
    await expect([orders.notified.order_no], 'one order by its number');
    await p.locator(tid('orders-query')).fill(orders.notifiedTradeNo);
    await p.locator(tid('orders-search')).click();
    await expect([orders.notified.order_no], 'one order by the channel trade number');
    await p.locator(tid('orders-query')).fill('季卡');
    await p.locator(tid('orders-search')).click();
    await expect(allThree(), 'all three by plan name');
    await p.goBack();
    await expect([orders.notified.order_no], 'back to the trade number search');
    assert.equal(await p.locator(tid('orders-query')).inputValue(), orders.notifiedTradeNo);

    await p.locator(tid('orders-query')).fill('');
    await p.locator(tid('orders-user')).fill(String(adminId));
    await p.locator(tid('orders-search')).click();
    await p.locator(tid('orders-empty')).waitFor();
    await p.locator(tid('orders-user')).fill('abc');
    await p.locator(tid('orders-search')).click();
    await p.locator(tid('orders-error')).waitFor();

    // From the buyer's page to their orders.
    await p.goto(`${ctx.stack.url}/admin/users/${visitorId}`);
    await p.locator(tid('user-orders')).click();
    await expect(allThree(), "the visitor's three orders");
    assert.equal(new URL(p.url()).searchParams.get('user'), String(visitorId));
  });

  step(`paging: ${PAGE_SIZE} orders a page, then "load more"`, async () => {
    const p = page();
    // A visitor may hold 5 unpaid orders at once: ten more visitors place five each.
    for (let i = 0; i < 10; i += 1) {
      const buyer = await signUp(ctx.stack.url, `bulkbuyer${i}`);
      for (let k = 0; k < 5; k += 1) await buyer.call('pay.create', { plan_id: plans['季卡'], channel: 'epay_wxpay' });
    }
    await p.goto(`${ctx.stack.url}/admin/orders`);
    await waitFor(async () => (await rows('order-row').count()) === PAGE_SIZE, { what: 'the first page' });
    await p.locator(tid('orders-more')).click();
    await waitFor(async () => (await rows('order-row').count()) === 53, { what: 'all 53 orders' });
    assert.equal(await p.locator(tid('orders-more')).count(), 0, 'no more pages');
    const nos = await p.locator(tid('order-row')).evaluateAll((els) => els.map((e) => e.dataset.orderNo));
    assert.equal(new Set(nos).size, 53, 'no order twice across pages');
  });

  step('dashboard: paid revenue per day and the 30-day total', async () => {
    const p = page();
    await open('dashboard');
    const tile = tid('stat-paid');
    await p.locator(tile).waitFor();
    assert.equal(await attr(tile, 'data-value'), '4900');
    assert.match(await p.locator(tile).innerText(), /近 30 天在线收入\s*¥49\.00/);
    assert.match(await p.locator(tile).innerText(), /2 笔订单 · 今日 ¥49\.00/);
    const bars = p.locator(`${tid('chart-paid')} svg rect`);
    assert.equal(await bars.count(), 30);
    assert.match(await bars.last().locator('title').textContent(), /: ¥49\.00$/);
    assert.ok(Number(await bars.last().getAttribute('height')) > 0);
    assert.equal(Number(await bars.first().getAttribute('height')), 0);
    assert.match(await p.locator(`${tid('chart-paid')} svg`).getAttribute('aria-label'), /2 笔订单共 ¥49\.00，今天 ¥49\.00/);
    assert.match(await p.locator(`${tid('chart-sales')} svg`).getAttribute('aria-label'), /在线支付 2 笔，共售出 600 次/);
    await shootAround('dashboard-paid-tile', tile);
    await shootAround('dashboard-revenue', tid('chart-paid'));
  });

  step('English and dark: the orders page and a detail', async () => {
    const p = page();
    await p.locator(sel.language).selectOption('en');
    await p.locator(sel.theme).selectOption('dark');
    // English is a chunk of its own: the choice is kept only once it has loaded, so wait for it
    // before the page is opened anew.
    await waitFor(async () => (await p.locator(sel.navLink('orders')).innerText()) === 'Orders', { what: 'English' });
    await p.goto(`${ctx.stack.url}/admin/orders/${orders.notified.order_no}?status=paid`);
    await p.locator(`${tid('order-detail')}[data-status="paid"]`).waitFor();
    const notify = p.locator(`${tid('order-event')}[data-source="notify"]`);
    assert.match(await notify.innerText(), /Channel notification/);
    assert.equal((await notify.locator(tid('order-event-verdict')).innerText()).trim(), 'Credited');
    assert.equal((await p.locator(tid('order-detail-status')).innerText()).trim(), 'Paid');
    await shoot('order-detail-en-dark');
    await p.keyboard.press('Escape');
    assert.equal((await p.locator(`${sel.orderRow(orders.queried.order_no)} ${tid('order-channel')}`).innerText()).trim(),
      'epay · WeChat Pay');
    await shoot('orders-en-dark');
    await open('plans');
    await p.locator(tid('plans-table')).waitFor();
    assert.match(await p.locator(tid('plans-channels')).innerText(), /Payment channels offered: epay · Alipay, epay · WeChat Pay/);
    await shoot('plans-en-dark');
    await p.locator(sel.language).selectOption('zh-CN');
    await p.locator(sel.theme).selectOption('light');
  });

  step('audit: plan changes and the operator\'s query, made via the web', async () => {
    const { items } = await ctx.stack.ctl(['audit', '--limit', '100']);
    const methods = items.filter((i) => i.via === 'web').map((i) => i.method);
    assert.equal(methods.filter((m) => m === 'admin.plans.set').length, 5, 'three added, one edited, one taken off sale');
    assert.equal(methods.filter((m) => m === 'admin.plans.remove').length, 1);
    assert.equal(methods.filter((m) => m === 'admin.orders.sync').length, 2);
    if (epay.log().includes('Traceback')) assert.fail(`fake_epay failed:\n${epay.log()}`);
  });

  noProblems();
});
