// Browser tests of what 2026's models bring (CONTRACT.md §10): a reasoning model's thinking
// (open while it streams, folded to "thought for N s" after, kept across a reload), and
// attachments: pictures by the file picker and by paste, a PDF, large pictures scaled down in the
// browser, upload refusals, the 4 + 4 limit, and the warning for a model that cannot see pictures.
// What reached the upstream is read back from the fake's `GET /_fake/bodies`.
//
// Steps share one browser and one daemon and run in order; after a failure the rest are skipped.

import assert from 'node:assert/strict';
import { crc32, deflateSync } from 'node:zlib';
import { before, describe } from 'node:test';
import { waitFor } from './lib/stack.mjs';
import { PHONE, pick, scenario } from './lib/steps.mjs';
import { common } from './lib/selectors.mjs';

// About 4 s of thinking (16 reasoning tokens 250 ms apart): time to look at it while it streams.
const THINK_KEY = 'sk-e2m0001:reasoning:think_tokens=16:think_delay=250:tokens=8:delay=40';
const OK_KEY = 'sk-e2m0002:ok:tokens=6:delay=5';
const MODEL = 'gpt-4o-mini';

const sel = {
  ...common,
  reasoning: '[data-testid="reasoning"]',
  reasoningToggle: '[data-testid="reasoning-toggle"]',
  reasoningText: '[data-testid="reasoning-text"]',
  historyItem: '[data-testid="history-item"]',
  attach: '[data-testid="attach"]',
  attachInput: '[data-testid="attach-input"]',
  thumb: '[data-testid="attachment-thumb"]',
  chip: '[data-testid="attachment-chip"]',
  remove: '[data-testid="attachment-remove"]',
  attachError: '[data-testid="attachment-error"]',
  attachLimit: '[data-testid="attach-limit"]',
  visionWarning: '[data-testid="vision-warning"]',
  modelSelect: '[data-testid="model-select"]',
  composer: '[data-testid="composer"]',
  messageImage: '[data-testid="message-image"]',
  messageFile: '[data-testid="message-file"]',
};

/** A real PNG (signature, IHDR, IDAT, IEND with their CRCs): an RGB gradient tinted by `seed`. */
function png(width, height, seed = 0) {
  const chunk = (kind, data) => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc32(Buffer.concat([Buffer.from(kind, 'latin1'), data])));
    return Buffer.concat([head, Buffer.from(kind, 'latin1'), data, tail]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, no interlace
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      raw[row + 1 + x * 3] = (x * 255) / width;
      raw[row + 2 + x * 3] = (y * 255) / height;
      raw[row + 3 + x * 3] = (seed * 97 + x + y) % 256;
    }
  }
  return Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** Width and height from a PNG's IHDR or a JPEG's start-of-frame segment. */
function imageSize(bytes) {
  if (bytes.subarray(0, 8).equals(Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'))) {
    return { type: 'png', width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  assert.ok(bytes[0] === 0xff && bytes[1] === 0xd8, 'a PNG or a JPEG');
  for (let at = 2; at + 9 < bytes.length;) {
    if (bytes[at] !== 0xff) throw new Error(`JPEG: no marker at ${at}`);
    const marker = bytes[at + 1];
    const length = bytes.readUInt16BE(at + 2);
    // SOF0…SOF15, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { type: 'jpeg', height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7) };
    }
    at += 2 + length;
  }
  throw new Error('JPEG: no start-of-frame segment');
}

/** A small, valid one-page PDF whose text is `lines` (tests/integration/pdf_sample.py in JS). */
function pdf(lines) {
  const escape = (line) => line.replace(/[\\()]/g, (c) => `\\${c}`);
  const text = `BT /F1 14 Tf 72 760 Td 18 TL ${lines.map((l) => `(${escape(l)}) '`).join(' ')} ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    `<< /Length ${Buffer.byteLength(text, 'latin1')} >>\nstream\n${text}\nendstream`,
  ];
  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets = objects.map((body, i) => {
    const at = Buffer.byteLength(out, 'latin1');
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
    return at;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const at of offsets) out += `${String(at).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

describe('chatd web UI: reasoning and attachments', () => {
  const { ctx, step, shoot, noProblems } = scenario({ prefix: 'm' });
  let stack;
  let page;
  before(() => {
    ({ stack, page } = ctx);
  });

  async function onlyKey(key) {
    const keys = await stack.ctl(['keys', 'list']);
    for (const k of keys.items) await stack.removeKey(k.id);
    await stack.addKey(key);
  }

  /** The chat request bodies the fake upstream received for `key`, oldest first. */
  async function upstreamBodies(key) {
    const response = await fetch(`${stack.fakeUrl}/_fake/bodies?key=${encodeURIComponent(key)}`);
    assert.equal(response.status, 200);
    return (await response.json()).bodies;
  }

  async function newChat() {
    await page.locator(sel.newChat).click();
    await waitFor(async () => new URL(page.url()).pathname === '/' && (await page.locator(sel.answers).count()) === 0,
      { what: 'a new, empty chat' });
  }

  async function waitAnswers(count) {
    await waitFor(async () => (await page.locator(`${sel.answers}[data-status="done"]`).count()) >= count,
      { timeout: 30_000, what: `${count} finished answer(s)` });
    await page.locator(sel.send).waitFor({ state: 'visible' });
  }

  /** Screenshots in the dark theme too. The attribute is what the theme switch sets (tested in
   * features.test.mjs); setting it directly keeps a live answer streaming meanwhile. */
  async function shootBothThemes(name, sizes) {
    await shoot(name, sizes);
    await page.evaluate(() => document.documentElement.setAttribute('data-theme', 'dark'));
    try {
      await shoot(`${name}-dark`, sizes);
    } finally {
      await page.evaluate(() => document.documentElement.setAttribute('data-theme', 'light'));
    }
  }

  /** Pastes files into the message box the way a browser does: a `paste` event with clipboard files. */
  async function pasteFiles(files) {
    await page.locator(sel.input).evaluate((el, list) => {
      const data = new DataTransfer();
      for (const f of list) {
        const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
        data.items.add(new File([bytes], f.name, { type: f.type }));
      }
      el.focus();
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, files.map((f) => ({ name: f.name, type: f.type, base64: f.buffer.toString('base64') })));
  }

  /** Takes the browser problems a step caused on purpose out of the final check; returns how many. */
  function forgiveProblems(expected) {
    const problems = ctx.browser.problems;
    let n = 0;
    for (let i = problems.length - 1; i >= 0; i--) {
      if (expected(problems[i].text)) {
        problems.splice(i, 1);
        n++;
      }
    }
    return n;
  }

  // Messages have `content-visibility: auto`: until chromium has decided a new one is on screen,
  // its innerText is empty. Text inside messages is therefore read with textContent.
  const readyThumbs = () => page.locator(`${sel.thumb}[data-state="ready"]`).count();
  const lastQuestion = () => page.locator(sel.questions).last();

  step('sign up', async () => {
    await page.goto(stack.url);
    await page.locator(sel.switchMode).click();
    await page.locator(sel.username).fill('modeluser');
    await page.locator(sel.password).fill('correct horse battery staple');
    await page.locator(sel.submit).click();
    await page.locator(sel.balance).waitFor({ state: 'visible' });
  });

  step('thinking: open while it streams, then folded to "thought for N s"; kept across a reload', async () => {
    await onlyKey(THINK_KEY);
    await page.locator(sel.input).fill('Think before you answer');
    await page.locator(sel.send).click();

    const block = page.locator(sel.reasoning).last();
    await page.locator(`${sel.reasoning}[data-state="thinking"]`).waitFor({ timeout: 10_000 });
    assert.equal(await block.locator(sel.reasoningToggle).getAttribute('aria-expanded'), 'true', 'open while thinking');
    await waitFor(async () => /think1 think2 think3 think4/.test(await block.locator(sel.reasoningText).textContent()),
      { what: 'the reasoning text streaming in' });
    assert.match(await block.locator(sel.reasoningToggle).textContent(), /思考中/);
    await shootBothThemes('thinking-live');
    assert.equal(await block.getAttribute('data-state'), 'thinking',
      'the screenshots were taken while it was still thinking (make think_delay longer if not)');

    await page.locator(`${sel.reasoning}[data-state="done"]`).waitFor({ timeout: 15_000 });
    await waitAnswers(1);
    const toggle = block.locator(sel.reasoningToggle);
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false', 'folded once the answer starts');
    assert.equal(await block.locator(sel.reasoningText).isVisible(), false);
    const label = (await toggle.textContent()).trim();
    const seconds = Number(/已深度思考（用时 (\d+) 秒）/.exec(label)?.[1]);
    assert.ok(seconds >= 3 && seconds <= 6, `about 4 s of thinking: "${label}"`);
    assert.match(await page.locator(sel.answers).last().textContent(), /The quick brown/);
    await shootBothThemes('thinking-done-folded');
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    await shootBothThemes('thinking-done-open');

    // After a reload, from conversations.get: folded, with the server's figure, and it opens.
    const id = /\/c\/(\d+)/.exec(new URL(page.url()).pathname)[1];
    await page.goto(stack.url);
    await page.locator(`${sel.historyItem}[data-id="${id}"]`).click();
    const stored = page.locator(sel.reasoning).last();
    await stored.waitFor();
    assert.equal(await stored.getAttribute('data-state'), 'done');
    const storedToggle = stored.locator(sel.reasoningToggle);
    assert.equal(await storedToggle.getAttribute('aria-expanded'), 'false');
    assert.match(await storedToggle.textContent(), /已深度思考（用时 \d+ 秒）/);
    await storedToggle.click();
    const thoughts = Array.from({ length: 16 }, (_, i) => `think${i + 1}`).join(' ');
    assert.equal((await stored.locator(sel.reasoningText).textContent()).trim(), thoughts);
  });

  const SMALL = png(64, 48, 1);
  const PASTED = png(40, 40, 2);
  const REPORT = pdf(['Quarterly report', 'Revenue grew by 42 percent']);
  // A Chinese name with a space: the multipart filename, the question's text and the download.
  const REPORT_NAME = 'Q3 季度报告.pdf';

  step('pictures by the picker and by paste, and a PDF: thumbnails and a chip, sent upstream as they are', async () => {
    await onlyKey(OK_KEY);
    await stack.ctl(['models', 'set', MODEL, '--vision']);
    await page.goto(stack.url); // site.info again: the model now takes pictures
    await page.locator(sel.attach).waitFor();

    await page.locator(sel.attachInput).setInputFiles({ name: 'small.png', mimeType: 'image/png', buffer: SMALL });
    await pasteFiles([{ name: 'image.png', type: 'image/png', buffer: PASTED }]);
    await page.locator(sel.attachInput).setInputFiles({ name: REPORT_NAME, mimeType: 'application/pdf', buffer: REPORT });
    await waitFor(async () => (await readyThumbs()) === 2, { what: 'two uploaded thumbnails' });
    const chip = page.locator(`${sel.chip}[data-state="ready"]`);
    await chip.waitFor();
    assert.equal((await chip.locator('.attach-name').innerText()).trim(), REPORT_NAME);
    assert.equal(await page.locator(sel.visionWarning).count(), 0, 'no warning for a vision model');
    assert.equal(await page.locator(sel.thumb).locator('img').evaluateAll(
      (imgs) => imgs.every((img) => img.complete && img.naturalWidth > 0)), true, 'thumbnails are drawn');
    await page.locator(sel.input).fill('What is in these?');
    await shootBothThemes('composer-attachments');

    await page.locator(sel.send).click();
    await waitAnswers(1);
    assert.equal(await page.locator(sel.thumb).count() + await page.locator(sel.chip).count(), 0,
      'the composer is empty after sending');

    const [body] = (await upstreamBodies(OK_KEY)).slice(-1);
    const content = body.messages.at(-1).content;
    assert.ok(Array.isArray(content), `content parts: ${JSON.stringify(content).slice(0, 300)}`);
    const text = content.filter((p) => p.type === 'text').map((p) => p.text).join('\n');
    assert.match(text, /^What is in these\?/);
    assert.ok(text.includes(REPORT_NAME), 'the file\'s name goes with its text');
    assert.match(text, /Revenue grew by 42 percent/, 'the PDF\'s text went with the question');
    const urls = content.filter((p) => p.type === 'image_url').map((p) => p.image_url.url);
    assert.equal(urls.length, 2, 'two pictures');
    for (const [i, expected] of [SMALL, PASTED].entries()) {
      assert.ok(urls[i].startsWith('data:image/png;base64,'), urls[i].slice(0, 40));
      assert.ok(Buffer.from(urls[i].split(',')[1], 'base64').equals(expected), `picture ${i + 1} is sent byte for byte`);
    }
  });

  async function checkQuestionBubble(text = 'What is in these?') {
    const question = lastQuestion();
    const images = question.locator(sel.messageImage);
    await waitFor(async () => (await images.count()) === 2, { what: 'two pictures in the question' });
    await waitFor(() => images.locator('img').evaluateAll(
      (imgs) => imgs.every((img) => img.complete && img.naturalWidth > 0)), { what: 'the pictures to load' });
    const file = question.locator(sel.messageFile);
    assert.equal((await file.locator('.attach-name').textContent()).trim(), REPORT_NAME);
    assert.equal(await file.getAttribute('download'), REPORT_NAME);
    assert.match(await file.getAttribute('href'), /^\/api\/files\/[^/]+$/);
    assert.ok((await question.textContent()).includes(text));
  }

  step('the question shows its pictures and file, opens a picture full size, and keeps them after a reload', async () => {
    await checkQuestionBubble();
    const [popup] = await Promise.all([
      page.context().waitForEvent('page'),
      lastQuestion().locator(sel.messageImage).first().click(),
    ]);
    await popup.waitForLoadState();
    const fileUrl = popup.url();
    assert.match(new URL(fileUrl).pathname, /^\/api\/files\/[^/]+$/, 'the full picture in a new tab');
    assert.ok(await popup.evaluate(() => {
      const img = document.querySelector('img');
      return img !== null && img.complete && img.naturalWidth === 64;
    }), 'the tab shows the picture');
    await popup.close();
    // chromium's own picture viewer styles and scripts its page inline, which the file's
    // `Content-Security-Policy: default-src 'none'; sandbox` refuses (the picture shows all the same).
    forgiveProblems((text) => text.includes(fileUrl));
    await shootBothThemes('question-attachments');

    await page.reload();
    await page.locator(sel.balance).waitFor();
    await checkQuestionBubble();
  });

  step('edit & resend keeps what the question carried', async () => {
    const before = (await upstreamBodies(OK_KEY)).length;
    await page.locator('[data-testid="msg-edit"]').last().click();
    assert.equal(await page.locator(`.edit-form ${sel.messageImage}`).count(), 2, 'the pictures show while editing');
    await page.locator('[data-testid="edit-input"]').fill('And now?');
    await page.locator('[data-testid="edit-save"]').click();
    await waitFor(async () => (await upstreamBodies(OK_KEY)).length > before, { what: 'the edited question upstream' });
    await checkQuestionBubble('And now?');
    const content = (await upstreamBodies(OK_KEY)).at(-1).messages.at(-1).content;
    assert.equal(content.filter((p) => p.type === 'image_url').length, 2, 'the pictures again');
    assert.match(content.find((p) => p.type === 'text').text, /^And now\?[\s\S]*Revenue grew by 42 percent/);
    await waitFor(async () => (await page.locator(`${sel.answers}[data-status="done"]`).count()) === 1,
      { what: 'the new answer' });
  });

  step('a large picture is scaled down in the browser to 2048 px before it is uploaded', async () => {
    await newChat();
    const before = (await upstreamBodies(OK_KEY)).length;
    await page.locator(sel.attachInput).setInputFiles({ name: 'wide.png', mimeType: 'image/png', buffer: png(3000, 1000, 3) });
    await waitFor(async () => (await readyThumbs()) === 1, { timeout: 20_000, what: 'the wide picture uploaded' });
    await page.locator(sel.input).fill('A wide one');
    await page.locator(sel.send).click();
    await waitAnswers(1);
    const bodies = await upstreamBodies(OK_KEY);
    assert.equal(bodies.length, before + 1);
    const url = bodies.at(-1).messages.at(-1).content.find((p) => p.type === 'image_url').image_url.url;
    const size = imageSize(Buffer.from(url.split(',')[1], 'base64'));
    assert.deepEqual(size, { type: 'jpeg', width: 2048, height: 683 }, 'an opaque picture becomes a 2048 px JPEG');
    assert.match(url, /^data:image\/jpeg;base64,/);
  });

  step('a model that cannot see pictures: a warning, and Send is held back while a picture is attached', async () => {
    await stack.ctl(['models', 'set', 'text-only', '--name', 'Text only', '--upstream-model', MODEL, '--cost', '1']);
    await page.goto(stack.url);
    // The picker takes the default model once the chat has mounted: choose after that.
    await waitFor(async () => (await page.locator(sel.modelSelect).getAttribute('data-value')) === MODEL, { what: 'the default model chosen' });
    await pick(page, 'model-select', 'text-only');
    await page.locator(sel.attachInput).setInputFiles([
      { name: 'small.png', mimeType: 'image/png', buffer: SMALL },
      { name: 'notes.md', mimeType: 'text/markdown', buffer: Buffer.from('# Notes\n\nplain text\n') },
    ]);
    await waitFor(async () => (await readyThumbs()) === 1, { what: 'the picture uploaded' });
    await page.locator(`${sel.chip}[data-state="ready"]`).waitFor();
    await page.locator(sel.input).fill('Can you see this?');
    const warning = page.locator(sel.visionWarning);
    await warning.waitFor();
    assert.equal((await warning.innerText()).trim(), '当前模型不能识别图片，请换一个支持图片的模型');
    assert.equal(await page.locator(sel.send).isDisabled(), true, 'Send is disabled');
    await page.locator(sel.input).press('Enter');
    assert.equal(await page.locator(sel.questions).count(), 0, 'Enter does not send either');
    await shootBothThemes('vision-warning');

    // Another model that can see: allowed again; back, and without the picture: files are fine.
    await pick(page, 'model-select', MODEL);
    assert.equal(await warning.count(), 0);
    assert.equal(await page.locator(sel.send).isEnabled(), true);
    await pick(page, 'model-select', 'text-only');
    await warning.waitFor();
    await page.locator(sel.thumb).locator(sel.remove).click();
    assert.equal(await warning.count(), 0, 'no warning with a file only');
    assert.equal(await page.locator(sel.send).isEnabled(), true);
    await page.locator(sel.chip).locator(sel.remove).click();
  });

  /** Drags `file` over the composer and, unless `release` is false, drops it there. */
  async function dragFile(file, release = true) {
    await page.locator(sel.composer).evaluate((form, { f, drop }) => {
      const data = new DataTransfer();
      data.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
      const fire = (type) => form.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
      fire('dragenter');
      fire('dragover');
      if (drop) fire('drop');
    }, { f: { name: file.name, type: file.type, base64: file.buffer.toString('base64') }, drop: release });
  }

  step('drag and drop: the composer lights up; while the file uploads, its progress shows and Send waits', async () => {
    const notes = { name: 'notes.txt', type: 'text/plain', buffer: Buffer.alloc(256 * 1024, 'some notes ') };
    await dragFile(notes, false);
    await page.locator(`${sel.composer}.composer-dragging .composer-drop`).waitFor();
    await shoot('drop-highlight');

    // About 4 s of upload at 64 KiB/s.
    const cdp = await page.context().newCDPSession(page);
    const throttle = (uploadThroughput) => cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput });
    await cdp.send('Network.enable');
    await throttle(64 * 1024);
    try {
      await dragFile(notes);
      const chip = page.locator(sel.chip);
      await page.locator(`${sel.chip}[data-state="uploading"]`).waitFor();
      assert.equal(await page.locator(sel.composer).getAttribute('class'), 'composer', 'no highlight after the drop');
      assert.equal(await page.locator(sel.send).isDisabled(), true, 'Send waits for the upload');
      await page.locator(sel.input).press('Enter');
      assert.equal(await page.locator(sel.questions).count(), 0, 'Enter waits too');
      await waitFor(async () => /正在上传 [1-9]\d*%/.test(await chip.innerText()), { what: 'upload progress' });
      await shoot('uploading');
    } finally {
      await throttle(-1);
      await cdp.detach();
    }
    await page.locator(`${sel.chip}[data-state="ready"]`).waitFor({ timeout: 20_000 });
    assert.equal(await page.locator(sel.send).isEnabled(), true);
    await page.locator(sel.chip).locator(sel.remove).click();
  });

  step('refusals in plain words: too large, another type; at most 4 pictures per question', async () => {
    await page.locator(sel.attachInput).setInputFiles([
      { name: 'huge.txt', mimeType: 'text/plain', buffer: Buffer.alloc(11 * 1024 * 1024, 'a') },
      { name: 'program.exe', mimeType: 'application/octet-stream', buffer: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200)]) },
    ]);
    const errors = page.locator(sel.attachError);
    await waitFor(async () => (await errors.count()) === 2, { timeout: 20_000, what: 'two refused uploads' });
    const reasons = await errors.evaluateAll((els) => els.map((e) => e.getAttribute('data-reason')));
    assert.deepEqual(reasons.sort(), ['too_large', 'unsupported_type']);
    const words = await errors.allInnerTexts();
    assert.ok(words.some((w) => w.includes('huge.txt') && w.includes('文件太大')), words.join(' | '));
    assert.ok(words.some((w) => w.includes('program.exe') && w.includes('不支持这种文件')), words.join(' | '));
    assert.equal(await page.locator(`${sel.chip}[data-state="failed"]`).count(), 2);
    // chromium logs every HTTP error status of a request to the console.
    assert.equal(forgiveProblems((text) => /status of 41[35]\b.*\/api\/upload/.test(text)), 2, 'the two refusals');
    await shoot('upload-refused', [PHONE]);
    for (let n = 2; n > 0; n--) await page.locator(sel.chip).first().locator(sel.remove).click();

    await pick(page, 'model-select', MODEL);
    const five = Array.from({ length: 5 }, (_, i) => ({ name: `p${i + 1}.png`, mimeType: 'image/png', buffer: png(16, 16, i) }));
    await page.locator(sel.attachInput).setInputFiles(five);
    await page.locator(sel.attachLimit).waitFor();
    assert.equal(await page.locator(sel.thumb).count(), 4, 'four pictures kept');
    await waitFor(async () => (await readyThumbs()) === 4, { what: 'four pictures uploaded' });
    await shoot('attachment-limit');
  });

  noProblems();
});
