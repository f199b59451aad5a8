// Personal API keys in the account dialog: the base URL to copy, a key created with a name and
// shown once (copied to the clipboard, gone from the page once dismissed), the list with the
// masked key and when it was last used (after a real call to /v1/chat/completions with it), at
// most ten keys, the choice to list API questions in the history (marked "API"), revoking (the
// key stops working), and the tab hidden when the operator switches the API off. Screenshots at
// desktop and phone size.

import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { ApiClient } from './lib/api.mjs';
import { accountMenu, DESKTOP, scenario } from './lib/steps.mjs';
import { waitFor } from './lib/stack.mjs';
import { common } from './lib/selectors.mjs';

const KEY = 'sk-e2k0001:ok:tokens=5:delay=5';

const sel = {
  ...common,
  dialog: '[data-testid="account-dialog"]',
  close: '[data-testid="account-close"]',
  tabApi: '[data-testid="tab-api"]',
  baseUrl: '[data-testid="apikeys-base-url"]',
  name: '[data-testid="apikeys-name"]',
  create: '[data-testid="apikeys-create"]',
  fresh: '[data-testid="apikey-new"]',
  freshKey: '[data-testid="apikey-new-key"]',
  freshCopy: '[data-testid="apikey-new-key-copy"]',
  freshDone: '[data-testid="apikey-new-done"]',
  list: '[data-testid="apikeys-list"]',
  item: '[data-testid="apikey-item"]',
  empty: '[data-testid="apikeys-empty"]',
  full: '[data-testid="apikeys-full"]',
  revoke: '[data-testid="apikey-revoke"]',
  revokeYes: '[data-testid="apikey-revoke-yes"]',
  historyToggle: '[data-testid="apikeys-history-toggle"]',
  historyTitle: '[data-testid="history-title"]',
  historyApi: '[data-testid="history-api"]',
};

describe('chatd web UI: personal API keys', () => {
  const { ctx, step, shoot, noProblems } = scenario({ prefix: 'k' });
  let fullKey;

  const models = (key) => fetch(`${ctx.stack.url}/v1/models`, { headers: { Authorization: `Bearer ${key}` } });

  async function openApiTab() {
    await accountMenu(ctx.page, 'apikeys-open');
    await ctx.page.locator(sel.dialog).waitFor();
    assert.equal(await ctx.page.locator(sel.tabApi).getAttribute('aria-selected'), 'true');
  }

  step('sign up; the API tab shows the base URL and no keys yet', async () => {
    const { stack, page } = ctx;
    await stack.addKey(KEY);
    await page.goto(stack.url);
    await page.locator(sel.switchMode).click();
    await page.locator(sel.username).fill('apiuser');
    await page.locator(sel.password).fill('correct horse battery staple');
    await page.locator(sel.submit).click();
    await page.locator(sel.balance).waitFor();
    await openApiTab();
    assert.equal(await page.locator(sel.baseUrl).inputValue(), `${stack.url}/v1`);
    await page.locator(sel.empty).waitFor();
    assert.match(await page.locator('[data-testid="apikeys-intro"]').innerText(), /Chatbox/);
  });

  step('create a named key: shown once in full, copied, listed masked', async () => {
    const { page, browser, stack } = ctx;
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url });
    await page.locator(sel.name).fill('Chatbox 手机');
    await page.locator(sel.create).click();
    await page.locator(sel.fresh).waitFor();
    fullKey = await page.locator(sel.freshKey).inputValue();
    assert.match(fullKey, /^sk-chatd-[A-Za-z0-9]{32,}$/);
    assert.match(await page.locator(sel.fresh).innerText(), /只显示这一次/);
    await page.locator(sel.freshCopy).click();
    await waitFor(async () => /已复制/.test(await page.locator(sel.freshCopy).innerText()), { what: 'the copy confirmation' });
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), fullKey);
    assert.equal(await page.locator(sel.name).inputValue(), '', 'the name field is cleared');

    await page.locator(sel.item).first().waitFor();
    const row = await page.locator(sel.item).first().innerText();
    assert.match(row, /Chatbox 手机/);
    assert.match(row, /从未使用/);
    assert.ok(!row.includes(fullKey), 'the list shows the key masked');
    assert.ok(row.includes(fullKey.slice(-4)), 'the masked key ends like the key');
    await shoot('apikey-created');
  });

  step('dismissed, the key is nowhere in the page; it works with /v1 and its last use shows', async () => {
    const { page, stack } = ctx;
    await page.locator(sel.freshDone).click();
    await page.locator(sel.fresh).waitFor({ state: 'detached' });
    assert.ok(!(await page.content()).includes(fullKey), 'the full key left the page');
    await page.locator(sel.close).click();

    assert.equal((await models(fullKey)).status, 200);
    const response = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${fullKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: (await (await models(fullKey)).json()).data[0].id, messages: [{ role: 'user', content: 'Hello' }] }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    const body = await response.json();
    assert.equal(body.object, 'chat.completion');
    assert.ok(body.choices[0].message.content.length > 0);

    await openApiTab();
    await waitFor(async () => /最近使用/.test(await page.locator(sel.item).first().innerText()), { what: 'the last use' });
    // The question was charged like one asked on the page: the dialog fetched the balance afresh.
    assert.equal(await page.locator('[data-testid="account-balance"]').getAttribute('data-trial'), '9');
    await shoot('apikey-used');
  });

  step('at most ten keys: the form says so and cannot create an eleventh', async () => {
    const { page, browser, stack } = ctx;
    const cookie = (await browser.context.cookies(stack.url)).find((c) => c.name === 'chatd_session');
    const client = new ApiClient(stack.url);
    client.cookie = `chatd_session=${cookie.value}`;
    for (let i = 2; i <= 10; i++) await client.call('me.apikeys.create', { name: `script ${i}` });
    await page.locator(sel.close).click();
    await openApiTab();
    await waitFor(async () => (await page.locator(sel.item).count()) === 10, { what: 'ten keys' });
    await page.locator(sel.full).waitFor();
    assert.equal(await page.locator(sel.create).isDisabled(), true);
    await assert.rejects(client.call('me.apikeys.create', { name: 'eleventh' }), /./, 'the daemon refuses it too');
    await shoot('apikeys-full', [DESKTOP]);
  });

  step('the API question shows in the history, marked API, only when the user chooses so', async () => {
    const { page } = ctx;
    assert.equal(await page.locator(sel.historyTitle).count(), 0, 'hidden by default');
    const toggle = page.locator(sel.historyToggle);
    assert.equal(await toggle.isChecked(), false);
    await toggle.check();
    await waitFor(async () => (await page.locator(sel.historyApi).count()) === 1, { what: 'the API conversation in the history' });
    await shoot('apikeys-history', [DESKTOP]);
    await page.locator(sel.close).click();
    // The choice is kept: after a reload the list still has it, and the toggle is on.
    await page.reload();
    await page.locator(sel.historyApi).waitFor();
    await openApiTab();
    await waitFor(async () => page.locator(sel.historyToggle).isChecked(), { what: 'the choice kept' });
    await page.locator(sel.historyToggle).uncheck();
    await waitFor(async () => (await page.locator(sel.historyTitle).count()) === 0, { what: 'the history without it' });
  });

  step('revoke after confirming: the key is gone from the list and refused by /v1', async () => {
    const { page } = ctx;
    const row = page.locator(sel.item).filter({ hasText: 'Chatbox 手机' });
    await row.locator(sel.revoke).click();
    await row.locator(sel.revokeYes).click();
    await waitFor(async () => (await page.locator(sel.item).count()) === 9, { what: 'nine keys' });
    assert.equal(await page.locator(sel.item).filter({ hasText: 'Chatbox 手机' }).count(), 0);
    assert.equal(await page.locator(sel.full).count(), 0, 'room for a new key again');
    const refused = await models(fullKey);
    assert.equal(refused.status, 401);
    assert.equal((await refused.json()).error.code, 'invalid_api_key');
    await page.locator(sel.close).click();
  });

  step('the operator switches the API off: no API keys in the account menu', async () => {
    const { page, stack } = ctx;
    await stack.ctl(['settings', 'set', 'api.enabled', 'false']);
    await page.reload();
    await page.locator(sel.balance).waitFor();
    await page.locator('[data-testid="account-menu"]').click();
    await page.locator('[data-testid="account-menu-panel"]').waitFor();
    assert.equal(await page.locator('[data-testid="apikeys-open"]').count(), 0);
    await page.keyboard.press('Escape');
  });

  noProblems();
});
