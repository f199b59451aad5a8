// Credits in the browser: redeeming a recharge card (success updates the balance and the paid
// expiry at once; used, revoked, unknown and malformed codes are refused with a clear message),
// "my usage" (the ledger with human labels, page by page, zh-CN and English), and the invite
// link: copied from user A's panel, it signs up user B with `invite` (remembered across pages
// until sign-up), after which A's panel counts one invitee and A's trial grew by the reward.

import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { ApiClient } from './lib/api.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { accountMenu, chooseLanguage, DESKTOP, PHONE, scenario } from './lib/steps.mjs';
import { waitFor } from './lib/stack.mjs';
import { common } from './lib/selectors.mjs';

const KEY = 'sk-e2c0001:ok:tokens=5:delay=5';
const SIGNUP_REWARD = 3;

const sel = {
  ...common,
  redeemOpen: '[data-testid="redeem-open"]',
  dialog: '[data-testid="account-dialog"]',
  close: '[data-testid="account-close"]',
  code: '[data-testid="redeem-code"]',
  redeem: '[data-testid="redeem-submit"]',
  success: '[data-testid="redeem-success"]',
  error: '[data-testid="redeem-error"]',
  accountBalance: '[data-testid="account-balance"]',
  ledger: '[data-testid="ledger-list"]',
  ledgerItem: '[data-testid="ledger-item"]',
  ledgerMore: '[data-testid="ledger-more"]',
  tabUsage: '[data-testid="tab-usage"]',
  tabInvite: '[data-testid="tab-invite"]',
  tabRedeem: '[data-testid="tab-redeem"]',
  inviteLink: '[data-testid="invite-link"]',
  inviteCopy: '[data-testid="invite-copy"]',
  invited: '[data-testid="invite-invited"]',
  rewarded: '[data-testid="invite-rewarded"]',
  sideInvite: '[data-testid="side-invite"]',
};

describe('chatd web UI credits: cards, usage, invites', () => {
  const { ctx, step, shoot, noProblems } = scenario({ prefix: 'c' });
  let cardCode;
  let inviteLink;
  let other; // user B's browser

  const attr = async (selector, name) => ctx.page.locator(selector).getAttribute(name);
  const balanceOf = async (page = ctx.page) => ({
    trial: Number(await page.locator(sel.balance).getAttribute('data-trial')),
    paid: Number(await page.locator(sel.balance).getAttribute('data-paid')),
  });

  async function generateCard() {
    const out = await ctx.stack.ctl(['cards', 'generate', '--count', '1', '--questions', '50', '--days', '30']);
    return out.cards[0].code;
  }

  async function redeem(code) {
    const { page } = ctx;
    await page.locator(sel.code).fill(code);
    await page.locator(sel.redeem).click();
    // Done when the button is no longer busy and an outcome shows.
    await page.waitForFunction(() => {
      const button = document.querySelector('[data-testid="redeem-submit"]');
      return button && button.getAttribute('aria-busy') !== 'true' &&
        document.querySelector('[data-testid="redeem-success"], [data-testid="redeem-error"]');
    });
  }

  /** A Node client holding the browser's session, for preparing data quickly. */
  async function browserClient(browser) {
    const cookie = (await browser.context.cookies(ctx.stack.url)).find((c) => c.name === 'chatd_session');
    const client = new ApiClient(ctx.stack.url);
    client.cookie = `chatd_session=${cookie.value}`;
    return client;
  }

  step('sign up user A: 10 trial questions, nothing paid', async () => {
    const { stack, page } = ctx;
    await stack.ctl(['settings', 'set', 'referral.signup_reward', String(SIGNUP_REWARD)]);
    await stack.addKey(KEY);
    await page.goto(stack.url);
    await page.locator(sel.switchMode).click();
    await page.locator(sel.username).fill('credituser');
    await page.locator(sel.password).fill('correct horse battery staple');
    await page.locator(sel.submit).click();
    await page.locator(sel.balance).waitFor();
    assert.deepEqual(await balanceOf(), { trial: 10, paid: 0 });
  });

  step('redeem a card (lower case, no dashes): success, paid +50 and the expiry show at once', async () => {
    const { page } = ctx;
    cardCode = await generateCard();
    await accountMenu(page, 'redeem-open');
    await page.locator(sel.dialog).waitFor();
    assert.equal(await page.locator(sel.code).evaluate((el) => el === document.activeElement), true, 'the code field has the focus');
    await redeem(cardCode.toLowerCase().replace(/-/g, ''));
    assert.equal(await page.locator(sel.error).count(), 0, 'no error');
    assert.match(await page.locator(sel.success).innerText(), /兑换成功.*\+50/);
    assert.match(await page.locator(sel.success).innerText(), /有效期至 \d{4}/);
    assert.equal(await page.locator(sel.code).inputValue(), '', 'the field is cleared');
    // The header and the dialog both show the new balance, with the expiry date.
    assert.deepEqual(await balanceOf(), { trial: 10, paid: 50 });
    assert.equal(await attr(sel.accountBalance, 'data-paid'), '50');
    const expiry = new Date(Date.now() + 30 * 86400_000).toLocaleDateString('zh-CN', { timeZone: 'Asia/Shanghai' });
    assert.match(await page.locator(sel.balance).innerText(), /付费\s*50/);
    assert.ok((await page.locator(sel.balance).innerText()).includes(expiry), `the header shows the expiry ${expiry}`);
    assert.ok((await page.locator('[data-testid="account-expiry"]').innerText()).includes(expiry));
    await shoot('redeem-success');
  });

  step('refused with a clear reason: used, unknown, revoked and malformed codes', async () => {
    const { page, stack } = ctx;
    await redeem(cardCode);
    assert.equal(await attr(sel.error, 'data-reason'), 'card_used');
    assert.match(await page.locator(sel.error).innerText(), /已经被使用过/);
    assert.equal(await page.locator(sel.success).count(), 0);
    assert.equal(await page.locator(sel.code).inputValue(), cardCode, 'the code stays for correcting');
    await shoot('redeem-used');

    await redeem('ZZZZ-ZZZZ-ZZZZ-ZZZZ');
    assert.equal(await attr(sel.error, 'data-reason'), 'card_invalid');
    assert.match(await page.locator(sel.error).innerText(), /卡密无效/);

    const revoked = await generateCard();
    await stack.ctl(['cards', 'revoke', revoked]);
    await redeem(revoked);
    assert.equal(await attr(sel.error, 'data-reason'), 'card_revoked');
    assert.match(await page.locator(sel.error).innerText(), /作废/);

    // Not even sent: it cannot be a card code (and does not count as a failed attempt).
    await redeem('abc-123');
    assert.equal(await attr(sel.error, 'data-reason'), 'format');
    assert.match(await page.locator(sel.error).innerText(), /16 位/);
    assert.deepEqual(await balanceOf(), { trial: 10, paid: 50 }, 'the balance did not change');

    // Esc closes the dialog.
    await page.keyboard.press('Escape');
    await waitFor(async () => (await page.locator(sel.dialog).count()) === 0, { what: 'the dialog to close' });
  });

  step('my usage: the ledger lists the question, the card and the trial grant, newest first', async () => {
    const { page } = ctx;
    await page.locator(sel.input).fill('How much is one question?');
    await page.locator(sel.send).click();
    await page.locator(`${sel.answers}[data-status="done"]`).waitFor({ timeout: 30_000 });
    await page.waitForSelector(`${sel.balance}[data-paid="49"]`);

    await page.locator(sel.balance).click();
    await page.locator(sel.ledger).waitFor();
    const reasons = await page.locator(sel.ledgerItem).evaluateAll((els) => els.map((e) => e.getAttribute('data-reason')));
    assert.deepEqual(reasons, ['question', 'card', 'trial_grant']);
    const rows = await page.locator(sel.ledgerItem).allInnerTexts();
    assert.match(rows[0], /提问[\s\S]*付费 -1/);
    assert.match(rows[1], /充值卡兑换[\s\S]*卡密 …[0-9A-Z]{4}[\s\S]*付费 \+50/);
    assert.match(rows[2], /注册赠送[\s\S]*试用 \+10/);
    assert.equal(await page.locator(sel.ledgerMore).count(), 0, 'one page only');
    await shoot('usage');
  });

  step('my usage is paginated: "load more" brings the older rows', async () => {
    const { page, browser } = ctx;
    const client = await browserClient(browser);
    let conversation;
    for (let i = 0; i < 21; i++) {
      const sent = await client.call('chat.send', { content: `Quick question ${i}`, ...(conversation ? { conversation_id: conversation } : {}) });
      conversation = sent.conversation_id;
      assert.equal((await client.waitAnswer(sent.stream)).event, 'done');
    }
    await page.locator(sel.close).click();
    await page.locator(sel.balance).click();
    await page.locator(sel.ledger).waitFor();
    await waitFor(async () => (await page.locator(sel.ledgerItem).count()) === 20, { what: 'the first page of 20 rows' });
    // Opening the dialog refreshed the balance, which changed behind the page's back.
    await page.waitForSelector(`${sel.balance}[data-paid="28"]`);
    assert.equal(await attr(sel.accountBalance, 'data-paid'), '28');
    await page.locator(sel.ledgerMore).click();
    // 22 questions, the card and the trial grant.
    await waitFor(async () => (await page.locator(sel.ledgerItem).count()) === 24, { what: 'all 24 rows' });
    const reasons = await page.locator(sel.ledgerItem).evaluateAll((els) => els.map((e) => e.getAttribute('data-reason')));
    assert.deepEqual(reasons.slice(-3), ['question', 'card', 'trial_grant'], 'the oldest rows come last');
    assert.equal(await page.locator(sel.ledgerMore).count(), 0, 'nothing more to load');
  });

  step('the invite panel: link with a copy button, nobody invited yet', async () => {
    const { page, browser, stack } = ctx;
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url });
    await page.locator(sel.tabInvite).click();
    await page.locator(sel.inviteLink).waitFor();
    inviteLink = await page.locator(sel.inviteLink).inputValue();
    assert.match(inviteLink, /^http:\/\/[^/]+\/\?ref=[A-Za-z0-9]+$/);
    await page.locator(sel.inviteCopy).click();
    await waitFor(async () => /已复制/.test(await page.locator(sel.inviteCopy).innerText()), { what: 'the copy confirmation' });
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), inviteLink);
    assert.equal(await attr(sel.invited, 'data-n'), '0');
    assert.equal(await attr(sel.rewarded, 'data-n'), '0');
    await shoot('invite');
    await page.locator(sel.close).click();
  });

  step('user B opens the invite link, browses, then signs up with the invite', async () => {
    other = await launchBrowser({ viewport: PHONE });
    const page = other.page;
    const link = new URL(inviteLink);
    // The link as served by this test's chatd (the daemon may know itself by another host name).
    await page.goto(`${ctx.stack.url}/${link.search}`);
    await page.locator(sel.loginForm).waitFor();
    await waitFor(() => !new URL(page.url()).search.includes('ref='), { what: 'the code to leave the address' });
    assert.equal(await page.evaluate(() => localStorage.getItem('chatd.invite')), link.searchParams.get('ref'));
    // Still remembered on another page load.
    await page.goto(ctx.stack.url);
    await page.locator(sel.loginForm).waitFor();
    assert.match(await page.locator(sel.loginForm).innerText(), /通过邀请链接注册/, 'the sign-up form mentions the invite');
    await page.locator(sel.username).fill('inviteduser');
    await page.locator(sel.password).fill('another good passphrase');
    await page.locator(sel.submit).click();
    await page.locator(sel.balance).waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('chatd.invite')), null, 'forgotten after sign-up');
  });

  step('user A: one invitee, 3 questions earned, trial +3, and the reward in the ledger', async () => {
    const { page } = ctx;
    const before = await balanceOf();
    await page.reload();
    await page.locator(sel.balance).waitFor();
    const after = await balanceOf();
    assert.equal(after.trial, before.trial + SIGNUP_REWARD, 'the reward went to the trial bucket');
    await accountMenu(page, 'side-invite');
    await page.locator(sel.invited).waitFor();
    assert.equal(await attr(sel.invited, 'data-n'), '1');
    assert.equal(await attr(sel.rewarded, 'data-n'), String(SIGNUP_REWARD));
    await page.locator(sel.tabUsage).click();
    await page.locator(sel.ledger).waitFor();
    const first = page.locator(sel.ledgerItem).first();
    assert.equal(await first.getAttribute('data-reason'), 'referral_signup');
    assert.match(await first.innerText(), /邀请奖励：好友注册[\s\S]*试用 \+3/);
    await shoot('invite-rewarded', [DESKTOP]);
    await page.locator(sel.close).click();
  });

  step('English: the dialog and the ledger labels switch language', async () => {
    const { page } = ctx;
    await chooseLanguage(page, 'en');
    await waitFor(async () => (await page.locator(sel.newChat).getAttribute('aria-label')) === 'New chat', { what: 'English labels' });
    assert.equal(await page.locator('[data-testid="msg-copy"]').first().getAttribute('aria-label'), 'Copy', 'message actions switch too');
    await page.locator('[data-testid="account-menu"]').click();
    assert.equal((await page.locator(sel.redeemOpen).innerText()).trim(), 'Top up', 'the account menu too');
    await page.keyboard.press('Escape');
    await page.locator(sel.balance).click();
    await page.locator(sel.ledger).waitFor();
    await page.locator(sel.ledgerMore).click();
    await waitFor(async () => (await page.locator(sel.ledgerItem).count()) === 25, { what: 'all 25 rows' });
    const texts = await page.locator(sel.ledgerItem).allInnerTexts();
    assert.match(texts[0], /Invite reward: a friend signed up[\s\S]*Trial \+3/);
    assert.ok(texts.some((x) => /Recharge card[\s\S]*Paid \+50/.test(x)), 'the card row in English');
    await page.locator(sel.tabRedeem).click();
    await redeem(cardCode);
    assert.match(await page.locator(sel.error).innerText(), /already been redeemed/);
    await shoot('english-redeem', [DESKTOP]);
    await page.locator(sel.close).click();
    await chooseLanguage(page, 'zh-CN');
  });

  step('user B\'s browser had no console errors or CSP violations', async () => {
    const problems = (other ? other.problems : []).map((p) => `[${p.kind}] ${p.text}`);
    await other?.close();
    assert.deepEqual(problems, []);
  }, { always: true });

  noProblems();
});
