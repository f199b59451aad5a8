// Renders the app icons in public/ (icon-192.png, icon-512.png, apple-touch-icon.png) from the mark
// in favicon.svg, drawn full-bleed: launchers and iOS cut their own shape, and the bubble stays
// inside the central circle that maskable icons keep. Uses chromium through the e2e tests'
// playwright-core, so the PNGs come out the same every time:
//   (cd tests/e2e && npm ci) && node webui/scripts/make-icons.mjs

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const publicDir = fileURLToPath(new URL('../public/', import.meta.url));
const require = createRequire(fileURLToPath(new URL('../../tests/e2e/package.json', import.meta.url)));
const { chromium } = require('playwright-core');

const favicon = readFileSync(`${publicDir}favicon.svg`, 'utf8');
// The favicon's rounded tile becomes a plain square; the bubble is reused as it is.
const colour = /<rect[^>]*fill="([^"]+)"/.exec(favicon)[1];
const bubble = /<path[^>]*\/>/.exec(favicon)[0];
const mark = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" fill="${colour}"/>${bubble}</svg>`;

const SIZES = { 'icon-192.png': 192, 'icon-512.png': 512, 'apple-touch-icon.png': 180 };

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ deviceScaleFactor: 1 });
  for (const [name, size] of Object.entries(SIZES)) {
    await page.setViewportSize({ width: size, height: size });
    await page.setContent(
      `<style>html,body{margin:0}svg{display:block;width:${size}px;height:${size}px}</style>${mark}`,
    );
    await page.screenshot({ path: `${publicDir}${name}`, clip: { x: 0, y: 0, width: size, height: size } });
    console.log(`wrote public/${name} (${size}×${size})`);
  }
} finally {
  await browser.close();
}
