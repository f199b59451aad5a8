// The scenario harness the browser tests share: one daemon and one browser per file, steps that run
// in order (after a failure the rest are skipped, the run still fails), and on failure a
// screenshot, the page URL, the browser problems so far and chatd's log tail.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser } from './browser.mjs';
import { startStack } from './stack.mjs';

export const ARTIFACTS = process.env.E2E_ARTIFACTS || mkdtempSync(path.join(os.tmpdir(), 'chatd-e2e-artifacts-'));
mkdirSync(ARTIFACTS, { recursive: true });

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/**
 * Sets up the stack and browser in `before` hooks and returns `{ctx, step, shoot}`: `ctx.stack`,
 * `ctx.browser` and `ctx.page` are filled in once started. Call inside `describe`.
 */
export function scenario({ prefix, stackOptions = {}, viewport = DESKTOP } = {}) {
  const ctx = { stack: null, browser: null, page: null, failedStep: null };
  let shotNo = 0;

  before(async () => {
    ctx.stack = await startStack(stackOptions);
    ctx.browser = await launchBrowser({ viewport });
    ctx.page = ctx.browser.page;
    process.stderr.write(`e2e: chatd at ${ctx.stack.url}, screenshots in ${ARTIFACTS}\n`);
  });

  after(async () => {
    try {
      await ctx.browser?.close();
    } finally {
      await ctx.stack?.stop({ keep: ctx.failedStep !== null });
    }
  });

  /** Screenshots at desktop and phone size; fails when the page scrolls sideways. */
  async function shoot(name, sizes = [DESKTOP, PHONE]) {
    shotNo += 1;
    const tag = `${prefix}${String(shotNo).padStart(2, '0')}`;
    for (const size of sizes) {
      const file = path.join(ARTIFACTS, `${tag}-${name}-${size.width}x${size.height}.png`);
      const { scrollWidth, viewportWidth } = await ctx.browser.screenshot(file, size);
      assert.ok(scrollWidth <= viewportWidth,
        `no sideways scrolling at ${size.width}x${size.height}: the page is ${scrollWidth} px wide (${file})`);
    }
  }

  function step(name, fn, { always = false, timeout = 90_000 } = {}) {
    test(name, { timeout }, async (t) => {
      if (ctx.failedStep !== null && !always) {
        t.skip(`skipped: the earlier step "${ctx.failedStep}" failed`);
        return;
      }
      try {
        await fn(t);
      } catch (err) {
        ctx.failedStep ??= name;
        let extra = '';
        const { page, browser, stack } = ctx;
        if (page) {
          const file = path.join(ARTIFACTS, `FAILED-${name.replace(/[^a-z0-9]+/gi, '-')}.png`);
          await page.screenshot({ path: file }).then(() => { extra += `\n--- screenshot: ${file}`; }, () => {});
          extra += `\n--- page URL: ${page.url()}`;
        }
        if (browser?.problems.length) {
          extra += `\n--- browser problems so far:\n${browser.problems.map((p) => `[${p.kind}] ${p.text}`).join('\n')}`;
        }
        if (stack) extra += stack.diagnostics(80);
        process.stderr.write(`\n=== e2e step failed: ${name} ===${extra}\n`);
        throw err;
      }
    });
  }

  /** The last step of a file: nothing went wrong in the browser along the way. */
  function noProblems() {
    step('no console errors and no CSP violations during the whole run', async () => {
      const problems = (ctx.browser ? ctx.browser.problems : []).map((p) => `[${p.kind}] ${p.text}`);
      assert.deepEqual(problems, []);
    }, { always: true });
  }

  return { ctx, step, shoot, noProblems };
}

/** Puts a session obtained from Node (ApiClient) into the browser, so the page is logged in. */
export async function useSession(browser, stack, client) {
  await browser.context.clearCookies();
  await browser.context.addCookies([{ name: 'chatd_session', value: client.session, url: stack.url, httpOnly: true }]);
}

/** Opens the account menu (the avatar) and chooses one of its items by test id. */
export async function accountMenu(page, itemTestid) {
  const panel = page.locator('[data-testid="account-menu-panel"]');
  if (!(await panel.isVisible())) await page.locator('[data-testid="account-menu"]').click();
  await panel.locator(`[data-testid="${itemTestid}"]`).click();
}

/** Chooses a theme or a language in the account menu (menuitemradio groups `theme-select`, `language-select`). */
async function chooseIn(page, group, value) {
  await page.locator('[data-testid="account-menu"]').click();
  await page.locator(`[data-testid="${group}"] [data-value="${value}"]`).click();
  await page.locator('[data-testid="account-menu-panel"]').waitFor({ state: 'detached' });
}
export const chooseTheme = (page, theme) => chooseIn(page, 'theme-select', theme);
export const chooseLanguage = (page, lang) => chooseIn(page, 'language-select', lang);

/** Picks a model (`model-select`) or a role (`role-select`) by its value in the picker's menu. */
export async function pick(page, picker, value) {
  await page.locator(`[data-testid="${picker}"]`).click();
  await page.locator(`[role="menu"] [data-value="${value}"]`).click();
  await page.locator(`[data-testid="${picker}"][data-value="${value}"]`).waitFor();
}
