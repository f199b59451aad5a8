// Browser tests of the chat features beyond the smoke path: markdown (table, highlighted code with
// a copy button, KaTeX), XSS inertness, history (list, search, rename, pin, delete, address),
// re-attaching to an answer after a reload, regenerate and edit & resend with branch switching,
// theme and language persisting across reloads. Screenshots at desktop and phone sizes.
//
// Steps share one browser and one daemon and run in order; after a failure the rest are skipped.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe } from 'node:test';
import { waitFor } from './lib/stack.mjs';
import { ARTIFACTS, chooseLanguage, chooseTheme, DESKTOP, PHONE, scenario } from './lib/steps.mjs';
import { common } from './lib/selectors.mjs';

// The fake answers with the request's messages as "role: content" lines.
const ECHO_KEY = 'sk-e2f0001:echo:delay=5';
const FAST_KEY = 'sk-e2f0002:ok:tokens=12:delay=10';
// About 6 s of answer: long enough to reload in the middle.
const SLOW_KEY = 'sk-e2f0003:ok:tokens=60:delay=100';

const sel = {
  ...common,
  historyItem: '[data-testid="history-item"]',
  search: '[data-testid="history-search"]',
};

describe('chatd web UI features', () => {
  const { ctx, step, shoot, noProblems } = scenario({ prefix: 'f' });
  // The steps below use these names; the shared harness fills them in before the first step.
  let stack;
  let browser;
  let page;
  before(async () => {
    ({ stack, browser, page } = ctx);
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url });
  });

  async function onlyKey(key) {
    const keys = await stack.ctl(['keys', 'list']);
    for (const k of keys.items) await stack.removeKey(k.id);
    await stack.addKey(key);
  }

  async function ask(question) {
    const answers = await page.locator(`${sel.answers}[data-status="done"]`).count();
    await page.locator(sel.input).fill(question);
    await page.locator(sel.send).click();
    await waitFor(async () => (await page.locator(`${sel.answers}[data-status="done"]`).count()) > answers,
      { timeout: 30_000, what: 'the answer to finish' });
    await page.locator(sel.send).waitFor({ state: 'visible' });
  }

  async function newChat() {
    await page.locator(sel.newChat).click();
    await waitFor(async () => new URL(page.url()).pathname === '/', { what: 'the address of a new chat' });
  }

  const lastAnswer = () => page.locator(sel.answers).last();
  const conversationId = () => Number(/\/c\/(\d+)/.exec(new URL(page.url()).pathname)?.[1]);

  step('sign up', async () => {
    await page.goto(stack.url);
    await page.locator(sel.switchMode).click();
    await page.locator(sel.username).fill('featureuser');
    await page.locator(sel.password).fill('correct horse battery staple');
    await page.locator(sel.submit).click();
    await page.locator(sel.balance).waitFor({ state: 'visible' });
  });

  step('markdown: a GFM table, a highlighted code block with a working copy button, KaTeX; $5 stays text', async () => {
    await onlyKey(ECHO_KEY);
    await ask([
      'Render check',
      '',
      '| name | value |',
      '|------|-------|',
      '| alpha | 1 |',
      '',
      '```js',
      'const answer = 42; // the answer',
      '```',
      '',
      'It costs $5 and $10 today.',
      '',
      '$$x^2$$',
    ].join('\n'));
    const answer = lastAnswer();
    await answer.locator('table').waitFor();
    assert.equal(await answer.locator('table td').count(), 2, 'one body row of two cells');
    assert.equal((await answer.locator('table th').first().innerText()).trim(), 'name');

    const block = answer.locator('.code-block');
    await block.locator('.hljs-keyword').first().waitFor({ timeout: 10_000 });
    assert.match(await block.locator('pre code').innerText(), /const answer = 42;/);
    await block.locator('.code-copy').click();
    await waitFor(async () => /已复制/.test(await block.locator('.code-copy').innerText()),
      { what: 'the copy button to confirm' });
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.match(copied, /^const answer = 42; \/\/ the answer\n?$/);

    await answer.locator('math').first().waitFor({ timeout: 10_000 });
    assert.equal(await answer.locator('math').count(), 1, 'exactly one formula: $$x^2$$, not the prices');
    assert.match(await answer.locator('math').first().textContent(), /x\s*2/);
    assert.match(await answer.innerText(), /It costs \$5 and \$10 today\./);
    await shoot('markdown');
  });

  step('XSS: html, event handlers and javascript: links from the model or the user are inert', async () => {
    await newChat();
    const evil = [
      'XSS check <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>',
      '',
      '[click me](javascript:window.__xss=3) <a href="javascript:window.__xss=4">raw</a>',
      '',
      '<svg onload="window.__xss=5"></svg> <iframe src="javascript:window.__xss=6"></iframe>',
    ].join('\n');
    await ask(evil);
    const answer = lastAnswer();
    await page.waitForTimeout(300);
    for (const root of [answer, page.locator(sel.questions).last()]) {
      assert.equal(await root.locator('img, script, svg, iframe').count(), 0, 'no active elements');
    }
    const hrefs = await answer.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.ok(hrefs.every((h) => h === null || /^https?:|^mailto:/.test(h)), `no javascript: links: ${hrefs}`);
    const link = answer.locator('a', { hasText: 'click me' });
    if (await link.count()) await link.click();
    assert.match(await page.locator(sel.questions).last().innerText(), /<img src=x onerror=/, 'the question shows as text');
    assert.match(await answer.innerText(), /<script>window.__xss=2<\/script>/, 'the answer shows the html as text');
    assert.equal(await page.evaluate(() => window.__xss), undefined, 'nothing executed');
  });

  step('history: the list is newest first, the address follows, search, rename, pin, delete', async () => {
    await onlyKey(FAST_KEY);
    await newChat();
    await ask('Banana bread recipe please');
    const bananaId = conversationId();
    assert.ok(bananaId > 0, `the address shows the conversation: ${page.url()}`);
    const items = page.locator(sel.historyItem);
    await waitFor(async () => (await items.count()) >= 3, { what: 'three conversations in the sidebar' });
    assert.equal(Number(await items.first().getAttribute('data-id')), bananaId, 'the newest is first');
    assert.match(await items.first().innerText(), /Banana bread/);

    // Reload returns to the same conversation.
    await page.reload();
    await page.locator(sel.questions).first().waitFor();
    assert.match(await page.locator(sel.questions).first().innerText(), /Banana bread/);
    await shoot('history');

    // Search.
    await page.locator(sel.search).fill('banana');
    await waitFor(async () => (await items.count()) === 1, { what: 'one search result' });
    await page.locator(sel.search).fill('no-such-words-anywhere');
    await page.locator('[data-testid="history-empty"]').waitFor();
    await page.locator(sel.search).fill('');
    await waitFor(async () => (await items.count()) >= 3, { what: 'the whole list again' });

    // Open the oldest one by clicking it.
    const oldest = items.last();
    const oldestId = Number(await oldest.getAttribute('data-id'));
    await oldest.locator('[data-testid="history-title"]').click();
    await waitFor(() => conversationId() === oldestId, { what: 'the address of the opened conversation' });
    await page.locator(sel.questions).first().waitFor();
    assert.match(await page.locator(sel.questions).first().innerText(), /Render check/);

    // Rename in place.
    const item = page.locator(`${sel.historyItem}[data-id="${oldestId}"]`);
    await item.hover();
    await item.locator('[data-testid="history-rename"]').click();
    const input = item.locator('[data-testid="history-rename-input"]');
    await input.fill('Renamed markdown chat');
    await input.press('Enter');
    await waitFor(async () => /Renamed markdown chat/.test(await item.innerText()), { what: 'the new title' });

    // Pin: it moves to the top.
    await item.hover();
    await item.locator('[data-testid="history-pin"]').click();
    await waitFor(async () => Number(await items.first().getAttribute('data-id')) === oldestId &&
      (await items.first().getAttribute('data-pinned')) === 'true', { what: 'the pinned conversation on top' });

    // Delete (confirmed): gone, also after a reload.
    const banana = page.locator(`${sel.historyItem}[data-id="${bananaId}"]`);
    page.once('dialog', (d) => d.accept());
    await banana.hover();
    await banana.locator('[data-testid="history-delete"]').click();
    await waitFor(async () => (await banana.count()) === 0, { what: 'the deleted conversation to leave the list' });

    await page.reload();
    await waitFor(async () => (await items.count()) >= 2, { what: 'the list after reload' });
    assert.equal(await banana.count(), 0, 'still deleted after reload');
    assert.match(await items.first().innerText(), /Renamed markdown chat/, 'rename and pin persisted');
    assert.equal(await items.first().getAttribute('data-pinned'), 'true');
  });

  step('reload in the middle of an answer: it re-attaches and keeps growing to the end', async () => {
    await onlyKey(SLOW_KEY);
    await newChat();
    await page.locator(sel.input).fill('A long answer, please');
    await page.locator(sel.send).click();
    await waitFor(async () => (await lastAnswer().innerText()).trim().split(/\s+/).length >= 5,
      { timeout: 20_000, what: 'some answer text' });
    const id = conversationId();
    await page.reload();
    assert.equal(conversationId(), id, 'the same conversation after reload');
    const answer = page.locator(sel.answers).last();
    await page.locator(`${sel.answers}[data-status="streaming"]`).waitFor({ timeout: 10_000 });
    const words = async () => (await answer.locator('.text').innerText()).trim().split(/\s+/).filter(Boolean).length;
    const seen = await waitFor(async () => { const n = await words(); return n > 0 && n; }, { what: 'replayed text' });
    await waitFor(async () => (await words()) > seen, { timeout: 10_000, what: 'the answer to keep growing' });
    await page.locator(`${sel.answers}[data-status="done"]`).waitFor({ timeout: 30_000 });
    assert.equal(await words(), 60, 'the whole answer, no text lost or doubled');
  });

  step('regenerate makes a sibling answer; ‹ › switch between them', async () => {
    await onlyKey(FAST_KEY);
    const first = await lastAnswer().getAttribute('data-id');
    await page.locator('[data-testid="msg-regenerate"]').click();
    await waitFor(async () => (await lastAnswer().getAttribute('data-id')) !== first &&
      (await lastAnswer().getAttribute('data-status')) === 'done', { timeout: 20_000, what: 'the regenerated answer' });
    const second = await lastAnswer().getAttribute('data-id');
    const label = page.locator('.msg').last().locator('[data-testid="branch-label"]');
    await waitFor(async () => (await label.innerText().catch(() => '')).trim() === '2/2',
      { what: 'the branch switcher to show 2/2' });
    await page.locator('.msg').last().locator('[data-testid="branch-prev"]').click();
    await waitFor(async () => (await lastAnswer().getAttribute('data-id')) === first, { what: 'the first answer' });
    await waitFor(async () => (await label.innerText().catch(() => '')).trim() === '1/2',
      { what: 'the branch switcher to show 1/2' });
    await page.locator('.msg').last().locator('[data-testid="branch-next"]').click();
    await waitFor(async () => (await lastAnswer().getAttribute('data-id')) === second, { what: 'the second answer' });
  });

  step('edit & resend creates a new branch and keeps the old one', async () => {
    await onlyKey(ECHO_KEY);
    await newChat();
    await ask('First question');
    await ask('Second question original');
    const q2 = page.locator('.msg-user').last();
    await q2.hover();
    await q2.locator('[data-testid="msg-edit"]').click();
    await q2.locator('[data-testid="edit-input"]').fill('Second question edited');
    await q2.locator('[data-testid="edit-save"]').click();
    await waitFor(async () => /Second question edited/.test(await lastAnswer().innerText()) &&
      (await lastAnswer().getAttribute('data-status')) === 'done', { timeout: 20_000, what: 'the answer to the edited question' });
    assert.doesNotMatch(await lastAnswer().innerText(), /Second question original/, 'the old question is not in the new context');
    const userMsg = page.locator('.msg-user').last();
    await waitFor(async () => (await userMsg.locator('[data-testid="branch-label"]').innerText().catch(() => '')).trim() === '2/2',
      { what: 'the branch switcher to show 2/2' });
    await userMsg.locator('[data-testid="branch-prev"]').click();
    await waitFor(async () => /Second question original/.test(await page.locator(sel.questions).last().innerText()),
      { what: 'the original question' });
    assert.match(await lastAnswer().innerText(), /Second question original/, 'the old answer is kept');

    // Both branches survive a reload (the server keeps the tree).
    await page.reload();
    await page.locator(sel.questions).last().waitFor();
    // The switcher appears once the whole tree is loaded.
    const switcher = page.locator('.msg-user').last().locator('[data-testid="branch-label"]');
    await waitFor(async () => /\/2$/.test((await switcher.innerText().catch(() => '')).trim()),
      { what: 'the branch switcher after the reload' });
    await shoot('branches');

  });

  step('export: the shown branch downloads as Markdown and as JSON', async () => {
    const id = conversationId();
    await page.locator('[data-testid="export-menu"]').click();
    const [md] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid="export-md"]').click()]);
    assert.match(md.suggestedFilename(), /\.md$/);
    const mdText = readFileSync(await md.path(), 'utf8');
    assert.match(mdText, /Second question edited/, 'the shown branch is exported');
    assert.doesNotMatch(mdText, /Second question original/, 'only the shown branch');
    assert.match(mdText, /^# /m);
    await page.locator('[data-testid="export-menu"]').click();
    const [json] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid="export-json"]').click()]);
    const data = JSON.parse(readFileSync(await json.path(), 'utf8'));
    assert.equal(data.id, id);
    assert.deepEqual(data.messages.map((m) => m.role), ['user', 'assistant', 'user', 'assistant']);
  });

  step('the first question can be edited too: it becomes a second root', async () => {
    const q1 = page.locator('.msg-user').first();
    await q1.hover();
    await q1.locator('[data-testid="msg-edit"]').click();
    await q1.locator('[data-testid="edit-input"]').fill('First question edited');
    await q1.locator('[data-testid="edit-save"]').click();
    await waitFor(async () => /First question edited/.test(await lastAnswer().innerText()) &&
      (await lastAnswer().getAttribute('data-status')) === 'done', { timeout: 20_000, what: 'the answer to the edited first question' });
    assert.equal(await page.locator('.msg-user').count(), 1, 'the new root starts a fresh branch');
    assert.doesNotMatch(await lastAnswer().innerText(), /Second question/, 'nothing of the old branch is in the context');
    await waitFor(async () => (await page.locator('.msg-user').first().locator('[data-testid="branch-label"]').innerText().catch(() => '')).trim() === '2/2',
      { what: 'the branch switcher to show 2/2' });
  });

  step('keyboard: Shift+Enter adds a line, Esc stops an answer, Ctrl+Shift+O starts a new chat', async () => {
    await onlyKey(SLOW_KEY);
    const input = page.locator(sel.input);
    await input.click();
    await input.pressSequentially('line one');
    await input.press('Shift+Enter');
    await input.pressSequentially('line two');
    assert.equal(await input.inputValue(), 'line one\nline two');
    await input.press('Enter');
    await page.locator('[data-testid="stop"]').waitFor();
    await waitFor(async () => (await lastAnswer().locator('.text').count()) > 0, { timeout: 20_000, what: 'answer text' });
    await page.keyboard.press('Escape');
    await page.locator(`${sel.answers}[data-status="stopped"]`).last().waitFor({ timeout: 15_000 });
    await page.locator(sel.send).waitFor({ state: 'visible' });
    await page.keyboard.press('Control+Shift+O');
    await waitFor(async () => new URL(page.url()).pathname === '/' && (await page.locator(sel.answers).count()) === 0,
      { what: 'a new, empty chat' });
    await page.goBack();
    // The bubble appears before the conversation's text has been filled in.
    await waitFor(async () => /line one\s+line two/.test(await page.locator(sel.questions).last().innerText()),
      { what: 'the two-line question after going back' });
  });

  step('theme: dark is applied, saved on the server and kept across a reload', async () => {
    await chooseTheme(page, 'dark');
    await waitFor(async () => (await page.locator('html').getAttribute('data-theme')) === 'dark', { what: 'dark theme' });
    await waitFor(async () => (await page.evaluate(async () => {
      const r = await fetch('/rpc', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'me.get' }) });
      return (await r.json()).result.theme;
    })) === 'dark', { what: 'me.get to report the dark theme' });
    await page.reload();
    await page.locator(sel.balance).waitFor();
    assert.equal(await page.locator('html').getAttribute('data-theme'), 'dark');
    await shoot('dark');

    // The phone layout with the history drawer open.
    await page.setViewportSize(PHONE);
    await page.locator('[data-testid="sidebar-toggle"]').click();
    await page.locator('.sidebar.open').waitFor();
    await page.waitForTimeout(350); // the drawer slides in
    await page.screenshot({ path: path.join(ARTIFACTS, 'f-phone-sidebar-dark-390x844.png') });
    await page.locator('.sidebar.open [aria-label]').first().waitFor();
    await page.locator('.sidebar-close').click();
    await page.setViewportSize(DESKTOP);

    await chooseTheme(page, 'sepia');
    await waitFor(async () => (await page.locator('html').getAttribute('data-theme')) === 'sepia', { what: 'sepia theme' });
    await shoot('sepia');
    await chooseTheme(page, 'light');
  });

  step('English: the interface switches and stays English after a reload', async () => {
    await chooseLanguage(page, 'en');
    await waitFor(async () => (await page.locator(sel.newChat).getAttribute('aria-label')) === 'New chat', { what: 'English labels' });
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    await page.reload();
    await page.locator(sel.balance).waitFor();
    assert.equal(await page.locator(sel.newChat).getAttribute('aria-label'), 'New chat');
    assert.match(await page.locator(sel.balance).innerText(), /Trial\s*\d+/);
    await shoot('english');
    await chooseLanguage(page, 'zh-CN');
    await waitFor(async () => (await page.locator(sel.newChat).getAttribute('aria-label')) === '新对话', { what: 'Chinese labels' });
  });

  noProblems();
});
