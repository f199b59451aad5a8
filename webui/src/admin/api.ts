// The operator API (CONTRACT.md §7) as the console uses it: the same `POST /rpc` endpoint as the
// visitor app, answered for sessions of admin accounts. Shapes follow daemon/src/rpc/admin_methods.cpp.

import { rpc } from '../api';
import type { ApiKey, Balance, Conversation, LedgerEntry } from '../types';

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type KeyStatus = 'active' | 'cooling' | 'invalid' | 'disabled';
export const KEY_STATUSES: KeyStatus[] = ['active', 'cooling', 'invalid', 'disabled'];

export interface AdminStatus {
  version: string;
  uptime_s: number;
  users: number;
  conversations: number;
  in_flight: number;
  keys: Record<KeyStatus, number>;
  ledger_consistent?: boolean;
  /** When the ledger was last checked (a big site checks in the background every few minutes). */
  ledger_checked_at?: number;
}

export interface DayStats {
  /** YYYY-MM-DD in the server's time zone, oldest first. */
  date: string;
  questions: number;
  new_users: number;
  active_users: number;
  redemptions: number;
  credits_sold: number;
  first_token_p50_ms: number | null;
  first_token_p95_ms: number | null;
  /** Of `questions`, those asked through the OpenAI-compatible API with users' own keys. */
  api_questions: number;
  /** What the day's answers used and earned (CONTRACT.md §10); zero on days without answers. */
  prompt_tokens: number;
  completion_tokens: number;
  reasoning_tokens: number;
  /** At the models' upstream prices, in the stats' `currency`. */
  upstream_cost: number;
  /** Credits charged (refunded answers count 0). */
  credits: number;
  /** credits × the setting billing.credit_price, at today's price. */
  revenue: number;
  /** Orders paid online that day and what they brought, in fen (CONTRACT.md §11). */
  orders: number;
  paid_cents: number;
}

/** One model's usage over a period (admin.stats.models), money in the stats' `currency`. */
export interface ModelUsage {
  model: string;
  questions: number;
  prompt_tokens: number;
  /** Reasoning tokens are counted in completion_tokens too (and priced as output). */
  completion_tokens: number;
  reasoning_tokens: number;
  upstream_cost: number;
  credits: number;
  revenue: number;
}

export interface AdminUser {
  id: number;
  name: string;
  username?: string;
  is_admin: boolean;
  balance: Balance;
  banned: boolean;
  created_at: number;
}

export interface AdminUserDetail extends AdminUser {
  invited_by: number | null;
  wechat?: { openid: string; unionid: string | null };
  /** The stored paid bucket, expired credits included (they stay until a redemption forfeits them). */
  paid_credits: number;
  ledger: LedgerEntry[];
  /** May the user call the OpenAI-compatible API (with the site's `api.enabled`)? */
  api_enabled: boolean;
  api_keys: ApiKey[];
}

export interface UpstreamKey {
  id: number;
  masked: string;
  base_url: string;
  provider: string;
  models: string[];
  status: KeyStatus;
  reason?: string;
  requests: number;
  failures: number;
  tokens_in: number;
  tokens_out: number;
  last_used_at: number | null;
  last_error: string | null;
  note: string | null;
  created_at: number;
  cooldown_until?: number | null;
}

/** An upstream provider the daemon knows (admin.providers.list). */
export interface Provider {
  id: string;
  name: string;
  base_url: string;
  balance: boolean;
}

export interface KeyTestResult {
  id: number;
  ok: boolean;
  status: string;
  reason?: string;
}

export interface KeyBalance {
  id: number;
  provider?: string;
  balance?: number;
  currency?: string;
  error?: string;
}

export type CardStatus = 'unused' | 'used' | 'revoked' | 'expired';
export const CARD_STATUSES: CardStatus[] = ['unused', 'used', 'revoked', 'expired'];

export interface Card {
  code: string;
  batch: string;
  questions: number;
  days: number;
  redeem_before: number | null;
  status: CardStatus;
  redeemed_by: number | null;
  redeemed_at: number | null;
  created_at: number;
}

export interface GeneratedBatch {
  batch: string;
  redeem_before: number | null;
  cards: { code: string; questions: number; days: number }[];
}

export interface CardBatch {
  batch: string;
  count: number;
  unused: number;
  used: number;
  revoked: number;
  expired?: number;
  questions?: number;
  days?: number;
  redeem_before?: number | null;
  created_at: number;
}

export interface AdminConversationSummary {
  id: number;
  title: string;
  user_id: number;
  user_name: string;
  model: string;
  updated_at: number;
  created_at: number;
  deleted_at: number | null;
}

export interface AdminConversation extends Conversation {
  user_id: number;
  user_name: string;
  deleted_at: number | null;
}

export interface AuditItem {
  at: number;
  actor: string;
  via: 'socket' | 'web' | string;
  /** The client's address for changes made through the web. */
  address?: string | null;
  method: string;
  params: unknown;
  /** What the change replaced and what it left (null or absent when not recorded). */
  before?: unknown;
  after?: unknown;
}

export interface ModelRow {
  id: string;
  name: string;
  upstream_model: string;
  cost: number;
  max_messages: number;
  max_context_chars: number;
  enabled: boolean;
  sort: number;
  /** Accepts image attachments. */
  vision: boolean;
  /** Thinks before answering: set here, or noted from its first answer with reasoning. */
  reasoning?: boolean;
  /** Sent upstream as `max_tokens` when above 0. */
  max_tokens: number;
  /** Whether `stream_options.include_usage` is sent; `auto` drops it for an upstream that refuses it. */
  stream_usage: StreamUsage;
  /** The upstream's price per 1,000,000 prompt / completion tokens, in the setting `billing.currency`. */
  price_in: number;
  price_out: number;
  /** Extra credits per attached image. */
  image_cost: number;
}

export const STREAM_USAGE = ['auto', 'on', 'off'] as const;
export type StreamUsage = (typeof STREAM_USAGE)[number];

export interface RoleRow {
  id: number;
  name: string;
  description: string;
  prompt: string;
  sort: number;
  enabled: boolean;
}

export interface PresetRow {
  id: number;
  text: string;
  sort: number;
}

/** What a visitor can buy online (CONTRACT.md §11); the price is in fen. */
export interface Plan {
  id: number;
  name: string;
  price_cents: number;
  questions: number;
  days: number;
  enabled: boolean;
  sort: number;
}

export type OrderStatus = 'pending' | 'paid' | 'closed';
export const ORDER_STATUSES: OrderStatus[] = ['pending', 'paid', 'closed'];

/** `wechat`, `alipay`, `epay_alipay`, `epay_wxpay`; kept open for channels added later. */
export type PayChannel = string;

export interface Order {
  order_no: string;
  user_id: number;
  status: OrderStatus;
  channel: PayChannel;
  amount_cents: number;
  /** What was bought, copied when the order was placed (the plan may have changed or gone since). */
  plan: { id: number | null; name: string; questions: number; days: number };
  trade_no: string | null;
  qr_url: string | null;
  pay_url: string | null;
  created_at: number;
  expires_at: number;
  paid_at: number | null;
  closed_at: number | null;
}

/** One thing that happened to an order: a notification, a query, the provider's refusal. */
export interface OrderEvent {
  at: number;
  /** `create`, `notify`, `query` (the buyer waiting), `sync` (the minute job or an operator). */
  source: string;
  client_ip: string;
  /** `accepted`, `duplicate`, `ignored`, `closed`, or `refused: <why>`. */
  verdict: string;
  detail: string;
}

export interface OrderDetail extends Order {
  events: OrderEvent[];
}

type Empty = Record<string, never>;
type Items<T> = { items: T[] };
type PageParams = { cursor?: string; limit?: number };

/** Leaves out parameters that are empty, so the daemon applies its defaults. */
function given<T extends object>(params: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ''),
  ) as Partial<T>;
}

export const admin = {
  status: () => rpc<AdminStatus>('admin.status'),
  stats: (days: number) => rpc<{ days: DayStats[]; currency: string }>('admin.stats', { days }),
  modelStats: (days: number) => rpc<{ items: ModelUsage[]; currency: string }>('admin.stats.models', { days }),

  users: (params: PageParams & { query?: string }) => rpc<Page<AdminUser>>('admin.users.list', given(params)),
  user: (id: number) => rpc<AdminUserDetail>('admin.users.get', { id }),
  grant: (params: { id: number; questions: number; days?: number; bucket: 'paid' | 'trial' }) =>
    rpc<{ balance: Balance }>('admin.users.grant', given(params)),
  ban: (id: number) => rpc<Empty>('admin.users.ban', { id }),
  unban: (id: number) => rpc<Empty>('admin.users.unban', { id }),
  setApi: (id: number, enabled: boolean) => rpc<Empty>('admin.users.set_api', { id, enabled }),

  conversations: (params: PageParams & { user_id?: number; query?: string }) =>
    rpc<Page<AdminConversationSummary>>('admin.conversations.list', given(params)),
  conversation: (id: number) => rpc<AdminConversation>('admin.conversations.get', { id }),

  keys: () => rpc<Items<UpstreamKey>>('admin.keys.list'),
  providers: () => rpc<Items<Provider>>('admin.providers.list'),
  addKeys: (params: { keys: string[]; base_url?: string; models?: string[]; note?: string; provider?: string }) =>
    rpc<{ ids: number[] }>('admin.keys.add', given(params)),
  testKeys: (id?: number) => rpc<Items<KeyTestResult>>('admin.keys.test', id === undefined ? {} : { id }),
  keyBalance: (id: number) => rpc<Items<KeyBalance>>('admin.keys.balance', { id }),
  enableKey: (id: number) => rpc<Empty>('admin.keys.enable', { id }),
  disableKey: (id: number) => rpc<Empty>('admin.keys.disable', { id }),
  removeKey: (id: number) => rpc<Empty>('admin.keys.remove', { id }),

  generateCards: (params: { count: number; questions: number; days: number; batch?: string; redeem_before?: number }) =>
    rpc<GeneratedBatch>('admin.cards.generate', given(params)),
  cards: (params: PageParams & { batch?: string; status?: string }) =>
    rpc<Page<Card>>('admin.cards.list', given(params)),
  batches: () => rpc<Items<CardBatch>>('admin.cards.batches'),
  revokeCards: (target: { codes: string[] } | { batch: string }) => rpc<{ revoked: number }>('admin.cards.revoke', target),

  settings: () => rpc<Record<string, string>>('admin.settings.get'),
  setSetting: (key: string, value: string) => rpc<Empty>('admin.settings.set', { key, value }),

  models: () => rpc<Items<ModelRow>>('admin.models.list'),
  setModel: (model: Partial<ModelRow> & { id: string }) => rpc<ModelRow>('admin.models.set', model),
  removeModel: (id: string) => rpc<Empty>('admin.models.remove', { id }),
  roles: () => rpc<Items<RoleRow>>('admin.roles.list'),
  setRole: (role: Partial<RoleRow>) => rpc<RoleRow>('admin.roles.set', role),
  removeRole: (id: number) => rpc<Empty>('admin.roles.remove', { id }),
  presets: () => rpc<Items<PresetRow>>('admin.presets.list'),
  setPreset: (preset: Partial<PresetRow> & { text: string }) => rpc<PresetRow>('admin.presets.set', preset),
  removePreset: (id: number) => rpc<Empty>('admin.presets.remove', { id }),

  plans: () => rpc<Items<Plan>>('admin.plans.list'),
  /** The visitors' own method: which channels chatd.conf offers right now. */
  payChannels: () => rpc<{ items: Plan[]; channels: PayChannel[] }>('pay.plans'),
  setPlan: (plan: Partial<Plan>) => rpc<Plan>('admin.plans.set', plan),
  removePlan: (id: number) => rpc<Empty>('admin.plans.remove', { id }),
  orders: (params: PageParams & { status?: string; user_id?: number; query?: string }) =>
    rpc<Page<Order>>('admin.orders.list', given(params)),
  order: (order_no: string) => rpc<OrderDetail>('admin.orders.get', { order_no }),
  syncOrder: (order_no: string) => rpc<Order>('admin.orders.sync', { order_no }),

  audit: (params: PageParams) => rpc<Page<AuditItem>>('admin.audit.list', given(params)),
};
