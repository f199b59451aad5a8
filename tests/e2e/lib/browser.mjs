// Launches Debian's chromium through playwright-core on a fresh temporary profile and records
// everything a test should assert is absent: console errors, uncaught page errors and CSP violations.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Runs in every page before its own scripts (injected by the browser, so the page's CSP does not
// apply to it) and reports each CSP violation to the test.
function reportCspViolations() {
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__e2eCspViolation({
      directive: e.violatedDirective,
      blocked: e.blockedURI,
      source: e.sourceFile ? `${e.sourceFile}:${e.lineNumber}` : '',
      sample: e.sample,
    });
  });
}

/**
 * Starts the browser. Returns `{context, page, problems, screenshot, close}`; `problems` collects
 * `{kind: 'console'|'pageerror'|'csp'|'crash', text}` for the whole run, over all pages. `locale`
 * is the browser's language (`navigator.language`, Accept-Language); the app follows it on a
 * first visit.
 */
export async function launchBrowser({ viewport = { width: 1280, height: 800 }, locale = 'zh-CN' } = {}) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium fonts-noto-cjk) ` +
      'or point CHROMIUM_BIN at it');
  }
  const profile = mkdtempSync(path.join(os.tmpdir(), 'chatd-e2e-profile-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport,
      locale,
      timezoneId: 'Asia/Shanghai',
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }

  const problems = [];
  await context.exposeBinding('__e2eCspViolation', ({ page }, v) => {
    problems.push({
      kind: 'csp',
      text: `${page?.url() ?? '?'}: CSP ${v.directive} blocked ${v.blocked || '(inline)'} ${v.source} ${v.sample || ''}`.trim(),
    });
  });
  await context.addInitScript(reportCspViolations);

  const watch = (page) => {
    page.on('console', (msg) => {
      if (msg.type() === 'error') {
        const loc = msg.location();
        problems.push({ kind: 'console', text: `${msg.text()}${loc?.url ? ` (${loc.url}:${loc.lineNumber})` : ''}` });
      }
    });
    page.on('pageerror', (err) => problems.push({ kind: 'pageerror', text: err.stack || String(err) }));
    page.on('crash', () => problems.push({ kind: 'crash', text: `page crashed: ${page.url()}` }));
  };
  context.pages().forEach(watch);
  context.on('page', watch);

  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);

  let closed = false;
  return {
    context,
    page,
    problems,
    /**
     * Saves a PNG of the page at the given viewport size, then restores the previous size.
     * Returns the document's width against the viewport's, to catch sideways overflow.
     */
    async screenshot(file, size) {
      const before = page.viewportSize();
      if (size) await page.setViewportSize(size);
      // Let layout settle after a resize.
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const layout = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        viewportWidth: window.innerWidth,
      }));
      await page.screenshot({ path: file, fullPage: false });
      if (size && before) await page.setViewportSize(before);
      return layout;
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}
