// The visitor's chat screen as people know it from ChatGPT-like apps: the stream stays in view
// (following the bottom, stopping when the reader scrolls up, a "jump to latest" button, history
// opening at its latest message), accessible markup (header, main, menus with aria-expanded,
// labelled icon buttons), the account menu (Escape and an outside click close it), the model
// picker's badges, the empty chat's greeting, tables that wrap between words on a phone, the
// out-of-credits actions (buy with payment only, redeem, where cards are sold, invites only when
// they earn something) and the admin's "not charged" label. Screenshots `u*.png`.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe } from 'node:test';
import { ApiClient } from './lib/api.mjs';
import { common } from './lib/selectors.mjs';
import { REPO_ROOT, sleep, waitFor } from './lib/stack.mjs';
import { accountMenu, chooseTheme, DESKTOP, PHONE, pick, scenario, useSession } from './lib/steps.mjs';

const FAST_KEY = 'sk-e2u0001:ok:tokens=8:delay=5';
// About 9 s of answer: long enough to scroll around while it streams.
const LONG_KEY = 'sk-e2u0002:ok:tokens=300:delay=30';
const ECHO_KEY = 'sk-e2u0003:echo:delay=2';
const EPAY = { pid: '1024', key: 'e2eBuyEpayMerchantKey0123456789' };
const ADMIN = { username: 'uiboss', password: 'admin passphrase 2026' };
const SITE = 'Lumen AI';

const tid = (id) => `[data-testid="${id}"]`;
const sel = {
  ...common,
  accountMenu: tid('account-menu'),
  accountPanel: tid('account-menu-panel'),
  jump: tid('jump-latest'),
  chatError: tid('chat-error'),
  historyItem: tid('history-item'),
};

describe('chatd web UI: the chat screen', () => {
  const { ctx, step, shoot, noProblems } = scenario({ prefix: 'u' });
  let epay = null;
  let longConversation;

  after(async () => {
    if (epay && epay.exitCode === null) {
      epay.kill('SIGTERM');
      await new Promise((resolve) => epay.once('exit', resolve));
    }
  });

  const page = () => ctx.page;

  async function onlyKey(key) {
    const keys = await ctx.stack.ctl(['keys', 'list']);
    for (const k of keys.items) await ctx.stack.removeKey(k.id);
    await ctx.stack.addKey(key);
  }

  async function ask(question) {
    const p = page();
    const done = await p.locator(`${sel.answers}[data-status="done"]`).count();
    await p.locator(sel.input).fill(question);
    await p.locator(sel.send).click();
    await waitFor(async () => (await p.locator(`${sel.answers}[data-status="done"]`).count()) > done,
      { timeout: 30_000, what: 'the answer to finish' });
    await p.locator(sel.send).waitFor();
  }

  /** Where the last answer's bottom is relative to the message list's visible area (px). */
  const geometry = () => page().evaluate(() => {
    const scroller = document.querySelector('main.messages');
    const answers = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
    const last = answers[answers.length - 1];
    const box = scroller.getBoundingClientRect();
    const answer = last.getBoundingClientRect();
    return {
      scrollTop: scroller.scrollTop,
      fromBottom: scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight,
      answerBottom: answer.bottom,
      viewTop: box.top,
      viewBottom: box.bottom,
      words: last.innerText.trim().split(/\s+/).length,
    };
  });
  const answerInView = (g) => g.answerBottom <= g.viewBottom + 2 && g.answerBottom >= g.viewTop;

  async function signUpInPage(username) {
    const p = page();
    await p.goto(ctx.stack.url);
    await p.locator(sel.switchMode).click();
    await p.locator(sel.username).fill(username);
    await p.locator(sel.password).fill('correct horse battery staple');
    await p.locator(sel.submit).click();
    await p.locator(sel.balance).waitFor();
  }

  step('the empty chat greets with the site name; header, main and labelled icon buttons; one row on a phone', async () => {
    const { stack } = ctx;
    await stack.ctl(['settings', 'set', 'site.name', SITE]);
    await stack.ctl(['settings', 'set', 'site.tagline', '快速、可靠的 AI 助手']);
    await stack.ctl(['settings', 'set', 'referral.signup_reward', '0']);
    await stack.ctl(['settings', 'set', 'referral.paid_percent', '0']);
    await onlyKey(FAST_KEY);
    await signUpInPage('uiuser');
    const p = page();
    const welcome = p.locator(tid('welcome'));
    await welcome.waitFor();
    assert.match(await welcome.innerText(), new RegExp(`${SITE}[\\s\\S]*有什么可以帮你`));
    // The presets load after the greeting shows: wait for them before counting.
    await p.locator(tid('presets')).waitFor();
    assert.equal(await p.locator(tid('preset')).count(), 3, 'the presets as suggestion cards');
    assert.equal(await p.locator('header').count(), 1, 'the top bar is a <header>');
    assert.equal(await p.locator('main').count(), 1, 'the message list is a <main>');
    const bare = await p.locator('header button:not([aria-label])').evaluateAll((els) => els.filter((b) => b.innerText.trim() === '').length);
    assert.equal(bare, 0, 'every icon button of the top bar has an aria-label');
    assert.ok((await p.locator('header button[aria-label]').count()) >= 3, 'menu, new chat and account are labelled icons');
    const unlabelled = await p.locator('button').evaluateAll((els) =>
      els.filter((b) => b.innerText.trim() === '' && !b.getAttribute('aria-label')).map((b) => b.outerHTML.slice(0, 80)));
    assert.deepEqual(unlabelled, [], 'icon-only buttons have an aria-label');
    assert.equal(await p.locator(sel.newChat).count(), 1, 'exactly one "new chat" control');
    assert.equal(await p.locator('select').count(), 0, 'no native selects on the chat screen');
    await shoot('empty');

    await p.setViewportSize(PHONE);
    const box = await p.locator('header').boundingBox();
    assert.ok(box.height <= 56, `the phone's top bar is one row of at most 56 px: ${box.height}`);
    for (const id of ['sidebar-toggle', 'site-name', 'balance', 'new-chat', 'account-menu']) {
      const b = await p.locator(tid(id)).boundingBox();
      assert.ok(b && b.y >= box.y - 1 && b.y + b.height <= box.y + box.height + 1, `${id} sits in the top bar's row`);
    }
    await p.setViewportSize(DESKTOP);
    await chooseTheme(p, 'dark');
    await shoot('empty-dark');
    await chooseTheme(p, 'light');
  });

  step('account menu: aria-expanded, arrow keys, Escape and an outside click close it; no invite while it earns nothing', async () => {
    const p = page();
    const button = p.locator(sel.accountMenu);
    assert.equal(await button.getAttribute('aria-haspopup'), 'menu');
    assert.equal(await button.getAttribute('aria-expanded'), 'false');
    await button.click();
    const panel = p.locator(sel.accountPanel);
    await panel.waitFor();
    assert.equal(await panel.getAttribute('role'), 'menu');
    assert.equal(await button.getAttribute('aria-expanded'), 'true');
    const items = await panel.locator('[role^="menuitem"]').count();
    assert.ok(items >= 6, `usage, redeem, themes, languages, log out: ${items} items`);
    for (const id of ['side-usage', 'redeem-open', 'theme-select', 'language-select', 'logout']) {
      assert.equal(await panel.locator(tid(id)).count(), 1, `${id} in the account menu`);
    }
    assert.equal(await panel.locator(tid('side-invite')).count(), 0, 'no invite entry when invites earn nothing');
    assert.equal(await panel.locator(tid('buy-open')).count(), 0, 'no buy entry without payment');
    assert.equal(await panel.locator(tid('admin-link')).count(), 0, 'no console for a visitor');
    assert.match(await panel.innerText(), /试用 10/);
    const focused = () => p.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.textContent);
    assert.equal(await focused(), 'side-usage', 'the first item has the focus');
    await p.keyboard.press('ArrowDown');
    assert.equal(await focused(), 'redeem-open', 'ArrowDown moves to the next item');
    await p.keyboard.press('ArrowUp');
    await p.keyboard.press('ArrowUp');
    assert.equal(await focused(), 'logout', 'ArrowUp wraps to the last item');
    await shoot('account-menu');

    await p.keyboard.press('Escape');
    await panel.waitFor({ state: 'detached' });
    assert.equal(await button.getAttribute('aria-expanded'), 'false');
    assert.equal(await focused(), 'account-menu', 'the focus is back on the avatar');

    await button.click();
    await panel.waitFor();
    await p.mouse.click(640, 400); // the middle of the (empty) chat
    await panel.waitFor({ state: 'detached' });
    assert.equal(await button.getAttribute('aria-expanded'), 'false', 'an outside click closes it');
  });

  step('model picker: a styled menu of models with cost and vision/reasoning badges', async () => {
    const { stack } = ctx;
    await stack.ctl(['admin', 'add', ADMIN.username], `${ADMIN.password}\n`);
    const boss = new ApiClient(stack.url);
    await boss.call('auth.password.login', ADMIN);
    await boss.call('admin.models.set', { id: 'seer', name: 'Seer Vision', upstream_model: 'gpt-4o', cost: 2, vision: true });
    await boss.call('admin.models.set', { id: 'thinker', name: 'Deep Thinker', upstream_model: 'gpt-4o', cost: 3, reasoning: true });
    const p = page();
    await p.reload();
    const picker = p.locator(tid('model-select'));
    await picker.waitFor();
    assert.equal(await picker.getAttribute('aria-haspopup'), 'menu');
    await picker.click();
    const menu = p.locator(tid('model-menu'));
    await menu.waitFor();
    assert.equal(await picker.getAttribute('aria-expanded'), 'true');
    const seer = menu.locator(`${tid('model-option')}[data-value="seer"]`);
    const thinker = menu.locator(`${tid('model-option')}[data-value="thinker"]`);
    assert.match(await seer.innerText(), /Seer Vision[\s\S]*识图[\s\S]*2 次\/问/);
    assert.equal(await seer.locator(tid('badge-vision')).count(), 1);
    assert.equal(await seer.locator(tid('badge-reasoning')).count(), 0);
    assert.match(await thinker.innerText(), /Deep Thinker[\s\S]*推理[\s\S]*3 次\/问/);
    assert.equal(await thinker.locator(tid('badge-reasoning')).count(), 1);
    assert.equal(await menu.locator('[aria-checked="true"]').count(), 1, 'the chosen model is checked');
    await shoot('model-picker');
    await p.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached' });
    await pick(p, 'model-select', 'thinker');
    assert.match(await picker.innerText(), /Deep Thinker/);
    await pick(p, 'model-select', 'seer');
  });

  step('the stream stays in view after a long question; scrolling up stops following; the jump button resumes it', async () => {
    const p = page();
    await ask('A first, short question');
    await onlyKey(LONG_KEY);
    const lines = Array.from({ length: 70 }, (_, i) => `Line ${i + 1} of a long question that fills the screen`);
    await p.locator(sel.input).fill(lines.join('\n'));
    await p.locator(sel.send).click();
    await waitFor(async () => (await geometry()).words >= 20, { timeout: 20_000, what: 'the answer streaming' });
    for (let i = 0; i < 5; i++) {
      const g = await geometry();
      assert.ok(answerInView(g), `the streaming answer's end is in view (sample ${i}): ${JSON.stringify(g)}`);
      await sleep(250);
    }
    assert.equal(await p.locator(sel.jump).count(), 0, 'no jump button while at the bottom');

    // The reader scrolls up: the view stays where they put it while the answer grows.
    const box = await p.locator('main.messages').boundingBox();
    await p.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await p.mouse.wheel(0, -900);
    await p.locator(sel.jump).waitFor();
    await sleep(300);
    const held = await geometry();
    await sleep(900);
    const later = await geometry();
    assert.ok(later.words > held.words, `the answer kept growing: ${held.words} → ${later.words}`);
    assert.ok(Math.abs(later.scrollTop - held.scrollTop) <= 1, `scrollTop stays: ${held.scrollTop} → ${later.scrollTop}`);
    assert.ok(later.fromBottom > 100, 'no longer at the bottom');
    assert.equal(await p.locator(sel.jump).getAttribute('aria-label'), '回到最新');
    await shoot('jump-latest');

    // Back to the latest, and following again while it streams.
    await p.locator(sel.jump).click();
    await waitFor(async () => (await geometry()).fromBottom < 4, { what: 'the bottom after the jump' });
    const resumed = await geometry();
    await sleep(800);
    const after = await geometry();
    assert.ok(after.words > resumed.words, 'still streaming');
    assert.ok(answerInView(after) && after.fromBottom < 4, `following again: ${JSON.stringify(after)}`);
    await waitFor(async () => (await p.locator(sel.answers).last().getAttribute('data-status')) === 'done',
      { timeout: 30_000, what: 'the long answer to finish' });
    await p.locator(sel.jump).waitFor({ state: 'detached' });
    longConversation = Number(/\/c\/(\d+)/.exec(new URL(p.url()).pathname)[1]);
  });

  step('a conversation opened from history (sidebar or address) shows its latest message', async () => {
    const p = page();
    await onlyKey(FAST_KEY);
    await p.locator(sel.newChat).click();
    await p.locator(tid('welcome')).waitFor();
    await p.locator(`${sel.historyItem}[data-id="${longConversation}"] ${tid('history-title')}`).click();
    await waitFor(async () => (await p.locator(sel.answers).count()) === 2, { what: 'the conversation loaded' });
    await waitFor(async () => { const g = await geometry(); return g.fromBottom < 4 && answerInView(g); },
      { what: 'the latest message in view after opening from the sidebar' });

    await p.goto(`${ctx.stack.url}/c/${longConversation}`);
    await waitFor(async () => (await p.locator(sel.answers).count()) === 2, { what: 'the conversation loaded from its address' });
    await waitFor(async () => { const g = await geometry(); return g.fromBottom < 4 && answerInView(g); },
      { what: 'the latest message in view after opening the address' });
    assert.equal(await p.locator(sel.jump).count(), 0);
  });

  step('answers are full-width text with icon actions; a table wraps between words on a phone and scrolls sideways', async () => {
    const p = page();
    await onlyKey(ECHO_KEY);
    await p.locator(sel.newChat).click();
    await ask([
      '对比一下这三种方案：',
      '',
      '| 方案 | Description | Trade-offs | Availability | 价格 |',
      '|------|-------------|------------|--------------|------|',
      '| 本地部署 | Everything runs on your own hardware with predictable costs | Maintenance responsibility stays entirely with you | Depends on your operations | 一次性投入 |',
      '| 云端托管 | Managed infrastructure scaling automatically | Recurring subscription expenses accumulate | Guaranteed uptime agreements | 按月付费 |',
      '',
      '```python',
      'def greet(name: str) -> str:',
      '    return f"Hello, {name}!"',
      '```',
    ].join('\n'));
    const answer = p.locator(sel.answers).last();
    await answer.locator('table').waitFor();
    await answer.locator('.hljs-keyword').first().waitFor({ timeout: 10_000 });
    const style = await answer.evaluate((el) => getComputedStyle(el));
    assert.equal(style.borderTopWidth, '0px', 'no card border around an answer');
    const widths = await answer.evaluate((el) => ({ answer: el.getBoundingClientRect().width, list: el.closest('ol').clientWidth }));
    assert.ok(widths.answer >= widths.list - 48, `the answer spans the column: ${JSON.stringify(widths)}`);
    const row = p.locator('.msg').last();
    await row.hover();
    for (const id of ['msg-copy', 'msg-regenerate']) {
      const b = row.locator(tid(id));
      assert.ok((await b.getAttribute('aria-label')) && (await b.getAttribute('title')), `${id} has a label and a tooltip`);
      assert.equal((await b.innerText()).trim(), '', `${id} is an icon`);
      assert.equal(await b.locator('svg').count(), 1);
    }
    await shoot('table-code');
    await chooseTheme(p, 'dark');
    await shoot('table-code-dark');
    await chooseTheme(p, 'light');

    await p.setViewportSize(PHONE);
    const broken = await answer.locator('td, th').evaluateAll((cells) => cells.flatMap((cell) => {
      const probe = document.createElement('span');
      probe.style.cssText = 'position:absolute;visibility:hidden;white-space:nowrap';
      cell.appendChild(probe);
      const inner = cell.clientWidth - parseFloat(getComputedStyle(cell).paddingLeft) - parseFloat(getComputedStyle(cell).paddingRight);
      // Latin words only: Chinese wraps between any two characters by design.
      const out = cell.textContent.split(/\s+/).filter((w) => /^[\x21-\x7e]+$/.test(w)).flatMap((word) => {
        probe.textContent = word;
        return probe.getBoundingClientRect().width > inner + 0.5 ? [`${word} (${inner.toFixed(0)} px)`] : [];
      });
      probe.remove();
      return out;
    }));
    assert.deepEqual(broken, [], 'every word fits its cell: cells wrap between words');
    const table = await answer.locator('table').evaluate((t) => ({ scroll: t.scrollWidth, client: t.clientWidth, overflow: getComputedStyle(t).overflowX }));
    assert.ok(table.scroll > table.client && table.overflow === 'auto', `the wide table scrolls sideways: ${JSON.stringify(table)}`);
    await p.setViewportSize(DESKTOP);
  });

  step('out of credits: redeem, no buy without payment, no shop link or invite until set', async () => {
    const { stack } = ctx;
    await stack.ctl(['settings', 'set', 'billing.trial_questions', '0']);
    await accountMenu(page(), 'logout');
    await page().locator(sel.loginForm).waitFor();
    await signUpInPage('brokeuser');
    const p = page();
    assert.equal(await p.locator(sel.balance).getAttribute('data-trial'), '0');
    await p.locator(sel.input).fill('Anything left for me?');
    await p.locator(sel.send).click();
    const error = p.locator(sel.chatError);
    await error.waitFor();
    assert.equal(await error.getAttribute('data-reason'), 'insufficient_credits');
    assert.match(await error.innerText(), /剩余次数不足/);
    assert.equal(await error.locator(tid('credits-buy')).count(), 0, 'no buy button without payment');
    assert.equal(await error.locator(tid('credits-shop')).count(), 0, 'no shop link while site.shop_url is unset');
    assert.equal(await error.locator(tid('credits-invite')).count(), 0, 'no invite while it earns nothing');
    assert.equal((await error.locator(tid('credits-redeem')).innerText()).trim(), '兑换充值卡');
    await error.locator(tid('credits-redeem')).click();
    await p.locator(tid('account-dialog')).waitFor();
    await p.locator(tid('redeem-code')).waitFor();
    await p.locator(tid('account-close')).click();
  });

  step('out of credits with a shop link, invites on and payment: buy opens the buy dialog', async () => {
    const { stack } = ctx;
    await stack.ctl(['settings', 'set', 'site.shop_url', 'https://shop.example.com/cards']);
    await stack.ctl(['settings', 'set', 'referral.signup_reward', '2']);
    // An epay merchant (the fake) and a plan: buying online is offered.
    const portFile = path.join(stack.workdir, 'epay.port');
    const fd = openSync(path.join(stack.workdir, 'epay.log'), 'a');
    epay = spawn('python3', [path.join(REPO_ROOT, 'tests', 'fakes', 'fake_epay.py'), '--listen', '127.0.0.1:0',
      '--port-file', portFile, '--pid', EPAY.pid, '--key', EPAY.key], { stdio: ['ignore', fd, fd], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    closeSync(fd);
    const port = await waitFor(() => existsSync(portFile) && readFileSync(portFile, 'utf8').trim(), { timeout: 20_000, what: 'the fake epay port' });
    const conf = readFileSync(stack.confPath, 'utf8');
    writeFileSync(stack.confPath, [`public_url = ${stack.url}`, conf, '[pay.epay]', `pid = ${EPAY.pid}`, `key = ${EPAY.key}`,
      `api_base = http://127.0.0.1:${Number(port)}/`, ''].join('\n'));
    stack.chatd.child.kill('SIGHUP');
    await stack.ctl(['plans', 'set', '--name', '月卡', '--price', '19.90', '--questions', '100', '--days', '30']);
    const p = page();
    await waitFor(async () => {
      const offer = await p.evaluate(async () => (await (await fetch('/rpc', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'pay.plans' }) })).json()).result);
      return offer.channels.length > 0;
    }, { timeout: 10_000, what: 'payment after SIGHUP' });

    await p.reload();
    await p.locator(sel.input).fill('Anything left for me now?');
    await p.locator(sel.send).click();
    const error = p.locator(sel.chatError);
    await error.waitFor();
    const shop = error.locator(tid('credits-shop'));
    assert.equal(await shop.getAttribute('href'), 'https://shop.example.com/cards');
    assert.equal(await shop.getAttribute('target'), '_blank');
    assert.match(await shop.getAttribute('rel'), /noopener/);
    assert.equal((await shop.innerText()).trim(), '去购买充值卡');
    assert.equal(await error.locator(tid('credits-invite')).count(), 1, 'invites earn something now');
    assert.equal((await error.locator(tid('credits-buy')).innerText()).trim(), '购买');
    await shoot('out-of-credits');
    await chooseTheme(p, 'dark');
    await shoot('out-of-credits-dark');
    await chooseTheme(p, 'light');

    await p.locator(sel.accountMenu).click();
    await p.locator(`${sel.accountPanel} ${tid('side-invite')}`).waitFor();
    assert.equal(await p.locator(`${sel.accountPanel} ${tid('buy-open')}`).count(), 1, 'buy in the account menu too');
    await p.keyboard.press('Escape');

    await error.locator(tid('credits-buy')).click();
    await p.locator(`${tid('buy-dialog')}[data-stage="choose"]`).waitFor();
    assert.equal(await p.locator(tid('buy-dialog')).getAttribute('role'), 'dialog');
  });

  step('an admin is told they are not charged', async () => {
    const { stack, browser } = ctx;
    const boss = new ApiClient(stack.url);
    await boss.call('auth.password.login', ADMIN);
    await useSession(browser, stack, boss);
    const p = page();
    await p.goto(stack.url);
    await p.locator(sel.balance).waitFor();
    assert.match(await p.locator(sel.balance).innerText(), /管理员 · 不计费/);
    await p.locator(sel.accountMenu).click();
    assert.match(await p.locator(tid('account-summary')).innerText(), /管理员 · 不计费/);
    assert.equal(await p.locator(`${sel.accountPanel} ${tid('admin-link')}`).getAttribute('href'), '/admin');
    await p.waitForTimeout(200); // the menu's fade-in
    await shoot('admin-menu', [DESKTOP]);
    await p.keyboard.press('Escape');
  });

  noProblems();
});
