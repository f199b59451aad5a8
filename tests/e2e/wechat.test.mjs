// WeChat login in the browser against the fake WeChat platform (safe mode on). qr mode: the page
// draws WeChat's QR url itself, offers a fresh code once one expires, and logs in when the phone
// simulator scans. code mode: the page shows the account's QR and the keyword; the code WeChat
// replies with logs the browser in, a wrong one is refused with a clear message.

import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { scenario } from './lib/steps.mjs';
import { WECHAT, waitFor } from './lib/stack.mjs';
import { common } from './lib/selectors.mjs';

const sel = {
  ...common,
  tabWechat: '[data-testid="login-tab-wechat"]',
  tabPassword: '[data-testid="login-tab-password"]',
  qr: '[data-testid="wechat-qr"]',
  qrStatus: '[data-testid="wechat-qr-status"]',
  qrRefresh: '[data-testid="wechat-qr-refresh"]',
  accountQr: '[data-testid="wechat-account-qr"]',
  keyword: '[data-testid="wechat-keyword"]',
  codeInput: '[data-testid="wechat-code-input"]',
  codeSubmit: '[data-testid="wechat-code-submit"]',
  codeError: '[data-testid="wechat-code-error"]',
};

/** The drawn QR: a loaded image whose data-url is what it encodes. */
async function drawnQr(page, selector) {
  const qr = page.locator(selector);
  await qr.waitFor({ state: 'visible' });
  await waitFor(() => qr.evaluate((img) => img.complete && img.naturalWidth > 0), { what: 'the QR image to load' });
  const box = await qr.boundingBox();
  assert.ok(box.width >= 150, `the QR is big enough to scan (${box.width} px)`);
  return qr.getAttribute('data-url');
}

describe('WeChat scan login (qr mode)', () => {
  const { ctx, step, shoot, noProblems } = scenario({ prefix: 'wq', stackOptions: { wechat: 'qr' } });
  const newestCode = async () => (await ctx.stack.wechatCall('/_fake/qrcodes')).at(-1);

  step('the login page draws the ticket WeChat created, next to a password tab', async () => {
    const { page, stack } = ctx;
    await page.goto(stack.url);
    const url = await drawnQr(page, sel.qr);
    assert.equal(url, (await newestCode()).url);
    assert.equal(await page.locator(sel.tabPassword).count(), 1);
    await shoot('qr');
  });

  step('an expired code is dimmed and a click fetches a fresh one', async () => {
    const { page, stack } = ctx;
    // A reload keeps the browser's code while it lives: this is a new browser.
    await ctx.browser.context.clearCookies();
    await stack.wechatCall('/_fake/config', { qr_expire_seconds: 2 });
    await page.reload();
    const old = await drawnQr(page, sel.qr);
    await page.locator(sel.qrRefresh).waitFor({ state: 'visible', timeout: 15_000 });
    await shoot('qr-expired');
    await stack.wechatCall('/_fake/config', { qr_expire_seconds: 0 });
    await page.locator(sel.qrRefresh).click();
    await waitFor(async () => (await page.locator(sel.qr).getAttribute('data-url')) !== old,
      { what: 'a new QR code' });
    assert.equal(await drawnQr(page, sel.qr), (await newestCode()).url);
  });

  step('the phone scans as a new follower and the page logs in with the trial credits', async () => {
    const { page, stack } = ctx;
    const scanned = await stack.wechatCall('/_fake/scan',
      { ticket: (await newestCode()).ticket, openid: 'oE2eFollower01', following: false, safe: true });
    assert.ok(scanned.ok, JSON.stringify(scanned.problems));
    assert.match(scanned.reply.content, /登录成功/);
    await page.locator(sel.balance).waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await page.locator(sel.balance).getAttribute('data-trial'), '10');
    await shoot('logged-in');
  });

  noProblems();
});

describe('WeChat one-time-code login (code mode)', () => {
  const { ctx, step, shoot, noProblems } = scenario({ prefix: 'wc', stackOptions: { wechat: 'code' } });

  step('the page shows the account QR and the keyword to send', async () => {
    const { page, stack } = ctx;
    await page.goto(stack.url);
    assert.equal(await drawnQr(page, sel.accountQr), WECHAT.accountQrUrl);
    assert.match(await page.locator(sel.keyword).innerText(), /验证码/);
    await shoot('code');
  });

  step('a wrong code is refused with a message', async () => {
    const { page } = ctx;
    // Codes have 8 digits: a ninth is cut off.
    await page.locator(sel.codeInput).fill('000000009');
    assert.equal(await page.locator(sel.codeInput).inputValue(), '00000000');
    await page.locator(sel.codeSubmit).click();
    const error = page.locator(sel.codeError);
    await error.waitFor({ state: 'visible' });
    assert.equal(await error.getAttribute('data-reason'), 'login_expired');
    await shoot('code-wrong', [{ width: 390, height: 844 }]);
  });

  step('the code WeChat replies with logs the browser in', async () => {
    const { page, stack } = ctx;
    const reply = await stack.wechatCall('/_fake/text', { openid: 'oE2eCoder01', content: '验证码', safe: true });
    assert.ok(reply.ok, JSON.stringify(reply.problems));
    const code = reply.reply.content.match(/\b(\d{8})\b/)[1];
    await page.locator(sel.codeInput).fill(code);
    await page.locator(sel.codeSubmit).click();
    await page.locator(sel.balance).waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await page.locator(sel.balance).getAttribute('data-trial'), '10');
  });

  noProblems();
});
