// Browser smoke test: the real chatd serving the real built SPA, driven through chromium.
// Sign up, ask and watch the answer stream in, stop an answer, reload, log out; no console errors
// and no CSP violations along the way; screenshots at desktop and phone sizes.
//
// The steps share one browser and one daemon and run in order; after a failure the rest are
// skipped (the run still fails) and chatd's log tail is printed with the error.

import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import { sleep, waitFor } from './lib/stack.mjs';

import { accountMenu, scenario } from './lib/steps.mjs';
import { common } from './lib/selectors.mjs';

const USERNAME = 'e2euser';
const PASSWORD = 'correct horse battery staple';

// 40 tokens 40 ms apart: about 1.6 s of visible streaming.
const FAST_KEY = 'sk-e2e0001:ok:tokens=40:delay=40';
// Slow enough that Stop surely lands mid-answer (the whole answer would take 60 s).
const SLOW_KEY = 'sk-e2e0002:ok:tokens=300:delay=200';


const sel = {
  ...common,
  chatError: '[data-testid="chat-error"]',
};

describe('chatd web UI smoke', () => {
  const { ctx, step, shoot, noProblems } = scenario({ prefix: '' });
  // The steps below use these names; the shared harness fills them in before the first step.
  let stack;
  let browser;
  let page;
  before(async () => {
    ({ stack, browser, page } = ctx);
  });

  const lastAnswer = () => page.locator(sel.answers).last();

  async function balanceTrial() {
    return Number(await page.locator(sel.balance).getAttribute('data-trial'));
  }

  async function ask(question) {
    await page.locator(sel.input).fill(question);
    await page.locator(sel.send).click();
  }

  step('the login screen appears; sign up; the balance shows 10 trial questions', async () => {
    await page.goto(stack.url);
    await page.locator(sel.loginForm).waitFor({ state: 'visible' });
    assert.equal(await page.locator(sel.balance).count(), 0, 'no balance before logging in');
    await shoot('login');

    await page.locator(sel.switchMode).click();
    await page.locator(sel.username).fill(USERNAME);
    await page.locator(sel.password).fill(PASSWORD);
    await page.locator(sel.submit).click();

    await page.locator(sel.balance).waitFor({ state: 'visible' });
    assert.equal(await page.locator(sel.loginForm).count(), 0, 'the login form is gone');
    assert.equal(await balanceTrial(), 10);
    assert.match(await page.locator(sel.balance).innerText(), /试用\s*10\b/);
    await shoot('signed-up');
  });

  step('a question is answered: the text streams in, ends, and the balance shows 9', async () => {
    await stack.addKey(FAST_KEY);

    // Record every state of the newest answer as the page renders it.
    await page.evaluate((answersSel) => {
      const seen = [];
      window.__e2eStates = seen;
      const record = () => {
        const all = document.querySelectorAll(answersSel);
        const el = all[all.length - 1];
        if (!el) return;
        const text = el.querySelector('.text')?.textContent ?? '';
        const status = el.getAttribute('data-status');
        const prev = seen[seen.length - 1];
        if (!prev || prev.text !== text || prev.status !== status) seen.push({ t: performance.now(), text, status });
      };
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    }, sel.answers);

    const started = Date.now();
    await ask('Say forty words, please.');
    await page.locator(`${sel.answers}[data-status="done"]`).last().waitFor({ timeout: 30_000 });
    const elapsed = Date.now() - started;

    const states = await page.evaluate(() => window.__e2eStates);
    const texts = [...new Set(states.map((s) => s.text).filter((x) => x !== ''))];
    const finalText = (await lastAnswer().locator('.text').innerText()).trim();
    const words = finalText.split(/\s+/).filter(Boolean);
    assert.equal(words.length, 40, `the whole answer arrived: ${JSON.stringify(finalText)}`);
    assert.ok(texts.length >= 5,
      `the answer grew through several states (saw ${texts.length}: ${JSON.stringify(texts.slice(0, 8))})`);
    for (let i = 1; i < texts.length; i++) {
      assert.ok(texts[i].startsWith(texts[i - 1]) && texts[i].length > texts[i - 1].length,
        `each state extends the previous one: ${JSON.stringify(texts[i - 1])} → ${JSON.stringify(texts[i])}`);
    }
    const firstText = states.find((s) => s.text !== '');
    const lastText = states.findLast((s) => s.text === texts[texts.length - 1]);
    assert.ok(lastText.t - firstText.t >= 500,
      `the text appeared over time, not at once (${Math.round(lastText.t - firstText.t)} ms)`);
    assert.ok(states.some((s) => s.status === 'streaming' && s.text !== ''), 'text was shown while streaming');

    await page.waitForSelector(`${sel.balance}[data-trial="9"]`);
    assert.match(await page.locator(sel.balance).innerText(), /试用\s*9\b/);
    await page.locator(sel.send).waitFor({ state: 'visible' });
    assert.equal(await page.locator(sel.chatError).count(), 0, 'no error banner');
    process.stderr.write(`e2e: ${texts.length} distinct answer states in ${elapsed} ms\n`);
    await shoot('answered');
  });

  step('Stop ends a slow answer: marked stopped, and the upstream request is cancelled', async () => {
    // Only the slow key is in the pool now.
    const keys = await stack.ctl(['keys', 'list']);
    for (const k of keys.items) await stack.removeKey(k.id);
    await stack.addKey(SLOW_KEY);
    const before = await stack.fakeStats();

    await ask('Tell me a very long story.');
    await page.locator(sel.stop).waitFor({ state: 'visible' });
    await waitFor(async () => (await lastAnswer().locator('.text').count()) > 0 &&
      (await lastAnswer().locator('.text').innerText()).trim().split(/\s+/).length >= 3,
    { timeout: 20_000, what: 'some answer text before pressing Stop' });
    await page.locator(sel.stop).click();

    const stopped = page.locator(`${sel.answers}[data-status="stopped"]`).last();
    await stopped.waitFor({ timeout: 15_000 });
    const note = page.locator('.msg').last().locator('[data-testid="message-note"]');
    assert.match(await note.innerText(), /已停止/, 'the answer is marked stopped');
    await page.locator(sel.send).waitFor({ state: 'visible' });

    const textAtStop = await stopped.locator('.text').innerText();
    assert.ok(textAtStop.trim().split(/\s+/).length < 300, 'the answer did not run to its end');

    const stats = await waitFor(async () => {
      const s = await stack.fakeStats();
      return s.client_closed >= Math.max(1, before.client_closed + 1) && s;
    }, { timeout: 10_000, what: 'the fake upstream to see the client close (client_closed ≥ 1)' });
    assert.ok(stats.client_closed >= 1);

    // Nothing more arrives after the stop.
    await sleep(700);
    assert.equal(await stopped.locator('.text').innerText(), textAtStop, 'no text after Stop');
    await shoot('stopped');
  });

  step('after a reload the user is still logged in (session cookie)', async () => {
    const trial = await balanceTrial();
    await page.reload();
    await page.locator(sel.balance).waitFor({ state: 'visible' });
    assert.equal(await page.locator(sel.loginForm).count(), 0, 'no login form after reload');
    assert.equal(await balanceTrial(), trial, 'the balance is the same after reload');
    const cookies = await browser.context.cookies(stack.url);
    const session = cookies.find((c) => c.name === 'chatd_session');
    assert.ok(session, 'chatd_session cookie is set');
    assert.equal(session.httpOnly, true, 'the session cookie is HttpOnly');
    await shoot('reloaded');
  });

  step('logout returns to the login screen, also after a reload', async () => {
    await accountMenu(page, 'logout');
    await page.locator(sel.loginForm).waitFor({ state: 'visible' });
    assert.equal(await page.locator(sel.balance).count(), 0);
    await page.reload();
    await page.locator(sel.loginForm).waitFor({ state: 'visible' });
    assert.equal(await page.locator(sel.balance).count(), 0, 'still logged out after reload');
  });

  noProblems();
});
