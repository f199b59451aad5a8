// Performance figures of the SPA against a real chatd on loopback, printed one per line as
// `perf: …`. The targets (first load < 300 ms to interactive, a 2,000-message conversation and a
// 4,000-token answer without long tasks over 200 / 100 ms) are reported, never asserted: timings
// on a shared machine are not pass/fail material. The assertions check what was rendered.
//
// - first load: navigation start → the composer is in the page, median of 5 loads, logged in;
// - a 2,000-message conversation (1,000 questions, 1,000 answers) built through the API, opened
//   in the browser: time until its last message shows, longest task while loading, then while
//   scrolling from the bottom to the very first question;
// - a 4,000-token answer streamed into the page: longest task while it streams.

import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { signUp } from './lib/api.mjs';
import { scenario, useSession } from './lib/steps.mjs';
import { waitFor } from './lib/stack.mjs';

const CONV_KEY = 'sk-perf0001:ok:tokens=1:delay=0';
const STREAM_KEY = 'sk-perf0002:ok:tokens=4000:delay=2';
const QUESTIONS = 1000;

const TARGET = { firstLoad: 300, render: 1000, longTask: 200, streamTask: 100 };

function report(line) {
  process.stdout.write(`perf: ${line}\n`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${Math.round(x)} ms`;

// Runs in the page before its own scripts: records long tasks (from the very start) and the
// moment the composer appears.
function instrument() {
  const perf = { longtasks: [], ready: null };
  window.__perf = perf;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) perf.longtasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    perf.noLongTasks = true;
  }
  const ready = () => {
    const el = document.getElementById('composer-input');
    if (!el || el.disabled) return false;
    perf.ready = performance.now();
    return true;
  };
  new MutationObserver((_, observer) => {
    if (ready()) observer.disconnect();
  }).observe(document, { subtree: true, childList: true });
}

describe('chatd web UI performance', () => {
  const { ctx, step, noProblems } = scenario({ prefix: 'p' });
  let client;
  let conversationId;
  let firstQuestionId;
  let lastAnswerId;

  const longestSince = (since, until = Infinity) => ctx.page.evaluate(([a, b]) => {
    const tasks = window.__perf.longtasks.filter((t) => t.start >= a && t.start <= b);
    return {
      longest: Math.max(0, ...tasks.map((t) => t.duration)),
      count: tasks.length,
      at: tasks.map((t) => `${Math.round(t.duration)}@${Math.round(t.start - a)}`).join(' '),
    };
  }, [since, until]);

  step('set up: a user with enough questions, logged in in the browser', async () => {
    const { stack, browser, page } = ctx;
    await stack.ctl(['settings', 'set', 'billing.trial_questions', String(QUESTIONS + 100)]);
    await stack.ctl(['settings', 'set', 'limits.questions_per_minute', '100000']);
    client = await signUp(stack.url, 'perfuser');
    await useSession(browser, stack, client);
    await page.addInitScript(instrument);
    await stack.addKey(CONV_KEY);
  });

  step('first load to an interactive composer (median of 5)', async () => {
    const { stack, page } = ctx;
    const times = [];
    for (let i = 0; i < 5; i++) {
      await page.goto(`${stack.url}/`);
      const t = await page.waitForFunction(() => window.__perf?.ready, null, { polling: 50 }).then((h) => h.jsonValue());
      times.push(t);
    }
    const med = median(times);
    report(`first load median ${ms(med)} (target < ${TARGET.firstLoad} ms; loads: ${times.map(Math.round).join(', ')} ms)`);
  });

  step(`build a ${QUESTIONS * 2}-message conversation through the API`, async () => {
    const started = Date.now();
    for (let i = 1; i <= QUESTIONS; i++) {
      const content = i % 10 === 0
        ? `Question ${i}: a longer one.\nIt has a second line,\nand a third, to make this bubble taller than the others.`
        : `Question ${i}: what comes after ${i}?`;
      const sent = await client.call('chat.send', conversationId ? { content, conversation_id: conversationId } : { content });
      conversationId = sent.conversation_id;
      firstQuestionId ??= sent.user_message_id;
      lastAnswerId = sent.message_id;
      const end = await client.waitAnswer(sent.stream);
      assert.equal(end.event, 'done', `answer ${i} finished: ${JSON.stringify(end.data)}`);
    }
    const conv = await client.call('conversations.get', { id: conversationId });
    assert.equal(conv.messages.length, QUESTIONS * 2);
    report(`built ${QUESTIONS * 2} messages in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, { timeout: 240_000 });

  step(`open the ${QUESTIONS * 2}-message conversation, then scroll from the bottom to the top`, async () => {
    const { stack, page } = ctx;
    await page.goto(`${stack.url}/c/${conversationId}`);
    const rendered = await page.waitForFunction((id) => {
      const p = window.__perf;
      if (p.shown === undefined && document.querySelector(`[data-testid="message"][data-id="${id}"]`)) p.shown = performance.now();
      return p.shown;
    }, lastAnswerId, { polling: 'raf', timeout: 30_000 }).then((h) => h.jsonValue());
    // Let the browser finish what it started (layout, paint) before looking at long tasks.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 300))));
    const load = await longestSince(0);
    const domCount = await page.locator('[data-testid="message"]').count();
    report(`${QUESTIONS * 2}-message conversation shown in ${ms(rendered)} after navigation ` +
      `(target < ${TARGET.render} ms); longest task while loading ${ms(load.longest)} (${load.count} long tasks); ` +
      `${domCount} message elements in the page`);

    // Reaching the top of what is shown renders earlier messages without moving the view.
    const anchorCheck = await page.evaluate(async () => {
      const el = document.querySelector('.messages');
      const firstShown = () => document.querySelector('.message-list > .msg');
      const before = document.querySelectorAll('.message-list > .msg').length;
      el.scrollTop = 0;
      // Measured right away: earlier messages are added from the next frame on.
      const anchor = firstShown();
      const top = anchor.getBoundingClientRect().top;
      const deadline = performance.now() + 5000;
      while (document.querySelectorAll('.message-list > .msg').length === before && performance.now() < deadline) {
        await new Promise((r) => requestAnimationFrame(r));
      }
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      return {
        before,
        after: document.querySelectorAll('.message-list > .msg').length,
        moved: anchor.getBoundingClientRect().top - top,
      };
    });
    assert.ok(anchorCheck.after > anchorCheck.before,
      `scrolling to the top shows earlier messages (${anchorCheck.before} → ${anchorCheck.after})`);
    assert.ok(Math.abs(anchorCheck.moved) <= 2, `the message in view stayed put (moved ${anchorCheck.moved} px)`);

    // Scroll up a screen at a time, one step per frame, until the first question is on screen.
    const scroll = await page.evaluate(async (firstId) => {
      const el = document.querySelector('.messages');
      const t0 = performance.now();
      let frames = 0;
      let worstFrame = 0;
      let last = t0;
      for (;;) {
        const first = document.querySelector(`[data-testid="message"][data-id="${firstId}"]`);
        if (first && el.scrollTop <= 0) break;
        if (performance.now() - t0 > 60_000) return { error: 'did not reach the top in 60 s', t0 };
        el.scrollTop = Math.max(0, el.scrollTop - el.clientHeight);
        await new Promise((r) => requestAnimationFrame(r));
        const now = performance.now();
        worstFrame = Math.max(worstFrame, now - last);
        last = now;
        frames++;
      }
      // One more frame or two for whatever the last step started.
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      return { t0, took: performance.now() - t0, frames, worstFrame };
    }, firstQuestionId);
    assert.equal(scroll.error, undefined, scroll.error);
    const during = await longestSince(scroll.t0);
    report(`scrolled bottom to top in ${ms(scroll.took)} over ${scroll.frames} frames (worst frame ${ms(scroll.worstFrame)}); ` +
      `longest task while scrolling ${ms(during.longest)} (${during.count} long tasks; target < ${TARGET.longTask} ms)`);
    const first = page.locator(`[data-testid="message"][data-id="${firstQuestionId}"]`);
    assert.match(await first.innerText(), /Question 1:/);

  }, { timeout: 120_000 });

  step('stream a 4,000-token answer into the page', async () => {
    const { stack, page } = ctx;
    const keys = await stack.ctl(['keys', 'list']);
    for (const k of keys.items) await stack.removeKey(k.id);
    await stack.addKey(STREAM_KEY);
    await page.goto(`${stack.url}/`);
    await page.waitForFunction(() => window.__perf?.ready);
    await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
    const t0 = await page.evaluate(() => performance.now());
    await page.locator('[data-testid="message-input"]').fill('Write four thousand words, please.');
    await page.locator('[data-testid="send"]').click();
    const answer = page.locator('[data-testid="message"][data-role="assistant"]').last();
    await answer.locator('.text').waitFor({ timeout: 20_000 });
    const firstText = await page.evaluate(() => performance.now());
    await waitFor(async () => (await answer.getAttribute('data-status')) === 'done',
      { timeout: 90_000, interval: 200, what: 'the 4,000-token answer to finish' });
    const t1 = await page.evaluate(() => performance.now());
    const words = (await answer.locator('.text').innerText()).trim().split(/\s+/).length;
    assert.equal(words, 4000, 'the whole answer arrived');
    const during = await longestSince(t0, t1);
    report(`4,000-token answer streamed in ${ms(t1 - firstText)} after its first text; longest task while streaming ` +
      `${ms(during.longest)} (${during.count} long tasks${during.count ? `: ms@ms ${during.at}` : ''}; target < ${TARGET.streamTask} ms)`);
  }, { timeout: 150_000 });

  noProblems();
});
