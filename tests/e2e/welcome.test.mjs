// The welcome and its manners: the browser's language on a first visit (en-US → English, zh-CN →
// Chinese) and the login screen's switch that persists; the site's logo (same-origin and from
// another origin, loaded under the page's CSP), name, tagline and free questions, and the favicon
// following the logo; field errors that name the rule; the redeem dialog's shop link only when
// `site.shop_url` is set; the invite tab only when an invite earns something; the web app manifest
// and the service worker, whose cache never holds an API answer. Screenshots `w*.png`.

import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { launchBrowser } from './lib/browser.mjs';
import { common } from './lib/selectors.mjs';
import { paths, waitFor } from './lib/stack.mjs';
import { accountMenu, PHONE, scenario } from './lib/steps.mjs';

const KEY = 'sk-e2e0w01:ok:tokens=12:delay=10';
const PASSWORD = 'correct horse battery staple';

const tid = (id) => `[data-testid="${id}"]`;
const sel = {
  ...common,
  logo: tid('login-logo'),
  site: tid('login-site'),
  tagline: tid('login-tagline'),
  trial: tid('login-trial'),
  langEn: tid('login-lang-en'),
  langZh: tid('login-lang-zh-CN'),
  usernameError: tid('login-username-error'),
  passwordError: tid('login-password-error'),
  dialog: tid('account-dialog'),
  close: tid('account-close'),
  shop: tid('redeem-shop'),
  tabInvite: tid('tab-invite'),
  tabRedeem: tid('tab-redeem'),
  inviteIntro: tid('invite-intro'),
};

describe('chatd web UI welcome: brand, language, manners, installable', () => {
  const { ctx, step, shoot, noProblems } = scenario({ prefix: 'w' });
  let stack;
  let browser;
  let page;
  /** A second loopback origin serving the logo, as an operator's CDN would. */
  let logoServer;
  let logoOrigin;
  before(async () => {
    ({ stack, browser, page } = ctx);
    const png = readFileSync(path.join(paths.webui, 'icon-192.png'));
    logoServer = http.createServer((req, res) => {
      if (req.url === '/brand/logo.png') res.writeHead(200, { 'Content-Type': 'image/png' }).end(png);
      else res.writeHead(404).end();
    });
    await new Promise((resolve) => logoServer.listen(0, '127.0.0.1', resolve));
    logoOrigin = `http://127.0.0.1:${logoServer.address().port}`;
  });
  after(() => logoServer?.close());

  const text = (selector) => page.locator(selector).innerText();
  const setting = (key, value) => stack.ctl(['settings', 'set', key, value]);

  /** The account dialog's redeem tab, through the avatar menu. */
  async function openRedeem() {
    await accountMenu(page, 'redeem-open');
    await page.locator(sel.dialog).waitFor();
  }

  async function logoLoaded() {
    return page.locator(sel.logo).evaluate((img) => img.complete && img.naturalWidth > 0);
  }

  async function theme(name) {
    await page.evaluate((t) => localStorage.setItem('chatd.theme', t), name);
    await page.reload();
    await page.locator(sel.loginForm).waitFor();
  }

  step('an English browser gets the English UI on its first visit, without storing a choice', async () => {
    const english = await launchBrowser({ locale: 'en-US' });
    try {
      const p = english.page;
      await p.goto(stack.url);
      await p.locator(sel.loginForm).waitFor();
      assert.equal(await p.locator('html').getAttribute('lang'), 'en');
      assert.equal(await p.locator(sel.submit).innerText(), 'Log in');
      assert.equal(await p.locator(sel.langEn).getAttribute('aria-pressed'), 'true');
      assert.equal(await p.evaluate(() => localStorage.getItem('chatd.lang')), null, 'following the browser is not a choice');
      assert.deepEqual(english.problems, []);
    } finally {
      await english.close();
    }
  });

  step('a Chinese browser gets Chinese; the switch changes the language and it persists', async () => {
    await page.goto(stack.url);
    await page.locator(sel.loginForm).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
    assert.equal(await text(sel.submit), '登录');
    assert.equal(await page.locator(sel.langZh).getAttribute('aria-pressed'), 'true');

    await page.locator(sel.langEn).click();
    await waitFor(async () => (await text(sel.submit)) === 'Log in', { what: 'English strings' });
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    await page.reload();
    await page.locator(sel.loginForm).waitFor();
    assert.equal(await text(sel.submit), 'Log in', 'still English after a reload');
    assert.equal(await page.evaluate(() => localStorage.getItem('chatd.lang')), 'en');

    await page.locator(sel.langZh).click();
    await waitFor(async () => (await text(sel.submit)) === '登录', { what: 'Chinese strings' });
  });

  step('the brand: same-origin logo, name, tagline, free questions; title and favicon follow', async () => {
    await setting('site.name', '星河问答');
    await setting('site.tagline', '随时随地，问你想问');
    await setting('site.logo_url', '/icon-192.png');
    await setting('billing.trial_questions', '7');
    await page.reload();
    await page.locator(sel.logo).waitFor();
    await waitFor(logoLoaded, { what: 'the logo to load' });
    assert.equal(await text(sel.site), '星河问答');
    assert.equal(await text(sel.tagline), '随时随地，问你想问');
    assert.equal(await text(sel.trial), '新用户免费体验 7 次');
    assert.equal(await page.title(), '星河问答');
    assert.equal(await page.locator('link[rel="icon"]').evaluate((l) => new URL(l.href).pathname), '/icon-192.png');
    await shoot('login-brand-light');
    await theme('dark');
    assert.equal(await page.locator('meta[name="theme-color"]').getAttribute('content'),
      await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--surface').trim()),
      'the browser bars take the dark surface colour');
    await shoot('login-brand-dark');
    await page.locator(sel.langEn).click();
    await waitFor(async () => (await text(sel.trial)) === '7 free questions for new users', { what: 'English trial text' });
    await shoot('login-brand-dark-en');
    await theme('light');
    await shoot('login-brand-light-en', [PHONE]);
    await page.locator(sel.langZh).click();
    await waitFor(async () => (await text(sel.submit)) === '登录', { what: 'Chinese strings' });
  });

  step('no free questions, no promise; no tagline, no line', async () => {
    await setting('billing.trial_questions', '0');
    await setting('site.tagline', '');
    await page.reload();
    await page.locator(sel.logo).waitFor();
    assert.equal(await page.locator(sel.trial).count(), 0);
    assert.equal(await page.locator(sel.tagline).count(), 0);
    await setting('billing.trial_questions', '10');
    await setting('site.tagline', '随时随地，问你想问');
  });

  step('a logo hosted on another origin loads under the page CSP', async () => {
    const url = `${logoOrigin}/brand/logo.png`;
    await setting('site.logo_url', url);
    await page.reload();
    await page.locator(sel.logo).waitFor();
    assert.equal(await page.locator(sel.logo).getAttribute('src'), url);
    await waitFor(logoLoaded, { what: 'the cross-origin logo to load' });
    assert.deepEqual(browser.problems.filter((p) => p.kind === 'csp').map((p) => p.text), []);
  });

  step('field errors name the rule, sit at their field and clear as it is fixed', async () => {
    await page.locator(sel.switchMode).click();
    await page.locator(sel.submit).click();
    assert.equal(await text(sel.usernameError), '请输入用户名。');
    assert.equal(await text(sel.passwordError), '请输入密码。');
    const username = page.locator(sel.username);
    assert.equal(await username.getAttribute('aria-invalid'), 'true');
    assert.equal(await username.getAttribute('aria-describedby'), 'login-username-error');
    assert.equal(await username.evaluate((el) => el === document.activeElement), true, 'the first wrong field has the focus');

    await username.fill('a');
    await page.locator(sel.password).fill('short');
    assert.equal(await text(sel.usernameError), '用户名需要 2 到 32 个字符。');
    assert.equal(await text(sel.passwordError), '密码至少需要 8 个字符。');
    await username.fill('bad name!');
    assert.match(await text(sel.usernameError), /只能包含字母、数字、中文和 _ - \./);
    await shoot('register-errors');

    // The errors follow a language switch.
    await page.locator(sel.langEn).click();
    await waitFor(async () => (await text(sel.passwordError)) === 'The password must be at least 8 characters long.',
      { what: 'the English rule' });
    await page.locator(sel.langZh).click();
    await waitFor(async () => (await text(sel.passwordError)) === '密码至少需要 8 个字符。', { what: 'Chinese again' });

    await username.fill('王小明');
    await page.locator(sel.password).fill(PASSWORD);
    assert.equal(await page.locator(sel.usernameError).count(), 0, 'a Chinese name is fine');
    assert.equal(await page.locator(sel.passwordError).count(), 0);
    assert.equal(await username.getAttribute('aria-invalid'), null);
    await stack.addKey(KEY);
    await page.locator(sel.submit).click();
    await page.locator(sel.input).waitFor();
  });

  step('the redeem dialog links the shop only when site.shop_url is set', async () => {
    await openRedeem();
    assert.equal(await page.locator(sel.shop).count(), 0, 'no shop link without a shop');
    await page.locator(sel.close).click();

    await setting('site.shop_url', 'https://shop.example.com/cards');
    await page.reload();
    await page.locator(sel.input).waitFor();
    await openRedeem();
    const link = page.locator(sel.shop);
    assert.equal(await link.innerText(), '购买充值卡');
    assert.equal(await link.getAttribute('href'), 'https://shop.example.com/cards');
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
    const dialog = page.locator(sel.dialog);
    assert.equal(await dialog.getAttribute('role'), 'dialog');
    assert.equal(await dialog.getAttribute('aria-modal'), 'true');
    const titleId = await dialog.getAttribute('aria-labelledby');
    assert.equal(await page.locator(`#${titleId}`).innerText(), '我的账户');
    await shoot('redeem-shop');
    await page.keyboard.press('Escape');
    await page.locator(sel.dialog).waitFor({ state: 'detached' });
  });

  step('the invite tab is absent at zero rewards and present once an invite earns something', async () => {
    await setting('referral.signup_reward', '0');
    await setting('referral.paid_percent', '0');
    await page.reload();
    await page.locator(sel.input).waitFor();
    await openRedeem();
    assert.equal(await page.locator(sel.tabRedeem).count(), 1);
    assert.equal(await page.locator(sel.tabInvite).count(), 0, 'no invite tab while invites earn nothing');
    // An outside click closes the dialog too.
    await page.mouse.click(5, 5);
    await page.locator(sel.dialog).waitFor({ state: 'detached' });

    await setting('referral.signup_reward', '3');
    await page.reload();
    await page.locator(sel.input).waitFor();
    await openRedeem();
    await page.locator(sel.tabInvite).click();
    const intro = await text(sel.inviteIntro);
    assert.match(intro, /你获得 3 次提问/);
    assert.doesNotMatch(intro, /%/, 'no share of top-ups is promised while paid_percent is 0');
    await page.locator(tid('invite-link')).waitFor();
    await shoot('account-invite');
    await page.locator(sel.close).click();
  });

  step('the manifest is linked and served with the site name and icons', async () => {
    assert.equal(await page.locator('link[rel="manifest"]').getAttribute('href'), '/manifest.webmanifest');
    assert.ok(await page.locator('meta[name="theme-color"]').getAttribute('content'), 'a theme colour');
    assert.equal(await page.locator('link[rel="apple-touch-icon"]').getAttribute('href'), '/apple-touch-icon.png');
    for (const icon of ['/icon-192.png', '/icon-512.png', '/apple-touch-icon.png']) {
      const response = await fetch(`${stack.url}${icon}`);
      assert.equal(response.status, 200, icon);
      assert.equal(response.headers.get('content-type'), 'image/png', icon);
    }
    const response = await fetch(`${stack.url}/manifest.webmanifest`);
    assert.equal(response.status, 200);
    const manifest = await response.json();
    assert.equal(manifest.name, '星河问答');
    assert.equal(manifest.start_url, '/');
    assert.equal(manifest.display, 'standalone');
    const sources = manifest.icons.map((i) => i.src);
    assert.ok(sources.includes('/icon-192.png') && sources.includes('/icon-512.png'), JSON.stringify(sources));
    assert.ok(sources.includes(`${logoOrigin}/brand/logo.png`), `the logo is an icon: ${JSON.stringify(sources)}`);
  });

  step('the service worker caches the shell, never an API answer, and opens the app offline', async () => {
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.reload();
    await page.locator(sel.input).waitFor();
    const script = await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? '');
    assert.match(script, /\/sw\.js\?v=index-[\w-]+\.js$/, 'the page is controlled by this build\'s worker');

    await page.locator(sel.input).fill('你好，介绍一下你自己');
    await page.locator(sel.send).click();
    await page.locator(`${sel.answers}[data-status="done"]`).last().waitFor({ timeout: 30_000 });

    const cached = await page.evaluate(async () => {
      const out = [];
      for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const request of await cache.keys()) out.push({ cache: name, path: new URL(request.url).pathname });
      }
      return out;
    });
    const paths = cached.map((c) => c.path);
    assert.ok(cached.length > 0 && cached.every((c) => c.cache.startsWith('chatd-shell-')), JSON.stringify(cached));
    assert.ok(paths.includes('/'), 'the page is cached');
    assert.ok(paths.some((p) => /^\/assets\/index-.*\.js$/.test(p)), 'the main script is cached');
    assert.ok(paths.includes('/icon-192.png'), 'the icons are cached');
    assert.deepEqual(paths.filter((p) => /^\/(rpc|api|pay|wechat|admin|manifest)/.test(p)), [], 'no API answers cached');

    await page.context().setOffline(true);
    try {
      await page.reload();
      // The shell starts and says it cannot reach the server, rather than the browser's error page.
      await page.locator('.splash[role="alert"]').waitFor();
      assert.match(await page.locator('.splash[role="alert"]').innerText(), /网络连接失败/);
    } finally {
      await page.context().setOffline(false);
    }
    // Going offline produces failed requests in the console; they are the point of this step.
    browser.problems.splice(0, browser.problems.length,
      ...browser.problems.filter((p) => !(p.kind === 'console' && /Failed to (load resource|fetch)|ERR_INTERNET_DISCONNECTED/.test(p.text))));
    await page.reload();
    await page.locator(`${sel.answers}[data-status="done"]`).waitFor();
  });

  step('the account dialog, dark', async () => {
    await stack.ctl(['settings', 'set', 'site.default_theme', 'dark']);
    await page.reload();
    await page.locator(sel.input).waitFor();
    await waitFor(async () => (await page.locator('html').getAttribute('data-theme')) === 'dark', { what: 'the dark theme' });
    await page.locator(`${sel.answers}[data-status="done"]`).waitFor();
    await openRedeem();
    assert.equal(await page.locator(sel.shop).count(), 1);
    await shoot('account-redeem-dark');
    await page.locator(sel.close).click();
  });

  noProblems();
});
