// Client for the chatd user API: JSON-RPC 2.0 over `POST /rpc` and the SSE answer stream
// `GET /api/stream/{message_id}` (CONTRACT.md §4–§6).

import { SseParser } from './sse';
import type {
  ApiKey,
  AuthResult,
  Balance,
  InviteInfo,
  LedgerPage,
  OrderPage,
  PayChannel,
  PayCreated,
  PayOrder,
  PayPlans,
  Conversation,
  ConversationList,
  Preset,
  Role,
  ChatSendParams,
  ChatSendResult,
  Me,
  SiteInfo,
  StreamDone,
  StreamFailure,
  WechatPoll,
  WechatStart,
} from './types';

export interface RpcErrorData {
  reason?: string;
  [key: string]: unknown;
}

/** Code used for failures below JSON-RPC: no connection, or an HTTP error without a JSON body. */
export const TRANSPORT_ERROR = 0;

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: RpcErrorData,
  ) {
    super(message);
    this.name = 'RpcError';
  }

  /** The stable machine reason; protocol-level errors without one get a generic reason. */
  get reason(): string {
    if (typeof this.data?.reason === 'string') return this.data.reason;
    if (this.code === -32602) return 'invalid_params';
    return 'internal';
  }
}

let nextId = 1;

function reasonForStatus(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 413) return 'too_large';
  if (status === 429) return 'too_many_requests';
  return 'server_error';
}

/** Calls one JSON-RPC method; resolves to its result or throws an RpcError. */
export async function rpc<T>(
  method: string,
  params?: object,
  options: { signal?: AbortSignal } = {},
): Promise<T> {
  const request: Record<string, unknown> = { jsonrpc: '2.0', id: nextId++, method };
  if (params !== undefined) request.params = params;

  let response: Response;
  try {
    response = await fetch('/rpc', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify(request),
      signal: options.signal,
    });
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw new RpcError(TRANSPORT_ERROR, String(err), { reason: 'network' });
  }

  let body: { result?: unknown; error?: { code: number; message: string; data?: RpcErrorData } };
  try {
    body = await response.json();
  } catch {
    throw new RpcError(TRANSPORT_ERROR, `HTTP ${response.status}`, {
      reason: response.ok ? 'server_error' : reasonForStatus(response.status),
    });
  }
  if (body.error) {
    const { code, message, data } = body.error;
    throw new RpcError(code, message, data);
  }
  return body.result as T;
}

/** Typed wrappers for the methods the SPA uses. */
export const api = {
  siteInfo: () => rpc<SiteInfo>('site.info'),
  me: () => rpc<Me>('me.get'),
  login: (username: string, password: string) =>
    rpc<AuthResult>('auth.password.login', { username, password }),
  register: (username: string, password: string, invite?: string) =>
    rpc<AuthResult>(
      'auth.password.register',
      invite ? { username, password, invite } : { username, password },
    ),
  logout: () => rpc<Record<string, never>>('auth.logout'),
  wechatStart: (invite?: string) => rpc<WechatStart>('auth.wechat.start', invite ? { invite } : {}),
  wechatPoll: (ticket: string) => rpc<WechatPoll>('auth.wechat.poll', { ticket }),
  wechatCode: (code: string, invite?: string) =>
    rpc<AuthResult>('auth.wechat.code', invite ? { code, invite } : { code }),
  send: (params: ChatSendParams) => rpc<ChatSendResult>('chat.send', params),
  stop: (messageId: number) => rpc<Record<string, never>>('chat.stop', { message_id: messageId }),
  regenerate: (messageId: number) => rpc<ChatSendResult>('chat.regenerate', { message_id: messageId }),
  updateMe: (change: { name?: string; theme?: string; show_api_history?: boolean }) => rpc<Me>('me.update', change),
  listConversations: (params: { cursor?: string | number; limit?: number; query?: string }) =>
    rpc<ConversationList>('conversations.list', params),
  getConversation: (id: number) => rpc<Conversation>('conversations.get', { id }),
  renameConversation: (id: number, title: string) =>
    rpc<Record<string, never>>('conversations.rename', { id, title }),
  deleteConversation: (id: number) => rpc<Record<string, never>>('conversations.delete', { id }),
  pinConversation: (id: number, pinned: boolean) =>
    rpc<Record<string, never>>('conversations.pin', { id, pinned }),
  redeemCard: (code: string) => rpc<{ balance: Balance }>('cards.redeem', { code }),
  ledger: (params: { cursor?: string | number; limit?: number }) => rpc<LedgerPage>('me.ledger', params),
  inviteInfo: () => rpc<InviteInfo>('invite.info'),
  apiKeys: () => rpc<{ items: ApiKey[] }>('me.apikeys.list'),
  createApiKey: (name: string) => rpc<{ id: number; key: string }>('me.apikeys.create', { name }),
  revokeApiKey: (id: number) => rpc<Record<string, never>>('me.apikeys.revoke', { id }),
  payPlans: () => rpc<PayPlans>('pay.plans'),
  payCreate: (planId: number, channel: PayChannel) => rpc<PayCreated>('pay.create', { plan_id: planId, channel }),
  payOrder: (orderNo: string) => rpc<PayOrder>('pay.order', { order_no: orderNo }),
  myOrders: (params: { cursor?: string | number; limit?: number }) => rpc<OrderPage>('me.orders', params),
  roles: () => optionalList<Role>('roles.list'),
  presets: () => optionalList<Preset>('presets.list'),
};

/** A list method the daemon may not offer yet: "method not found" (or any failure) means none. */
async function optionalList<T>(method: string): Promise<T[]> {
  try {
    const result = await rpc<{ items?: T[] }>(method);
    return Array.isArray(result?.items) ? result.items : [];
  } catch {
    return [];
  }
}

export interface StreamOptions {
  /** Resume after this event id (as if it had already been received). */
  after?: number;
  onDelta: (text: string) => void;
  /** The model's reasoning, which comes before the answer's deltas. */
  onReasoning?: (text: string) => void;
  onDone: (done: StreamDone) => void;
  onError: (failure: StreamFailure) => void;
  /** Called before each reconnection attempt, counting from 1; 0 once events flow again. */
  onReconnect?: (attempt: number) => void;
  signal?: AbortSignal;
}

const RECONNECT_BASE_MS = 500;
const RECONNECT_MAX_MS = 8000;
/** Consecutive attempts without a single event before the stream is given up. */
const RECONNECT_ATTEMPTS = 10;
/** The daemon sends a keepalive at least every 15 s; silence this long means a dead connection. */
const IDLE_TIMEOUT_MS = 45_000;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

type Attempt = { kind: 'finished' } | { kind: 'dropped'; progressed: boolean };

/**
 * Reads one answer's SSE stream until `done` or `error`, reconnecting with `Last-Event-ID` and a
 * capped exponential backoff when the connection drops first. Resolves when the stream has ended
 * (after exactly one of onDone/onError) or was aborted through `signal` (after neither).
 */
export async function streamAnswer(streamPath: string, options: StreamOptions): Promise<void> {
  const { signal } = options;
  let lastId = options.after !== undefined ? String(options.after) : undefined;
  let retryMs = RECONNECT_BASE_MS;
  let failures = 0;

  const fail = (reason: string, message: string) =>
    options.onError({ reason, message, refunded: false });

  for (;;) {
    if (signal?.aborted) return;
    const attempt = await readOnce();
    if (signal?.aborted || attempt.kind === 'finished') return;

    failures = attempt.progressed ? 1 : failures + 1;
    if (failures > RECONNECT_ATTEMPTS) {
      fail('network', 'connection lost');
      return;
    }
    options.onReconnect?.(failures);
    const backoff = Math.min(RECONNECT_MAX_MS, retryMs * 2 ** (failures - 1));
    await sleep(backoff * (0.75 + Math.random() * 0.5), signal);
  }

  async function readOnce(): Promise<Attempt> {
    const connection = new AbortController();
    const abort = () => connection.abort();
    signal?.addEventListener('abort', abort);
    let idle: ReturnType<typeof setTimeout> | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(abort, IDLE_TIMEOUT_MS);
    };

    let finished = false;
    let progressed = false;
    let lastNumeric = lastId !== undefined ? Number(lastId) : NaN;

    const parser = new SseParser(
      (event) => {
        if (finished) return;
        const id = event.id !== undefined ? Number(event.id) : NaN;
        // Ids increase; anything at or before the resume point was already shown.
        if (!Number.isNaN(id) && !Number.isNaN(lastNumeric) && id <= lastNumeric) return;
        if (event.id !== undefined) lastId = event.id;
        if (!Number.isNaN(id)) lastNumeric = id;
        if (!progressed) {
          progressed = true;
          if (failures > 0) options.onReconnect?.(0);
        }

        if (event.event === 'delta' || event.event === 'reasoning') {
          const piece = parseJson<{ text?: unknown }>(event.data);
          if (typeof piece?.text !== 'string' || piece.text === '') return;
          if (event.event === 'delta') options.onDelta(piece.text);
          else options.onReasoning?.(piece.text);
        } else if (event.event === 'done') {
          finished = true;
          const done = parseJson<StreamDone>(event.data);
          if (done) options.onDone(done);
          else fail('bad_stream', 'malformed done event');
        } else if (event.event === 'error') {
          finished = true;
          const failure = parseJson<StreamFailure>(event.data);
          options.onError({
            reason: typeof failure?.reason === 'string' ? failure.reason : 'upstream_error',
            message: typeof failure?.message === 'string' ? failure.message : '',
            refunded: failure?.refunded === true,
          });
        }
      },
      (ms) => {
        retryMs = Math.max(100, ms);
      },
    );

    try {
      armIdle();
      const headers: Record<string, string> = { Accept: 'text/event-stream' };
      if (lastId !== undefined) headers['Last-Event-ID'] = lastId;
      const response = await fetch(streamPath, {
        headers,
        credentials: 'same-origin',
        cache: 'no-store',
        signal: connection.signal,
      });

      if (!response.ok) {
        const status = response.status;
        if (status >= 500 || status === 408 || status === 429) return { kind: 'dropped', progressed };
        fail(reasonForStatus(status), `HTTP ${status}`);
        return { kind: 'finished' };
      }
      const type = response.headers.get('Content-Type') ?? '';
      if (!response.body || !type.startsWith('text/event-stream')) {
        fail('bad_stream', `unexpected response: ${type}`);
        return { kind: 'finished' };
      }

      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        armIdle();
        parser.feed(decoder.decode(value, { stream: true }));
        if (finished) {
          reader.cancel().catch(() => {});
          break;
        }
      }
    } catch {
      // Network failure, idle timeout or abort: decided by the caller.
    } finally {
      clearTimeout(idle);
      signal?.removeEventListener('abort', abort);
    }
    return finished ? { kind: 'finished' } : { kind: 'dropped', progressed };
  }
}
