// Roles, preset questions and the user's own system prompt, in the browser: the operator's seeded
// roles and presets are offered on a new chat; a chosen role's system prompt reaches the upstream
// (seen through the fake's `GET /_fake/last`), a preset is sent by clicking it, and the custom
// system prompt field appears only once the operator allows it, and is sent.

import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { pick, scenario } from './lib/steps.mjs';
import { waitFor } from './lib/stack.mjs';
import { common } from './lib/selectors.mjs';

const KEY = 'sk-e2r0001:ok:tokens=6:delay=5';

const sel = {
  ...common,
  roleSelect: '[data-testid="role-select"]',
  presets: '[data-testid="presets"]',
  preset: '[data-testid="preset"]',
  promptToggle: '[data-testid="system-prompt-toggle"]',
  prompt: '[data-testid="system-prompt"]',
};

describe('chatd web UI roles, presets and custom system prompt', () => {
  const { ctx, step, shoot, noProblems } = scenario({ prefix: 'r' });
  let roles;

  /** The last chat request body the fake upstream received for KEY. */
  async function lastUpstreamRequest() {
    const response = await fetch(`${ctx.stack.fakeUrl}/_fake/last?key=${encodeURIComponent(KEY)}`);
    assert.equal(response.status, 200, 'the fake upstream saw a request');
    return response.json();
  }

  async function waitDone(count) {
    await waitFor(async () => (await ctx.page.locator(`${sel.answers}[data-status="done"]`).count()) >= count,
      { timeout: 30_000, what: 'the answer to finish' });
    await ctx.page.locator(sel.send).waitFor({ state: 'visible' });
  }

  async function newChat() {
    await ctx.page.locator(sel.newChat).click();
    await waitFor(async () => new URL(ctx.page.url()).pathname === '/' &&
      (await ctx.page.locator(sel.answers).count()) === 0, { what: 'a new, empty chat' });
  }

  const conversationRole = (id) => ctx.page.evaluate(async (convId) => {
    const r = await fetch('/rpc', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'conversations.get', params: { id: convId } }) });
    return (await r.json()).result.role_id ?? null;
  }, id);

  const conversationId = () => Number(/\/c\/(\d+)/.exec(new URL(ctx.page.url()).pathname)?.[1]);

  step('sign up; a new chat offers the roles and the preset questions, no custom prompt yet', async () => {
    const { stack, page } = ctx;
    roles = (await stack.ctl(['roles', 'list'])).items;
    assert.equal(roles.length, 3, 'three seeded roles');
    await stack.addKey(KEY);
    await page.goto(stack.url);
    await page.locator(sel.switchMode).click();
    await page.locator(sel.username).fill('roleuser');
    await page.locator(sel.password).fill('correct horse battery staple');
    await page.locator(sel.submit).click();
    await page.locator(sel.balance).waitFor();

    await page.locator(sel.roleSelect).click();
    const options = (await page.locator('[data-testid="role-option"] .opt-name').allInnerTexts()).map((x) => x.trim());
    await page.keyboard.press('Escape');
    assert.equal(options.length, 4, `the default and three roles: ${options}`);
    for (const role of roles) assert.ok(options.includes(role.name), `role ${role.name} offered`);
    await page.locator(sel.presets).waitFor();
    assert.equal(await page.locator(sel.preset).count(), 3, 'three seeded presets');
    assert.equal(await page.locator(sel.promptToggle).count(), 0, 'no custom prompt while the operator does not allow it');
    await shoot('new-chat');
  });

  step('a chosen role is sent with the question and its system prompt reaches the upstream', async () => {
    const { page } = ctx;
    const role = roles.find((r) => r.id === 2) ?? roles[1];
    await pick(page, 'role-select', String(role.id));
    await page.locator(sel.input).fill('Translate: 你好，世界');
    await page.locator(sel.send).click();
    await waitDone(1);
    const body = await lastUpstreamRequest();
    assert.equal(body.messages[0].role, 'system', `a system message first: ${JSON.stringify(body.messages)}`);
    assert.equal(body.messages[0].content, role.prompt, 'the role\'s prompt');
    assert.equal(body.messages.at(-1).content, 'Translate: 你好，世界');
    assert.equal(await conversationRole(conversationId()), role.id, 'the conversation keeps its role');

    // The role stays with the conversation: a follow-up still carries its prompt.
    await page.locator(sel.input).fill('And once more');
    await page.locator(sel.send).click();
    await waitDone(2);
    const again = await lastUpstreamRequest();
    assert.equal(again.messages[0].content, role.prompt, 'the role applies to the whole conversation');
  });

  step('a new chat starts without a role again; clicking a preset asks it', async () => {
    const { page } = ctx;
    await newChat();
    assert.equal(await page.locator(sel.roleSelect).getAttribute('data-value'), '', 'no role preselected');
    const preset = page.locator(sel.preset).nth(1);
    const text = (await preset.innerText()).trim();
    await preset.click();
    await waitDone(1);
    assert.equal((await page.locator(sel.questions).first().innerText()).trim().replace(/^你:\s*/, ''), text);
    const body = await lastUpstreamRequest();
    assert.equal(body.messages.at(-1).content, text, 'the preset is the question sent upstream');
    assert.ok(!body.messages.some((m) => m.role === 'system'), 'no system prompt without a role');
    assert.equal(await page.locator(sel.presets).count(), 0, 'presets show on an empty chat only');
  });

  step('the operator allows custom prompts: the field appears, and what the user writes is sent', async () => {
    const { stack, page } = ctx;
    await stack.ctl(['settings', 'set', 'chat.allow_custom_system_prompt', 'on']);
    await page.goto(stack.url);
    await page.locator(sel.promptToggle).waitFor();
    await page.locator(sel.promptToggle).click();
    const prompt = 'You are a pirate. Answer like one.';
    await page.locator(sel.prompt).fill(prompt);
    await shoot('custom-prompt');
    await page.locator(sel.input).fill('Where is the treasure?');
    await page.locator(sel.send).click();
    await waitDone(1);
    const body = await lastUpstreamRequest();
    const system = body.messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n');
    assert.match(system, /You are a pirate\. Answer like one\./, `the custom prompt was sent: ${JSON.stringify(body.messages)}`);
    assert.equal(body.messages.at(-1).content, 'Where is the treasure?');
    assert.equal(await page.locator(sel.promptToggle).count(), 0, 'the prompt is fixed once the conversation started');

    // A new chat starts with an empty prompt field.
    await newChat();
    await page.locator(sel.promptToggle).click();
    assert.equal(await page.locator(sel.prompt).inputValue(), '');
  });

  step('turned off again: the field is gone after a reload', async () => {
    const { stack, page } = ctx;
    await stack.ctl(['settings', 'set', 'chat.allow_custom_system_prompt', 'off']);
    await page.reload();
    await page.locator(sel.roleSelect).waitFor();
    assert.equal(await page.locator(sel.promptToggle).count(), 0);
  });

  noProblems();
});
