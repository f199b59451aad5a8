// The operator's console at /admin, driven in the browser against real traffic: a visitor asks
// three questions through the API, then the admin (created with `chatctl admin add`) logs in and
// sees them on the dashboard (tiles and SVG charts), generates a card batch and downloads it in
// chatctl's three formats (compared with `chatctl cards export`), revokes a card, grants the
// visitor credits (checked through the visitor's own API), reads the visitor's conversation in
// the logs, manages keys, changes the announcement (a visitor's chat shows it as a dismissible
// banner) and finds all of it in the audit log as done by the admin via the web. A visitor's
// session gets `forbidden` from admin methods, no session `unauthorized`; a visitor cannot pass
// the admin login form. Screenshots of every page at desktop and phone size (`a*.png`).
// A second daemon: two priced models and a priced credit, a visitor's questions on both, and the
// dashboard's cost, revenue and margin per day and per model, a loss in red with a minus (`am*.png`).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe } from 'node:test';
import { ApiClient, signUp } from './lib/api.mjs';
import { admin as adm, common } from './lib/selectors.mjs';
import { PHONE, DESKTOP, scenario, useSession } from './lib/steps.mjs';
import { waitFor } from './lib/stack.mjs';

const KEY = 'sk-adm0001:ok:tokens=5:delay=5';
const ADMIN = { username: 'boss', password: 'admin passphrase 2026' };
const VISITOR = { username: 'visitor1', password: 'correct horse battery staple' };
const QUESTIONS = ['熊猫每天吃多少竹子？', 'Question two about pandas', '第三个问题：pandas 和 numpy 的区别'];
const BATCH = 'e2e-批次-1';
const CODE = /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/;
const ANNOUNCEMENT = '今晚 23:00 维护，预计 10 分钟。\nMaintenance tonight at 23:00.';

const tid = (id) => `[data-testid="${id}"]`;
const sel = {
  ...common,
  ...adm,
  stat: (id) => `[data-testid="stat-${id}"]`,
  chart: (id) => `[data-testid="chart-${id}"]`,
  banner: tid('announcement-banner'),
  bannerDismiss: tid('announcement-dismiss'),
};

describe('chatd operator console', () => {
  const { ctx, step, shoot, noProblems } = scenario({ prefix: 'a' });
  let visitor; // ApiClient holding the visitor's session
  let visitorId;
  let conversationId;
  let generatedCodes = [];

  const page = () => ctx.page;
  const attr = (selector, name) => page().locator(selector).first().getAttribute(name);

  /** Goes to a console page through the navigation, as a person would. */
  async function open(name) {
    const p = page();
    if (await p.locator(sel.menuToggle).isVisible()) await p.locator(sel.menuToggle).click();
    await p.locator(sel.navLink(name)).click();
    await p.locator(sel.page(name)).waitFor();
  }

  /** Clicks something that asks for confirmation, and confirms. */
  async function confirmed(selector) {
    const p = page();
    const dialog = p.waitForEvent('dialog').then((d) => d.accept());
    await p.locator(selector).click();
    await dialog;
  }

  async function downloadText(selector) {
    const p = page();
    const [download] = await Promise.all([p.waitForEvent('download'), p.locator(selector).click()]);
    return { name: download.suggestedFilename(), text: readFileSync(await download.path(), 'utf8') };
  }

  async function login(username, password) {
    const p = page();
    await p.locator(sel.username).fill(username);
    await p.locator(sel.password).fill(password);
    await p.locator(sel.submit).click();
  }

  step('real traffic: a visitor asks three questions; admin methods refuse visitors and strangers', async () => {
    const { stack } = ctx;
    await stack.ctl(['admin', 'add', ADMIN.username], `${ADMIN.password}\n`);
    await stack.addKey(KEY);
    visitor = await signUp(stack.url, VISITOR.username, VISITOR.password);
    visitorId = (await visitor.call('me.get')).id;
    for (const content of QUESTIONS) {
      const sent = await visitor.call('chat.send', conversationId ? { content, conversation_id: conversationId } : { content });
      conversationId = sent.conversation_id;
      const { event, data } = await visitor.waitAnswer(sent.stream);
      assert.equal(event, 'done', JSON.stringify(data));
    }
    assert.equal((await visitor.call('me.get')).balance.trial, 7);

    await assert.rejects(visitor.call('admin.status'), (err) => err.rpc?.data?.reason === 'forbidden');
    await assert.rejects(visitor.call('admin.users.grant', { id: visitorId, questions: 100 }),
      (err) => err.rpc?.data?.reason === 'forbidden');
    await assert.rejects(new ApiClient(stack.url).call('admin.stats', { days: 30 }),
      (err) => err.rpc?.data?.reason === 'unauthorized');
    assert.equal((await visitor.call('me.get')).balance.trial, 7, 'the refused grant changed nothing');
  });

  step('the admin login form turns a visitor away without showing admin data', async () => {
    const p = page();
    await p.goto(`${ctx.stack.url}/admin`);
    await p.locator(sel.loginForm).waitFor();
    await shoot('login');
    await login(VISITOR.username, VISITOR.password);
    await p.locator(sel.loginError).waitFor();
    assert.equal(await attr(sel.loginError, 'data-reason'), 'not_admin');
    assert.match(await p.locator(sel.loginError).innerText(), /不是管理员/);
    assert.equal(await p.locator(sel.nav).count(), 0, 'no console for a visitor');
    // The visitor's session was closed again: reloading shows the login form, not the console.
    await p.reload();
    await p.locator(sel.loginForm).waitFor();

    await login(ADMIN.username, 'wrong password');
    await waitFor(async () => (await attr(sel.loginError, 'data-reason')) === 'bad_credentials', { what: 'bad_credentials' });
  });

  step('dashboard: today\'s three questions, the users, and the charts as SVG', async () => {
    const p = page();
    await login(ADMIN.username, ADMIN.password);
    await p.locator(sel.page('dashboard')).waitFor();
    await p.locator(sel.stat('questions-today')).waitFor();
    assert.equal(await attr(sel.stat('questions-today'), 'data-value'), '3');
    assert.match(await p.locator(sel.stat('questions-today')).innerText(), /今日提问\s*3/);
    assert.equal(await attr(sel.stat('users'), 'data-value'), '1', 'the visitor; the admin is not one');
    assert.equal(await attr(sel.stat('active-today'), 'data-value'), '1');
    assert.equal(await attr(sel.stat('keys-active'), 'data-value'), '1');
    assert.equal(await attr(sel.stat('in-flight'), 'data-value'), '0');

    // Thirty bars, today's (the last) the only one above the baseline.
    const bars = p.locator(`${sel.chart('questions')} svg rect`);
    assert.equal(await bars.count(), 30);
    assert.match(await bars.last().locator('title').textContent(), /: 3$/);
    assert.ok(Number(await bars.last().getAttribute('height')) > 0);
    assert.equal(Number(await bars.first().getAttribute('height')), 0);
    assert.match(await p.locator(`${sel.chart('questions')} svg`).getAttribute('aria-label'), /今天 3 个/);
    assert.equal(await p.locator(`${sel.chart('users')} svg path`).count(), 2, 'new and active users');
    assert.equal(await p.locator(`${sel.chart('latency')} svg path`).count(), 2, 'p50 and p95');
    assert.ok((await p.locator(`${sel.chart('latency')} svg circle`).count()) >= 2, 'today has latency points');
    assert.equal(await p.locator(`${sel.chart('keys')} svg circle.donut-part`).count(), 1, 'one active key');
    assert.match(await p.locator(`${sel.chart('keys')} svg`).getAttribute('aria-label'), /可用 1/);
    await shoot('dashboard');
  });

  step('cards: generate a batch in the form and download it as CSV, TXT and JSON', async () => {
    const p = page();
    const { stack } = ctx;
    await open('cards');
    await p.locator(tid('cards-count')).fill('3');
    await p.locator(tid('cards-questions')).fill('20');
    await p.locator(tid('cards-days')).fill('30');
    await p.locator(tid('cards-batch')).fill(BATCH);
    await p.locator(tid('cards-generate-submit')).click();
    await p.locator(tid('cards-generated')).waitFor();
    assert.equal(await attr(tid('cards-generated'), 'data-batch'), BATCH);

    const txt = await downloadText(tid('cards-download-txt'));
    assert.match(txt.name, /\.txt$/);
    generatedCodes = txt.text.split('\n');
    assert.equal(generatedCodes.pop(), '', 'each code ends with a newline');
    assert.equal(generatedCodes.length, 3);
    for (const code of generatedCodes) assert.match(code, CODE);

    const csv = await downloadText(tid('cards-download-csv'));
    const csvLines = csv.text.split('\n');
    assert.equal(csvLines[0], 'code,questions,days,batch,redeem_before');
    assert.deepEqual(csvLines.slice(1), [...generatedCodes.map((c) => `${c},20,30,${BATCH},`), '']);

    const json = JSON.parse((await downloadText(tid('cards-download-json'))).text);
    assert.deepEqual(json, generatedCodes.map((code) => ({ code, questions: 20, days: 30, batch: BATCH, redeem_before: null })));

    // The same cards chatctl knows, in the same formats (its export lists them in its own order).
    const listed = await stack.ctl(['cards', 'list', '--batch', BATCH]);
    assert.deepEqual(listed.items.map((c) => c.code).sort(), [...generatedCodes].sort());
    const sorted = (text) => text.split('\n').filter(Boolean).sort();
    for (const [format, file] of [['txt', txt], ['csv', csv]]) {
      const exported = await stack.ctlText(['cards', 'export', '--batch', BATCH, '--format', format]);
      assert.deepEqual(sorted(file.text), sorted(exported), `${format} matches chatctl`);
    }
    const exportedJson = JSON.parse(await stack.ctlText(['cards', 'export', '--batch', BATCH, '--format', 'json']));
    assert.deepEqual([...json].sort((a, b) => a.code.localeCompare(b.code)), exportedJson);

    // A batch downloaded later from the batches table is byte for byte chatctl's export.
    const row = p.locator(`${tid('batch-row')}[data-batch="${BATCH}"]`);
    for (const format of ['csv', 'txt', 'json']) {
      await p.locator(tid('batch-format')).selectOption(format);
      const file = await downloadText(`${tid('batch-row')}[data-batch="${BATCH}"] ${tid('batch-download')}`);
      assert.equal(file.text, await stack.ctlText(['cards', 'export', '--batch', BATCH, '--format', format]), format);
    }
    assert.match(await row.innerText(), /3/);
  });

  step('cards: revoke one card; the list and chatctl show it revoked', async () => {
    const p = page();
    const { stack } = ctx;
    const code = generatedCodes[0];
    await p.locator(`${tid('batch-row')}[data-batch="${BATCH}"] ${tid('batch-show')}`).click();
    const row = p.locator(`${tid('card-row')}[data-code="${code}"]`);
    await row.waitFor();
    assert.equal(await p.locator(tid('card-row')).count(), 3);
    await row.locator(tid('card-select')).check();
    await confirmed(tid('cards-revoke-selected'));
    await p.locator(`${tid('card-row')}[data-code="${code}"][data-status="revoked"]`).waitFor();
    assert.match(await p.locator(tid('cards-message')).innerText(), /已作废 1 张/);
    assert.match(await row.locator(tid('card-status')).innerText(), /已作废/);
    const listed = await stack.ctl(['cards', 'list', '--batch', BATCH]);
    assert.equal(listed.items.find((c) => c.code === code).status, 'revoked');
    assert.equal(listed.items.filter((c) => c.status === 'unused').length, 2);
    // The revoked card is refused to the visitor.
    await assert.rejects(visitor.call('cards.redeem', { code }), (err) => err.rpc?.data?.reason === 'card_revoked');
    await shoot('cards');
  });

  step('users: find the visitor, grant trial and paid credits; the visitor\'s balance shows them', async () => {
    const p = page();
    await open('users');
    await p.locator(tid('users-search')).fill(VISITOR.username);
    const row = p.locator(`${tid('user-row')}[data-id="${visitorId}"]`);
    await row.waitFor();
    await waitFor(async () => (await p.locator(tid('user-row')).count()) === 1, { what: 'the search to narrow the list' });
    await shoot('users');
    await row.locator(tid('user-open')).click();
    await p.locator(`${tid('user-detail')}[data-id="${visitorId}"]`).waitFor();
    assert.equal(await attr(tid('user-balance'), 'data-trial'), '7');
    assert.ok((await p.locator(tid('ledger-row')).count()) >= 4, 'the trial grant and three questions');

    await p.locator(tid('grant-questions')).fill('15');
    await p.locator(tid('grant-submit')).click();
    await p.locator(tid('grant-result')).waitFor();
    await p.locator(`${tid('user-balance')}[data-trial="22"]`).waitFor();
    assert.equal((await visitor.call('me.get')).balance.trial, 22);

    await p.locator(tid('grant-bucket')).selectOption('paid');
    await p.locator(tid('grant-questions')).fill('50');
    await p.locator(tid('grant-days')).fill('30');
    await p.locator(tid('grant-submit')).click();
    await p.locator(`${tid('user-balance')}[data-paid="50"]`).waitFor();
    const balance = (await visitor.call('me.get')).balance;
    assert.equal(balance.paid, 50);
    assert.ok(balance.paid_expires_at > Date.now() / 1000 + 29 * 86400);
    assert.ok((await p.locator(`${tid('ledger-row')}[data-reason="grant"]`).count()) >= 2);
    await shoot('user-detail');

    // Ban: the visitor's session ends and logging in is refused; unban: logging in works again.
    await confirmed(tid('user-ban'));
    await p.locator(tid('user-banned')).waitFor();
    const reasonOf = (err) => err.rpc?.data?.reason;
    await assert.rejects(visitor.call('me.get'), (err) => ['unauthorized', 'user_banned'].includes(reasonOf(err)));
    const again = new ApiClient(ctx.stack.url);
    await assert.rejects(again.call('auth.password.login', VISITOR), (err) => reasonOf(err) === 'user_banned');
    await confirmed(tid('user-unban'));
    await p.locator(tid('user-ban')).waitFor();
    await again.call('auth.password.login', VISITOR);
    visitor = again;
    assert.equal((await visitor.call('me.get')).id, visitorId);
  });

  step('logs: the visitor\'s conversation, found by user and by text, reads like the chat', async () => {
    const p = page();
    await p.locator(tid('user-conversations')).click();
    await p.locator(sel.page('logs')).waitFor();
    assert.equal(await p.locator(tid('logs-user')).inputValue(), String(visitorId));
    await p.locator(`${tid('log-row')}[data-id="${conversationId}"]`).waitFor();
    assert.equal(await p.locator(tid('log-row')).count(), 1);

    // Search by text instead: a word from the second question.
    await p.locator(tid('logs-user')).fill('');
    await p.locator(tid('logs-query')).fill('Question two');
    await p.locator(tid('logs-search')).click();
    await waitFor(async () => new URL(p.url()).search.includes('q=Question'), { what: 'the search in the address' });
    await p.locator(`${tid('log-row')}[data-id="${conversationId}"]`).waitFor();
    await shoot('logs');

    await p.locator(`${tid('log-row')}[data-id="${conversationId}"] ${tid('log-open')}`).click();
    await p.locator(`${tid('log-view')}[data-id="${conversationId}"]`).waitFor();
    assert.equal(new URL(p.url()).pathname, `/admin/logs/${conversationId}`);
    const asked = await p.locator(`${tid('log-message')}[data-role="user"]`).allInnerTexts();
    assert.deepEqual(asked.map((text) => text.replace(/^用户:\s*/, '').trim()), QUESTIONS);
    assert.equal(await p.locator(`${tid('log-message')}[data-role="assistant"][data-status="done"]`).count(), 3);
    assert.equal(await attr(tid('log-view'), 'data-deleted'), 'false');
    await shoot('log-view');

    // The address is a real one: a reload opens the same conversation.
    await p.reload();
    await p.locator(`${tid('log-view')}[data-id="${conversationId}"]`).waitFor();
  });

  step('keys: add keys in bulk (shown masked), test, balance, disable, remove', async () => {
    const p = page();
    const { stack } = ctx;
    await open('keys');
    await p.locator(tid('key-row')).first().waitFor();
    assert.equal(await p.locator(tid('key-row')).count(), 1);
    assert.equal(await attr(tid('key-row'), 'data-status'), 'active');

    const secrets = ['sk-dsk0001:ok:balance=37', 'sk-bad0001:invalid'];
    await p.locator(tid('keys-add-text')).fill(`${secrets.join('\n')}\n`);
    await p.locator(tid('keys-add-base-url')).fill(stack.upstreamBaseUrl);
    await p.locator(tid('keys-add-provider')).selectOption('deepseek');
    await p.locator(tid('keys-add-note')).fill('e2e 测试');
    await p.locator(tid('keys-add-submit')).click();
    await p.locator(tid('keys-add-result')).waitFor();
    await waitFor(async () => (await p.locator(tid('key-row')).count()) === 3, { what: 'three keys' });
    assert.equal(await p.locator(tid('keys-add-text')).inputValue(), '', 'the keys leave the form');
    const text = await p.locator('body').innerText();
    for (const secret of [KEY, ...secrets]) assert.ok(!text.includes(secret), `${secret} is never shown in full`);

    const keys = (await stack.ctl(['keys', 'list'])).items;
    const good = keys.find((k) => k.note === 'e2e 测试' && k.masked.endsWith(secrets[0].slice(-4)));
    const bad = keys.find((k) => k.note === 'e2e 测试' && k !== good);
    const rowOf = (k) => `${tid('key-row')}[data-id="${k.id}"]`;

    await p.locator(`${rowOf(bad)} ${tid('key-test')}`).click();
    await p.locator(`${rowOf(bad)}[data-status="invalid"]`).waitFor();
    assert.match(await p.locator(tid('keys-message')).innerText(), new RegExp(`#${bad.id} 不可用`));

    await p.locator(`${rowOf(good)} ${tid('key-balance')}`).click();
    await waitFor(async () => /37/.test(await p.locator(`${rowOf(good)} ${tid('key-balance-result')}`).innerText()),
      { what: 'the DeepSeek balance' });

    await p.locator(tid('keys-test-invalid')).click();
    await waitFor(async () => /测试了 1 个失效密钥，0 个已恢复/.test(await p.locator(tid('keys-message')).innerText()),
      { what: 'the test-all result' });

    await p.locator(`${rowOf(good)} ${tid('key-disable')}`).click();
    await p.locator(`${rowOf(good)}[data-status="disabled"]`).waitFor();
    await shoot('keys');
    await p.locator(`${rowOf(good)} ${tid('key-enable')}`).click();
    await p.locator(`${rowOf(good)}[data-status="active"]`).waitFor();

    await confirmed(`${rowOf(bad)} ${tid('key-remove')}`);
    await waitFor(async () => (await p.locator(rowOf(bad)).count()) === 0, { what: 'the removed key to go' });
    assert.equal((await stack.ctl(['keys', 'list'])).items.length, 2);
  });

  step('settings: the announcement is saved and reaches visitors through site.info', async () => {
    const p = page();
    await open('settings');
    const field = p.locator(tid('setting-site.announcement'));
    await field.waitFor();
    assert.equal(await field.inputValue(), '');
    assert.match(await p.locator(tid('login-methods')).innerText(), /用户名密码/);
    await field.fill(ANNOUNCEMENT);
    await p.locator(tid('setting-billing.trial_questions')).fill('12');
    await p.locator(tid('settings-save')).click();
    await p.locator(tid('settings-saved')).waitFor();
    assert.match(await p.locator(tid('settings-saved')).innerText(), /已保存 2 项/);
    assert.equal((await visitor.call('site.info')).announcement, ANNOUNCEMENT);
    assert.equal((await ctx.stack.ctl(['settings', 'get', 'billing.trial_questions']))['billing.trial_questions'], '12');

    // A value the daemon refuses is reported at its field and kept for correcting.
    await p.locator(tid('setting-referral.paid_percent')).fill('150');
    await p.locator(tid('settings-save')).click();
    await p.locator(tid('setting-error')).waitFor();
    assert.equal(await p.locator(tid('setting-referral.paid_percent')).inputValue(), '150');
    await p.locator(tid('settings-reset')).click();
    assert.equal(await p.locator(tid('setting-referral.paid_percent')).inputValue(), '0');
    await shoot('settings');
  });

  step('settings: models, roles and preset questions', async () => {
    const p = page();
    await p.locator(tid('settings-tab-models')).click();
    await p.locator(tid('models-section')).waitFor();
    // The section appears before its list has loaded: count once the (default) model is shown.
    await p.locator(tid('model-row')).first().waitFor();
    const models = await p.locator(tid('model-row')).count();
    await p.locator(tid('model-add-id')).fill('e2e-model');
    await p.locator(tid('model-add-cost')).fill('2');
    await p.locator(tid('model-add-submit')).click();
    await p.locator(`${tid('model-row')}[data-id="e2e-model"]`).waitFor();
    assert.equal(await p.locator(tid('model-row')).count(), models + 1);
    assert.ok((await visitor.call('site.info')).models.some((m) => m.id === 'e2e-model' && m.cost === 2));
    await shoot('models');

    await p.locator(tid('settings-tab-roles')).click();
    await p.locator(tid('roles-section')).waitFor();
    const form = p.locator(tid('role-add-form'));
    await form.locator(tid('role-name')).fill('诗人');
    await form.locator(tid('role-prompt')).fill('你是一位诗人，用五言绝句回答。');
    await form.locator(tid('role-save')).click();
    await p.locator(tid('roles-message')).waitFor();
    assert.ok((await visitor.call('roles.list')).items.some((r) => r.name === '诗人'));
    await shoot('roles');

    await p.locator(tid('settings-tab-presets')).click();
    await p.locator(tid('presets-section')).waitFor();
    await p.locator(tid('preset-add-text')).fill('给我讲一个关于熊猫的笑话');
    await p.locator(tid('preset-add-submit')).click();
    await p.locator(tid('presets-message')).waitFor();
    assert.ok((await visitor.call('presets.list')).items.some((x) => x.text === '给我讲一个关于熊猫的笑话'));
    await shoot('presets');
  });

  step('audit log: the console\'s changes, by the admin, via the web', async () => {
    const p = page();
    await open('audit');
    await p.locator(tid('audit-row')).first().waitFor();
    for (const method of ['admin.cards.generate', 'admin.cards.revoke', 'admin.users.grant', 'admin.settings.set', 'admin.keys.add']) {
      const row = p.locator(`${tid('audit-row')}[data-method="${method}"]`).first();
      assert.equal(await row.count(), 1, `${method} is in the audit log`);
      assert.equal(await row.getAttribute('data-via'), 'web', method);
      assert.match(await row.getAttribute('data-actor'), new RegExp(`\\b${ADMIN.username}$`), method);
    }
    // The parameters open as pretty JSON.
    const announced = p.locator(`${tid('audit-row')}[data-method="admin.settings.set"]`, { hasText: 'site.announcement' });
    assert.equal(await announced.count(), 1);
    const params = announced.locator(tid('audit-params'));
    await params.locator('summary').click();
    const pretty = JSON.parse(await params.locator('pre').innerText());
    assert.deepEqual(pretty, { key: 'site.announcement', value: ANNOUNCEMENT });
    // The key pool never shows a secret, not even in the audit log.
    assert.ok(!(await p.locator('body').innerText()).includes('sk-dsk0001:ok:balance=37'));
    // Where the daemon records the value before and after, the row shows what changed.
    const boss = new ApiClient(ctx.stack.url);
    await boss.call('auth.password.login', ADMIN);
    const recorded = (await boss.call('admin.audit.list', { limit: 100 })).items
      .find((a) => a.method === 'admin.settings.set' && a.params.key === 'site.announcement');
    if (recorded.before != null) {
      const change = announced.locator(`${tid('audit-diff')} li[data-key="site.announcement"]`);
      assert.equal(await change.locator('del').innerText(), '（空）');
      assert.match(await change.locator('ins').innerText(), /今晚 23:00 维护/);
    }
    await shoot('audit');
  });

  step('phone: the navigation is a drawer; themes and English', async () => {
    const p = page();
    await p.setViewportSize(PHONE);
    await open('dashboard');
    await p.locator(sel.menuToggle).click();
    await p.locator(`${sel.nav}.open`).waitFor();
    await waitFor(async () => (await p.locator(sel.nav).boundingBox())?.x === 0, { what: 'the drawer to slide in' });
    await shoot('phone-menu', [PHONE]);
    await p.locator(sel.navLink('users')).click();
    await p.locator(sel.page('users')).waitFor();
    await waitFor(async () => (await p.locator(`${sel.nav}.open`).count()) === 0, { what: 'the drawer to close' });
    await p.setViewportSize(DESKTOP);

    await open('dashboard');
    await p.locator(sel.theme).selectOption('dark');
    assert.equal(await p.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await p.locator(`${sel.chart('questions')} svg`).waitFor();
    await shoot('dashboard-dark');
    await p.locator(sel.theme).selectOption('sepia');
    await p.locator(sel.language).selectOption('en');
    await waitFor(async () => (await p.locator(sel.navLink('dashboard')).innerText()) === 'Dashboard', { what: 'English' });
    assert.match(await p.locator(sel.stat('questions-today')).innerText(), /Questions today\s*3/);
    await shoot('dashboard-english-sepia');
    await p.locator(sel.language).selectOption('zh-CN');
    await p.locator(sel.theme).selectOption('light');
    await waitFor(async () => (await p.locator(sel.navLink('dashboard')).innerText()) === '概览', { what: 'Chinese again' });
  });

  step('the visitor\'s chat shows the announcement until dismissed, and a new one again', async () => {
    const p = page();
    const { stack } = ctx;
    await useSession(ctx.browser, stack, visitor);
    await p.goto(stack.url);
    await p.locator(sel.banner).waitFor();
    assert.equal(await p.locator(`${sel.banner} .announce-text`).innerText(), ANNOUNCEMENT);
    await shoot('visitor-banner');
    await p.locator(sel.bannerDismiss).click();
    assert.equal(await p.locator(sel.banner).count(), 0);
    await p.reload();
    await p.locator(sel.input).waitFor();
    assert.equal(await p.locator(sel.banner).count(), 0, 'dismissed stays dismissed');

    await stack.ctl(['settings', 'set', 'site.announcement', '新公告：充值卡九折']);
    await p.reload();
    await p.locator(sel.banner).waitFor();
    assert.equal(await p.locator(`${sel.banner} .announce-text`).innerText(), '新公告：充值卡九折');

    // The visitor's session at /admin gets the "not an admin" screen, no admin data.
    await p.goto(`${stack.url}/admin/users`);
    await p.locator(tid('admin-not-admin')).waitFor();
    assert.equal(await p.locator(sel.nav).count(), 0);
  });

  noProblems();
});

describe('chatd operator console: cost, revenue and margin per model', () => {
  const { ctx, step, shoot, noProblems } = scenario({ prefix: 'am' });
  const CHEAP = 'gpt-4o-mini';
  const PRICEY = 'e2e-pricey';
  const PRICE = 0.5; // of one credit
  const page = () => ctx.page;
  const rowOf = (model) => `${tid('model-margin-row')}[data-model="${model}"]`;
  const cell = (model, id) => page().locator(`${rowOf(model)} ${tid(id)}`);
  const text = (model, id) => cell(model, id).innerText();
  const count = async (model, id) => Number((await text(model, id)).replace(/\D/g, ''));
  const value = async (model, id) => Number(await cell(model, id).getAttribute('data-value'));
  const near = (actual, expected, what) => assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);
  const colour = (locator) => locator.evaluate((el) => getComputedStyle(el).color);
  /** A screenshot at one size with `target` scrolled to the top of the view (or its middle). */
  async function shootAt(size, name, target = tid('margins'), block = 'start') {
    await page().setViewportSize(size);
    await page().locator(target).evaluate((el, b) => el.scrollIntoView({ block: b }), block);
    await shoot(name, [size]);
  }
  let visitor;

  step('no price for a credit yet: the dashboard says where to set it', async () => {
    const { page: p, stack } = ctx;
    await stack.ctl(['admin', 'add', ADMIN.username], `${ADMIN.password}\n`);
    // Reasoning answers (20 reasoning + 100 answer tokens), so every column has figures.
    await stack.addKey('sk-mrg0001:reasoning:think_tokens=20:tokens=100:delay=1');
    visitor = await signUp(stack.url, VISITOR.username, VISITOR.password);
    await p.goto(`${stack.url}/admin`);
    for (const [field, text] of [[sel.username, ADMIN.username], [sel.password, ADMIN.password]]) await p.locator(field).fill(text);
    await p.locator(sel.submit).click();
    await p.locator(tid('model-margins-empty')).waitFor();
    assert.match(await p.locator(tid('margin-no-price')).innerText(), /设置 → 计费/);
    assert.equal(await p.locator(`${tid('margin-no-price')} a`).getAttribute('href'), '/admin/settings');
    await shootAt(DESKTOP, 'margins-no-price');
    await shootAt(PHONE, 'margins-no-price');
  });

  step('priced models and traffic: cost, revenue = credits × price, margin and margin % per model', async () => {
    const { page: p, stack } = ctx;
    await stack.ctl(['models', 'set', CHEAP, '--price-in', '1', '--price-out', '2']);
    // Two credits a question, and an upstream price far above what two credits sell for: a loss.
    await stack.ctl(['models', 'set', PRICEY, '--upstream-model', CHEAP, '--cost', '2',
      '--price-in', '1000', '--price-out', '100000']);
    await stack.ctl(['settings', 'set', 'billing.credit_price', String(PRICE)]);
    const asks = [[CHEAP, '熊猫每天吃多少竹子？'], [CHEAP, 'Bamboo?'], [CHEAP, '第三个问题'], [PRICEY, 'Dear question']];
    for (const [model, content] of asks) {
      const { event, data } = await visitor.waitAnswer((await visitor.call('chat.send', { content, model })).stream);
      assert.equal(event, 'done', JSON.stringify(data));
    }
    await p.locator(tid('dashboard-refresh')).click();
    await p.locator(rowOf(PRICEY)).waitFor();
    assert.equal(await p.locator(tid('margin-no-price')).count(), 0, 'the hint goes once a credit has a price');
    assert.equal(await p.locator(tid('model-margin-row')).count(), 2);
    const ctl = Object.fromEntries((await stack.ctl(['stats', '--models'])).items.map((m) => [m.model, m]));

    // The profitable model: three questions, three credits, cost at its prices per 1M tokens.
    assert.deepEqual([await count(CHEAP, 'margin-questions'), await count(CHEAP, 'margin-credits')], [3, 3]);
    assert.deepEqual([await count(CHEAP, 'margin-tokens-out'), await count(CHEAP, 'margin-reasoning')], [3 * 120, 3 * 20]);
    const cost = await value(CHEAP, 'margin-cost');
    assert.ok(cost > 0, 'a non-zero upstream cost');
    near(cost, ((await count(CHEAP, 'margin-tokens-in')) * 1 + 360 * 2) / 1e6, 'cost at the model\'s prices');
    near(cost, ctl[CHEAP].upstream_cost, 'the cost chatctl stats --models reports');
    assert.match(await text(CHEAP, 'margin-cost'), /^¥0\.\d{2,4}$/, 'a small cost with up to 4 decimals');
    near(await value(CHEAP, 'margin-revenue'), 3 * PRICE, 'revenue = credits × the price of a credit');
    assert.equal(await text(CHEAP, 'margin-revenue'), '¥1.50');
    near(await value(CHEAP, 'margin-margin'), 3 * PRICE - cost, 'margin');
    assert.match(await text(CHEAP, 'margin-margin'), /^\+¥1\.\d\d$/);
    // To 0.1 %, cut toward zero: a tiny cost leaves 99.9 %, never a 100 % as if the upstream were free.
    assert.equal(await text(CHEAP, 'margin-percent'), `+${Math.trunc(((3 * PRICE - cost) / (3 * PRICE)) * 1000) / 10}%`);

    // The model sold at a loss: in the theme's red, and with a minus sign (not colour alone).
    assert.deepEqual([await count(PRICEY, 'margin-questions'), await count(PRICEY, 'margin-credits')], [1, 2]);
    near(await value(PRICEY, 'margin-revenue'), 2 * PRICE, 'revenue of the pricey model');
    near(await value(PRICEY, 'margin-margin'), ctl[PRICEY].revenue - ctl[PRICEY].upstream_cost, 'the loss chatctl reports');
    assert.match(await text(PRICEY, 'margin-margin'), /^-¥\d+\.\d\d$/);
    assert.match(await text(PRICEY, 'margin-percent'), /^-[\d,.]+%$/);
    assert.equal(await p.locator(rowOf(PRICEY)).getAttribute('data-loss'), 'true');
    const hex = await p.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--danger').trim());
    const danger = `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;
    assert.equal(await colour(cell(PRICEY, 'margin-margin')), danger);
    assert.equal(await colour(cell(PRICEY, 'margin-percent')), danger);
    assert.notEqual(await colour(cell(CHEAP, 'margin-margin')), danger, 'a profit is not red');

    // Totals for the period; today's margin bar hangs below the zero line, in red.
    near(Number(await p.locator(sel.stat('revenue')).getAttribute('data-value')), 5 * PRICE, 'total revenue');
    near(Number(await p.locator(sel.stat('cost')).getAttribute('data-value')),
      ctl[CHEAP].upstream_cost + ctl[PRICEY].upstream_cost, 'total cost');
    assert.match(await p.locator(sel.stat('margin')).evaluate((el) => `${el.className} ${el.innerText}`), /tile-danger[^]*-¥/);
    assert.equal(await p.locator(`${tid('model-margins-total')} ${tid('margin-questions')}`).innerText(), '4');
    assert.equal(await p.locator(`${sel.chart('cost-revenue')} svg path`).count(), 2, 'cost and revenue');
    const bars = p.locator(`${sel.chart('margin')} svg rect`);
    assert.deepEqual([await bars.count(), await bars.last().getAttribute('class')], [30, 'tone-danger']);
    assert.match(await bars.last().locator('title').textContent(), /: -¥/);
  });

  step('screenshots: desktop and phone (the table scrolls sideways in its box), light and dark', async () => {
    const p = page();
    const table = tid('model-margins');
    await shootAt(DESKTOP, 'margins');
    await shootAt(DESKTOP, 'margin-table', table, 'center');
    await shootAt(PHONE, 'margins');
    await shootAt(PHONE, 'margin-table', table, 'center');
    // Still a table on a phone, wider than its box, which scrolls (the page does not: shoot checks).
    const box = await p.locator(table)
      .evaluate((el) => [getComputedStyle(el).display, el.parentElement.scrollWidth > el.parentElement.clientWidth]);
    assert.deepEqual(box, ['table', true], 'a table that scrolls inside its box');
    await p.locator(table).evaluate((el) => { el.parentElement.scrollLeft = el.parentElement.scrollWidth; });
    await shoot('margin-table-scrolled', [PHONE]);
    // The theme switch is in the navigation, a closed drawer on phones: switch on the desktop.
    await p.setViewportSize(DESKTOP);
    await p.locator(sel.theme).selectOption('dark');
    await shootAt(DESKTOP, 'margins-dark');
    await shootAt(PHONE, 'margin-table-dark', table, 'center');
  });

  noProblems();
});
