// A visitor buys a plan online in the SPA (CONTRACT.md §11) against the three payment fakes
// (tests/fakes/fake_epay.py, fake_wechatpay.py, fake_alipay.py), configured into the running chatd
// and reloaded with SIGHUP as an operator would. Without a channel there is no buy button; with
// them: plan cards, a channel choice, the QR drawn locally with the amount and a countdown; the
// fake pays and notifies chatd, the dialog shows success and the header balance grows without a
// reload; "my orders" lists the order as paid and reopens a pending one. On a phone: epay's
// pay_url and Alipay's qr.alipay.com link are offered as buttons, WeChat Pay Native says it must
// be scanned from another device. A refused order (pay_unavailable) is told in words.
// Screenshots `b*.png` at desktop and phone size, one set dark.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe } from 'node:test';
import { signUp } from './lib/api.mjs';
import { common } from './lib/selectors.mjs';
import { accountMenu, chooseLanguage, chooseTheme, DESKTOP, PHONE, scenario, useSession } from './lib/steps.mjs';
import { REPO_ROOT, waitFor } from './lib/stack.mjs';

const FAKES = path.join(REPO_ROOT, 'tests', 'fakes');
const EPAY = { pid: '1024', key: 'e2eBuyEpayMerchantKey0123456789' };
const WECHAT = { mchid: '1900000001', appid: 'wxd678efh567hg6787', serial: '5157F09EFDC096DE15EBE81A47057A72',
  apiV3Key: '0123456789abcdefghijABCDEFGHIJ01', publicKeyId: 'PUB_KEY_ID_0114232134912410000000000000' };
const ALIPAY = { appId: '2021000123456789' };
const PLAN = { name: '月卡', price: '19.90', questions: 100, days: 30 };

const tid = (id) => `[data-testid="${id}"]`;
const sel = {
  ...common,
  buyOpen: tid('buy-open'),
  dialog: tid('buy-dialog'),
  plan: (name) => `${tid('plan-card')}:has(.plan-name:text-is("${name}"))`,
  channel: (c) => `${tid('pay-channel')}[data-channel="${c}"]`,
  order: (no) => `${tid('order-item')}[data-order-no="${no}"]`,
};

/** A fresh RSA-2048 pair made with the openssl CLI: [private PEM path, public PEM path]. */
function keyPair(dir, name) {
  const priv = path.join(dir, `${name}.pem`);
  const pub = path.join(dir, `${name}_pub.pem`);
  execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', priv]);
  execFileSync('openssl', ['pkey', '-in', priv, '-pubout', '-out', pub]);
  return [priv, pub];
}

/** One payment fake, started and stopped by this file. */
class FakePay {
  constructor(script) {
    this.script = script;
  }

  async start(workdir, args) {
    const portFile = path.join(workdir, `${this.script}.port`);
    this.logPath = path.join(workdir, `${this.script}.log`);
    const fd = openSync(this.logPath, 'a');
    this.child = spawn('python3', [path.join(FAKES, `${this.script}.py`), '--listen', '127.0.0.1:0', '--port-file', portFile,
      '--retry-delays', '1,2', ...args], { stdio: ['ignore', fd, fd], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    closeSync(fd);
    this.exited = new Promise((resolve) => this.child.on('exit', resolve));
    const port = await waitFor(() => existsSync(portFile) && readFileSync(portFile, 'utf8').trim(),
      { timeout: 20_000, what: `the ${this.script} port file` });
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
    if (!response.ok) throw new Error(`${this.script} /_fake/${hook}: HTTP ${response.status}: ${JSON.stringify(result)}`);
    return result;
  }

  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }
}

describe('chatd SPA: buying a plan online', () => {
  const { ctx, step, shoot, noProblems } = scenario({ prefix: 'b' });
  const fakes = { epay: new FakePay('fake_epay'), wechat: new FakePay('fake_wechatpay'), alipay: new FakePay('fake_alipay') };
  let visitor;
  let paid = 0; // the visitor's paid questions so far

  after(() => Promise.all(Object.values(fakes).map((f) => f.stop())));

  const page = () => ctx.page;
  const attr = (selector, name) => page().locator(selector).first().getAttribute(name);
  const text = async (selector) => (await page().locator(selector).first().innerText()).trim();

  async function openBuy() {
    const p = page();
    await accountMenu(p, 'buy-open');
    await p.locator(`${sel.dialog}[data-stage="choose"]`).waitFor();
  }

  /** Picks the plan and channel, places the order; returns its order number once the dialog shows it. */
  async function placeOrder(channel) {
    const p = page();
    await p.locator(sel.plan(PLAN.name)).click();
    await p.locator(sel.channel(channel)).click();
    assert.equal(await text(tid('pay-submit')), '去支付 ¥19.90');
    await p.locator(tid('pay-submit')).click();
    await p.locator(`${sel.dialog}[data-stage="paying"]`).waitFor();
    return attr(sel.dialog, 'data-order-no');
  }

  /** The QR is drawn here (an <img> with a data: URL) with the amount and a running countdown. */
  async function checkQr(prefix) {
    const p = page();
    await p.locator(tid('pay-qr')).waitFor();
    assert.match(await attr(tid('pay-qr'), 'src'), /^data:image\/gif;base64,/);
    const natural = await p.locator(tid('pay-qr')).evaluate((img) => img.naturalWidth);
    assert.ok(natural > 100, `the QR image is drawn (${natural} px)`);
    assert.ok((await attr(tid('pay-qr'), 'data-url')).startsWith(prefix), `the QR holds the channel's link (${prefix}…)`);
    assert.equal(await text(tid('pay-amount')), '¥19.90');
    const left = Number(await attr(tid('pay-countdown'), 'data-left'));
    assert.ok(left > 14 * 60 && left <= 15 * 60, `about 15 minutes left (${left} s)`);
    assert.match(await text(tid('pay-countdown')), /^请在 1[45]:\d\d 内完成支付$/);
    await waitFor(async () => Number(await attr(tid('pay-countdown'), 'data-left')) < left, { timeout: 5000, what: 'the countdown ticking' });
  }

  /** The fake pays and notifies; the dialog shows success and the header the new paid balance. */
  async function payAndSeeSuccess(fake, orderNo) {
    const p = page();
    await fakes[fake].call('pay', { out_trade_no: orderNo });
    await p.locator(tid('pay-success')).waitFor({ timeout: 15_000 });
    paid += PLAN.questions;
    assert.match(await text(`${tid('pay-success')} .form-ok`), new RegExp(`支付成功！付费次数 \\+${PLAN.questions}。现有付费次数 ${paid}。有效期至`));
    await waitFor(async () => (await attr(sel.balance, 'data-paid')) === String(paid), { what: `the header's paid balance ${paid}` });
    assert.match(await text(sel.balance), new RegExp(`付费 ${paid}`));
  }

  async function closeDialog() {
    await page().locator(tid('buy-dialog-close')).click();
    await page().locator(sel.dialog).waitFor({ state: 'detached' });
  }

  async function myOrders() {
    const p = page();
    await p.locator(sel.balance).click();
    await p.locator(tid('usage-view-orders')).click();
    await p.locator(tid('orders-list')).waitFor();
  }

  step('no channel configured: no buy button, the redeem-only UI', async () => {
    const { stack } = ctx;
    visitor = await signUp(stack.url, 'buyer1');
    await stack.ctl(['plans', 'set', '--name', PLAN.name, '--price', PLAN.price, '--questions', String(PLAN.questions),
      '--days', String(PLAN.days)]);
    const offer = await visitor.call('pay.plans');
    assert.equal(offer.items.length, 1);
    assert.deepEqual(offer.channels, []);
    await useSession(ctx.browser, stack, visitor);
    const p = page();
    await p.goto(stack.url);
    await p.locator(sel.input).waitFor();
    await p.locator(tid('account-menu')).click();
    await p.locator(tid('redeem-open')).waitFor();
    assert.equal(await p.locator(sel.buyOpen).count(), 0, 'no buy button without a channel');
    await p.locator(tid('redeem-open')).click();
    await p.locator(tid('account-dialog')).waitFor();
    assert.equal(await p.locator(tid('redeem-buy')).count(), 0, 'no "buy online" link');
    await p.locator(tid('tab-usage')).click();
    await p.locator(tid('ledger-list')).waitFor();
    assert.equal(await p.locator(tid('usage-view-orders')).count(), 0, 'no orders view');
    await p.locator(tid('account-close')).click();
  });

  step('setup: epay, WeChat Pay and Alipay configured into the running chatd and reloaded', async () => {
    const { stack } = ctx;
    const dir = stack.workdir;
    const [merchantPriv, merchantPub] = keyPair(dir, 'merchant');
    const [appPriv, appPub] = keyPair(dir, 'app');
    const wechatPub = path.join(dir, 'wechatpay_pub.pem');
    const alipayPub = path.join(dir, 'alipay_pub.pem');
    await Promise.all([
      fakes.epay.start(dir, ['--pid', EPAY.pid, '--key', EPAY.key]),
      fakes.wechat.start(dir, ['--mchid', WECHAT.mchid, '--appid', WECHAT.appid, '--serial', WECHAT.serial,
        '--merchant-public-key', merchantPub, '--api-v3-key', WECHAT.apiV3Key, '--platform-public-key-out', wechatPub,
        '--public-key-id', WECHAT.publicKeyId]),
      fakes.alipay.start(dir, ['--app-id', ALIPAY.appId, '--app-public-key', appPub, '--alipay-public-key-out', alipayPub]),
    ]);
    await waitFor(() => existsSync(wechatPub) && existsSync(alipayPub), { what: 'the fakes\' public keys' });
    // public_url names chatd's own port, known only once it runs: added afterwards, then SIGHUP.
    const conf = readFileSync(stack.confPath, 'utf8');
    writeFileSync(stack.confPath, [`public_url = ${stack.url}`, conf, '[pay]', 'order_minutes = 15',
      '[pay.epay]', `pid = ${EPAY.pid}`, `key = ${EPAY.key}`, `api_base = ${fakes.epay.url}/`,
      '[pay.wechat]', `mchid = ${WECHAT.mchid}`, `appid = ${WECHAT.appid}`, `api_v3_key = ${WECHAT.apiV3Key}`,
      `serial_no = ${WECHAT.serial}`, `private_key_file = ${merchantPriv}`, `platform_public_key_file = ${wechatPub}`,
      `platform_public_key_id = ${WECHAT.publicKeyId}`, `api_base = ${fakes.wechat.url}`,
      '[pay.alipay]', `app_id = ${ALIPAY.appId}`, `private_key_file = ${appPriv}`,
      `alipay_public_key_file = ${alipayPub}`, `gateway = ${fakes.alipay.url}/gateway.do`, ''].join('\n'));
    stack.chatd.child.kill('SIGHUP');
    await waitFor(async () => (await visitor.call('pay.plans')).channels.length === 4,
      { timeout: 10_000, what: 'four channels after SIGHUP' });
    assert.deepEqual([...(await visitor.call('pay.plans')).channels].sort(), ['alipay', 'epay_alipay', 'epay_wxpay', 'wechat']);
  });

  step('desktop, epay: plan cards and channels, the QR with amount and countdown, paid → success and balance', async () => {
    const p = page();
    await p.reload();
    await p.locator(tid('account-menu')).click();
    await p.locator(sel.buyOpen).waitFor();
    assert.equal(await text(sel.buyOpen), '购买');
    await p.keyboard.press('Escape');
    await openBuy();
    assert.equal(await p.locator(tid('plan-card')).count(), 1);
    const card = await text(sel.plan(PLAN.name));
    for (const part of [PLAN.name, '¥19.90', '100 次提问', '30 天内有效']) assert.ok(card.includes(part), `the card shows ${part}: ${card}`);
    const labels = Object.fromEntries(await p.locator(tid('pay-channel')).evaluateAll((els) =>
      els.map((el) => [el.dataset.channel, el.textContent.trim()])));
    assert.deepEqual(labels, { epay_alipay: '支付宝（聚合）', epay_wxpay: '微信支付（聚合）', wechat: '微信支付', alipay: '支付宝' });
    await shoot('plans');

    const orderNo = await placeOrder('epay_alipay');
    await checkQr('https://qr.alipay.com/');
    assert.match(await text(tid('pay-status')), /请在/);
    assert.equal(await p.locator(tid('pay-open')).count(), 0, 'no pay_url from this epay answer');
    await shoot('epay-qr');
    const listed = (await ctx.stack.ctl(['orders', 'list'])).items.map((o) => o.order_no);
    assert.ok(listed.includes(orderNo), 'the dialog\'s order number is the one chatctl lists');

    await payAndSeeSuccess('epay', orderNo);
    await shoot('success');
    assert.equal(await attr(sel.balance, 'data-paid'), String(paid), 'without a reload');
    await closeDialog();
  });

  step('my orders: the paid order listed with time, plan, amount, channel and a paid badge', async () => {
    const p = page();
    await myOrders();
    const [order] = (await visitor.call('me.orders', {})).items;
    const row = sel.order(order.order_no);
    await p.locator(row).waitFor();
    assert.equal(await attr(row, 'data-status'), 'paid');
    const shown = await text(row);
    for (const part of [PLAN.name, '¥19.90', '支付宝', '已支付']) assert.ok(shown.includes(part), `the row shows ${part}: ${shown}`);
    assert.equal(await p.locator(`${row} ${tid('order-reopen')}`).count(), 0, 'a paid order is not reopened');
    await shoot('my-orders');
    await p.locator(tid('account-close')).click();
  });

  step('phone, epay with pay_url: a button opens the cashier; the pending order reopened from my orders and paid', async () => {
    const p = page();
    await fakes.epay.call('config', { mapi_field: 'payurl' });
    await p.setViewportSize(PHONE);
    await openBuy();
    const orderNo = await placeOrder('epay_wxpay');
    await p.locator(tid('pay-open')).waitFor();
    assert.equal(await text(tid('pay-open')), '打开支付页面');
    assert.ok((await attr(tid('pay-open'), 'href')).startsWith(`${fakes.epay.url}/pay/`), 'the link is epay\'s pay_url');
    await shoot('epay-phone', [PHONE]);
    await fakes.epay.call('config', { mapi_field: 'qrcode' });
    await closeDialog();

    await myOrders();
    const row = sel.order(orderNo);
    assert.equal(await attr(`${row} ${tid('order-status')}`, 'data-status'), 'pending');
    assert.equal(await text(`${row} ${tid('order-status')}`), '待支付');
    await shoot('my-orders-pending', [PHONE]);
    await p.locator(`${row} ${tid('order-reopen')}`).click();
    await p.locator(`${sel.dialog}[data-order-no="${orderNo}"][data-stage="paying"]`).waitFor();
    await p.locator(tid('pay-open')).waitFor();
    await payAndSeeSuccess('epay', orderNo);
    await closeDialog();
    await p.setViewportSize(DESKTOP);
  });

  step('WeChat Pay: a refusal in words, then on a phone "scan from another device" and paid', async () => {
    const p = page();
    await fakes.wechat.call('fail', { path_prefix: '/v3/pay/transactions/native', signature: 'forged', count: 1 });
    await openBuy();
    await p.locator(sel.plan(PLAN.name)).click();
    await p.locator(sel.channel('wechat')).click();
    await p.locator(tid('pay-submit')).click();
    await p.locator(tid('pay-error')).waitFor();
    assert.equal(await attr(tid('pay-error'), 'data-reason'), 'pay_unavailable');
    assert.equal(await text(tid('pay-error')), '这个支付方式暂时不可用，请换一种方式或稍后再试。');
    await shoot('refused', [DESKTOP]);

    await p.setViewportSize(PHONE);
    await p.locator(tid('pay-submit')).click();
    await p.locator(`${sel.dialog}[data-stage="paying"]`).waitFor();
    const orderNo = await attr(sel.dialog, 'data-order-no');
    await checkQr('weixin://wxpay/bizpayurl');
    assert.equal(await p.locator(tid('pay-open')).count(), 0, 'WeChat Pay Native has nothing to open');
    assert.match(await text(tid('pay-phone-note')), /请用另一台设备的微信扫描下方二维码，或截图后在微信「扫一扫」中从相册识别/);
    await shoot('wechat-phone', [PHONE]);
    await payAndSeeSuccess('wechat', orderNo);
    await closeDialog();
    await p.setViewportSize(DESKTOP);
  });

  step('Alipay, dark: the QR on a desktop, the qr.alipay.com link on a phone, paid', async () => {
    const p = page();
    await chooseTheme(p, 'dark');
    await waitFor(async () => (await p.evaluate(() => document.documentElement.dataset.theme)) === 'dark', { what: 'the dark theme' });
    await openBuy();
    await shoot('plans-dark');
    const orderNo = await placeOrder('alipay');
    await checkQr('https://qr.alipay.com/');
    assert.equal(await p.locator(tid('pay-open')).count(), 0, 'a desktop scans');
    assert.equal(await text('.pay-scan'), '请用支付宝「扫一扫」扫码支付');
    await p.setViewportSize(PHONE);
    await p.locator(tid('pay-open')).waitFor();
    assert.equal(await text(tid('pay-open')), '打开支付宝付款');
    assert.equal(await attr(tid('pay-open'), 'href'), await attr(tid('pay-qr'), 'data-url'));
    await p.setViewportSize(DESKTOP);
    await shoot('alipay-dark');
    await payAndSeeSuccess('alipay', orderNo);
    await shoot('success-dark');
    await closeDialog();
    await myOrders();
    const statuses = await p.locator(tid('order-item')).evaluateAll((els) => els.map((el) => el.dataset.status));
    // The order WeChat Pay refused was closed at once; the four others are paid.
    assert.deepEqual([...statuses].sort(), ['closed', 'paid', 'paid', 'paid', 'paid']);
    assert.equal(await text(`${tid('order-item')}[data-status="closed"] ${tid('order-status')}`), '已关闭');
    await shoot('my-orders-dark');
    await p.locator(tid('account-close')).click();
    const me = await visitor.call('me.get');
    assert.equal(me.balance.paid, paid, 'the server agrees with the header');
    await chooseTheme(p, 'light');
  });

  step('English: the dialog and the order statuses translated', async () => {
    const p = page();
    await chooseLanguage(p, 'en');
    await p.locator(tid('account-menu')).click();
    await waitFor(async () => (await text(sel.buyOpen)) === 'Buy', { what: 'the English buy button' });
    await p.keyboard.press('Escape');
    await openBuy();
    assert.equal(await text(`${sel.channel('wechat')}`), 'WeChat Pay');
    assert.match(await text(tid('pay-submit')), /^Pay ¥19\.90$/);
    await closeDialog();
    await myOrders();
    assert.equal(await text(`${tid('order-item')} ${tid('order-status')}`), 'Paid');
    await p.locator(tid('account-close')).click();
    await chooseLanguage(p, 'zh-CN');
  });

  noProblems();
});
