// Starts a real fake_upstream and a real chatd (serving the built SPA) on free loopback ports in a
// temporary directory, and stops them again. Used by the browser end-to-end tests.
//
// Binaries and the SPA come from the environment (CTest sets them), with defaults relative to the
// repository: CHATD_BIN, CHATCTL_BIN, FAKE_UPSTREAM_BIN (build/…), WEBUI_DIR (webui/dist).

import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const paths = {
  chatd: process.env.CHATD_BIN || path.join(REPO_ROOT, 'build', 'chatd'),
  chatctl: process.env.CHATCTL_BIN || path.join(REPO_ROOT, 'build', 'chatctl'),
  fake: process.env.FAKE_UPSTREAM_BIN || path.join(REPO_ROOT, 'build', 'fake_upstream'),
  webui: process.env.WEBUI_DIR || path.join(REPO_ROOT, 'webui', 'dist'),
  fakeWechat: process.env.FAKE_WECHAT_SCRIPT || path.join(REPO_ROOT, 'tests', 'fakes', 'fake_wechat.py'),
};

/** The WeChat account the fake platform and chatd share in tests. */
export const WECHAT = {
  appid: 'wx5f3c2a1b0e9d8c7b',
  secret: '0123456789abcdef0123456789abcdef',
  token: 'chatdtoken2026',
  aesKey: 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR',
  accountQrUrl: 'http://weixin.qq.com/r/fakeaccount',
};

const STOP_TIMEOUT_MS = 10_000;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` until it returns something truthy; throws after `timeout` ms. */
export async function waitFor(predicate, { timeout = 10_000, interval = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let lastError;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${detail}`);
    }
    await sleep(interval);
  }
}

/** A loopback port that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Children still running when this process exits (a crash, or a test runner timeout) are killed.
const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** A child process whose stdout and stderr go to a log file. */
class Proc {
  constructor(name, file, args, logPath) {
    this.name = name;
    this.logPath = logPath;
    const fd = openSync(logPath, 'a');
    this.child = spawn(file, args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.exitCode = undefined;
    this.signal = undefined;
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        live.delete(this.child);
        resolve();
      });
      this.child.on('error', (err) => {
        this.spawnError = err;
        live.delete(this.child);
        resolve();
      });
    });
    live.add(this.child);
  }

  get running() {
    return this.exitCode === undefined && this.signal === undefined && !this.spawnError;
  }

  describeExit() {
    if (this.spawnError) return `${this.name} could not start: ${this.spawnError.message}`;
    return `${this.name} exited (code ${this.exitCode}, signal ${this.signal})`;
  }

  log() {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  /** SIGTERM, then SIGKILL when it has not exited after `timeout` ms. */
  async stop(timeout = STOP_TIMEOUT_MS) {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    let timer;
    const timedOut = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), timeout); });
    const outcome = await Promise.race([this.exited.then(() => 'exited'), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      process.stderr.write(`${this.name} ignored SIGTERM for ${timeout} ms; sending SIGKILL\n`);
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

async function httpGet(url, timeout = 2000) {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeout) });
  const body = await response.text();
  return { status: response.status, body };
}

function run(file, args, input) {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(file)} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

function checkInputs() {
  const missing = [];
  for (const [what, p] of Object.entries({ CHATD_BIN: paths.chatd, CHATCTL_BIN: paths.chatctl, FAKE_UPSTREAM_BIN: paths.fake })) {
    if (!existsSync(p)) missing.push(`${what}: ${p}`);
  }
  if (!existsSync(path.join(paths.webui, 'index.html'))) {
    missing.push(`WEBUI_DIR: ${paths.webui}/index.html (build it: cd webui && npm run build)`);
  }
  if (missing.length) throw new Error(`e2e prerequisites missing:\n  ${missing.join('\n  ')}`);
}

/**
 * Starts fake_upstream and chatd. Options: `extraConf` (appended to the config file), `fakeArgs`,
 * `wechat` ('qr' or 'code': also starts the fake WeChat platform, safe mode on, and points chatd at
 * it). Always call `stop()` (in an `after` hook), also when starting failed half-way.
 */
export async function startStack({ extraConf = '', fakeArgs = [], wechat = null } = {}) {
  checkInputs();
  const stack = new Stack(mkdtempSync(path.join(os.tmpdir(), 'chatd-e2e-')));
  try {
    await stack.startFake(fakeArgs);
    if (wechat) {
      await stack.startWechat();
      extraConf += ['', '[wechat]', `mode = ${wechat}`, `appid = ${WECHAT.appid}`, `secret = ${WECHAT.secret}`,
        `token = ${WECHAT.token}`, `encoding_aes_key = ${WECHAT.aesKey}`, `api_base = ${stack.wechatUrl}`,
        `account_qr_url = ${WECHAT.accountQrUrl}`, ''].join('\n');
    }
    await stack.startChatd(extraConf);
    if (wechat) await stack.wechatCall('/_fake/config', { callback: `${stack.url}/wechat/callback` });
  } catch (err) {
    err.message += stack.diagnostics();
    await stack.stop({ keep: true });
    throw err;
  }
  return stack;
}

class Stack {
  constructor(workdir) {
    this.workdir = workdir;
    this.fake = null;
    this.chatd = null;
    this.wechat = null;
  }

  async startFake(args) {
    const portFile = path.join(this.workdir, 'fake.port');
    this.fake = new Proc('fake_upstream', paths.fake,
      ['--listen', '127.0.0.1:0', '--port-file', portFile, ...args], path.join(this.workdir, 'fake.log'));
    const port = await waitFor(() => {
      if (!this.fake.running) throw new Error(this.fake.describeExit());
      return existsSync(portFile) && readFileSync(portFile, 'utf8').trim();
    }, { what: 'the fake_upstream port file' });
    this.fakeUrl = `http://127.0.0.1:${Number(port)}`;
    this.upstreamBaseUrl = `${this.fakeUrl}/v1`;
  }

  async startWechat() {
    const portFile = path.join(this.workdir, 'wechat.port');
    this.wechat = new Proc('fake_wechat', 'python3', [paths.fakeWechat, '--listen', '127.0.0.1:0',
      '--port-file', portFile, '--appid', WECHAT.appid, '--secret', WECHAT.secret, '--token', WECHAT.token,
      '--aes-key', WECHAT.aesKey], path.join(this.workdir, 'wechat.log'));
    const port = await waitFor(() => {
      if (!this.wechat.running) throw new Error(this.wechat.describeExit());
      return existsSync(portFile) && readFileSync(portFile, 'utf8').trim();
    }, { what: 'the fake_wechat port file' });
    this.wechatUrl = `http://127.0.0.1:${Number(port)}`;
  }

  /** A call to the fake WeChat platform or its phone simulator (tests/fakes/README.md). */
  async wechatCall(pathname, body) {
    const response = await fetch(`${this.wechatUrl}${pathname}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const result = await response.json();
    if (!response.ok) throw new Error(`fake_wechat ${pathname}: HTTP ${response.status}: ${JSON.stringify(result)}`);
    return result;
  }

  async startChatd(extraConf) {
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    this.socket = path.join(this.workdir, 'admin.sock');
    this.dataDir = path.join(this.workdir, 'var');
    this.confPath = path.join(this.workdir, 'chatd.conf');
    writeFileSync(this.confPath, [
      `listen = 127.0.0.1:${this.port}`,
      `admin_socket = ${this.socket}`,
      `data_dir = ${this.dataDir}`,
      `webui_dir = ${paths.webui}`,
      'log_level = debug',
      'drain_timeout = 5',
      '[auth]',
      'password = on',
      '[limits]',
      'answers_in_flight = 10',
      'questions_per_minute = 1000',
      'signups_per_hour = 1000',
      'login_attempts_per_15min = 1000',
      extraConf,
      '',
    ].join('\n'));
    this.chatd = new Proc('chatd', paths.chatd, ['--config', this.confPath], path.join(this.workdir, 'chatd.log'));
    await waitFor(async () => {
      if (!this.chatd.running) throw new Error(this.chatd.describeExit());
      try {
        return (await httpGet(`${this.url}/healthz`, 1000)).status === 200;
      } catch {
        return false;
      }
    }, { timeout: 15_000, what: 'chatd /healthz' }).catch((err) => {
      // A dead daemon is not worth waiting for: report why right away.
      if (!this.chatd.running) err.message = this.chatd.describeExit();
      throw err;
    });
  }

  /** Runs chatctl against this daemon's admin socket; returns the parsed --json result. */
  async ctl(args, input) {
    const out = await run(paths.chatctl, ['-s', this.socket, '--json', ...args], input);
    return out.trim() ? JSON.parse(out) : null;
  }

  /** Runs chatctl against this daemon's admin socket without --json; returns its stdout as text. */
  async ctlText(args, input) {
    return run(paths.chatctl, ['-s', this.socket, ...args], input);
  }

  /** Adds an upstream key (a fake key such as `sk-e2e01:ok:tokens=20`) through chatctl; returns its id. */
  async addKey(key) {
    const result = await this.ctl(['keys', 'add', '--base-url', this.upstreamBaseUrl, '-'], `${key}\n`);
    return result.ids[0];
  }

  async removeKey(id) {
    await this.ctl(['keys', 'rm', String(id)]);
  }

  /** The fake's counters: `{requests:{key:n}, in_flight, completed, client_closed}`. */
  async fakeStats() {
    const { status, body } = await httpGet(`${this.fakeUrl}/_fake/stats`);
    if (status !== 200) throw new Error(`GET /_fake/stats: HTTP ${status}: ${body}`);
    return JSON.parse(body);
  }

  chatdLog() {
    return this.chatd ? this.chatd.log() : '';
  }

  /** The last `lines` lines of chatd's log. */
  chatdLogTail(lines = 60) {
    return this.chatdLog().split('\n').slice(-lines - 1).join('\n');
  }

  diagnostics(lines = 60) {
    let text = `\n--- work dir: ${this.workdir}`;
    if (this.chatd) text += `\n--- chatd log (last ${lines} lines) ---\n${this.chatdLogTail(lines)}`;
    if (this.fake) text += `\n--- fake_upstream log (last 20 lines) ---\n${this.fake.log().split('\n').slice(-21).join('\n')}`;
    if (this.wechat) text += `\n--- fake_wechat log (last 20 lines) ---\n${this.wechat.log().split('\n').slice(-21).join('\n')}`;
    return `${text}\n--- end of logs ---`;
  }

  /**
   * Stops chatd, then the fake (SIGTERM, SIGKILL after a timeout). The work dir is removed unless
   * `keep` is set or the environment has KEEP_WORKDIR.
   */
  async stop({ keep = false } = {}) {
    const errors = [];
    for (const proc of [this.chatd, this.fake, this.wechat]) {
      if (!proc) continue;
      try {
        await proc.stop();
      } catch (err) {
        errors.push(err);
      }
    }
    if (keep || process.env.KEEP_WORKDIR) {
      process.stderr.write(`e2e work dir kept: ${this.workdir}\n`);
    } else {
      rmSync(this.workdir, { recursive: true, force: true });
    }
    if (errors.length) throw errors[0];
  }
}
