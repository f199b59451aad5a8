// Shapes of the chatd user API (CONTRACT.md §5–§6). Only what the SPA reads is spelled out;
// the daemon may add fields freely.

export type LoginMethod = 'wechat_qr' | 'wechat_code' | 'password';

export interface ModelInfo {
  id: string;
  name: string;
  cost: number;
  /** Accepts image attachments. */
  vision?: boolean;
  /** Thinks before answering (shows its reasoning). */
  reasoning?: boolean;
}

export interface SiteInfo {
  name: string;
  announcement: string;
  login_methods: LoginMethod[];
  default_theme: string;
  models: ModelInfo[];
  default_model: string;
  allow_custom_system_prompt: boolean;
  /** Absolute http(s) URL or a same-origin path; "" when unset. */
  logo_url?: string;
  tagline?: string;
  /** Where recharge cards are sold; "" when unset. */
  shop_url?: string;
  /** Free questions a new visitor gets. */
  trial_questions?: number;
  /** Questions an inviter earns per sign-up; invites are on when this or the next is > 0. */
  referral_signup_reward?: number;
  /** Percent (0–100) of an invitee's paid questions the inviter earns. */
  referral_paid_percent?: number;
  /** Whether users may call the OpenAI-compatible API under /v1 with keys of their own. */
  api_enabled?: boolean;
}

export interface Balance {
  trial: number;
  paid: number;
  /** Unix seconds; null when there are no paid credits. */
  paid_expires_at: number | null;
}

export interface Me {
  id: number;
  name: string;
  avatar?: string;
  is_admin: boolean;
  theme: string;
  invite_code: string;
  /** The user's choice: questions asked through their API keys listed in the history too. */
  show_api_history?: boolean;
  balance: Balance;
}

export interface AuthResult {
  user: { id: number; name: string; [key: string]: unknown };
}

/**
 * `auth.wechat.start`: a login QR code to scan (`qr`), or the keyword to send to the official
 * account for an 8-digit code (`code`). The URLs are the contents of QR codes, drawn here.
 */
export type WechatStart =
  | { mode: 'qr'; ticket: string; qr_url: string; expires_in: number }
  | { mode: 'code'; keyword: string; account_qr_url?: string };

/** `auth.wechat.poll`; on `confirmed` the session cookie is already set. */
export interface WechatPoll {
  status: 'pending' | 'confirmed' | 'expired';
  user?: AuthResult['user'];
}

/** An uploaded file as `POST /api/upload` and `conversations.get` describe it (CONTRACT.md §10). */
export interface Attachment {
  id: string;
  name: string;
  mime: string;
  size: number;
  kind: 'image' | 'file';
}

export interface UploadResult extends Attachment {
  /** Characters of text the server read from a file (PDF, text). */
  chars?: number;
}

export interface ChatSendParams {
  content: string;
  /** Upload ids: at most 4 images and 4 files. */
  attachments?: string[];
  conversation_id?: number;
  model?: string;
  role_id?: number;
  system_prompt?: string;
  parent_id?: number;
}

export interface ChatSendResult {
  conversation_id: number;
  user_message_id: number;
  message_id: number;
  /** Path of the answer's SSE stream, e.g. `/api/stream/12`. */
  stream: string;
}

export type MessageStatus = 'streaming' | 'done' | 'stopped' | 'failed' | 'interrupted';

export interface StreamDone {
  message_id: number;
  status: 'done' | 'stopped';
  charged: number;
  refunded: boolean;
  free_reason: 'slow' | null;
  balance: Balance;
  usage?: { prompt_tokens: number; completion_tokens: number; reasoning_tokens?: number };
  latency_ms?: { first_token: number | null; total: number };
}

export interface StreamFailure {
  reason: string;
  message: string;
  refunded: boolean;
}

export interface ConversationSummary {
  id: number;
  title: string;
  pinned: boolean;
  updated_at: number;
  created_at?: number;
  model?: string;
  role_id?: number | null;
  /** `api`: asked with a personal API key (listed when the user chose so), named by the key. */
  source?: 'web' | 'api';
  api_key_name?: string;
}

export interface ConversationList {
  items: ConversationSummary[];
  next_cursor: string | number | null;
}

export interface StoredMessage {
  id: number;
  parent_id: number | null;
  role: 'user' | 'assistant';
  content: string;
  status: MessageStatus;
  created_at: number;
  model?: string;
  error?: { reason: string; message: string };
  /** What a reasoning model thought before answering ("" when it did not think). */
  reasoning?: string;
  /** How long it thought (ms); null while unknown. */
  reasoning_ms?: number | null;
  /** An operator's own question, charged nothing (answers only). */
  asked_by_admin?: boolean;
  /** What a question carried (user messages only). */
  attachments?: Attachment[];
}

export interface Conversation extends ConversationSummary {
  current_leaf_id: number | null;
  system_prompt?: string | null;
  messages: StoredMessage[];
}

export interface Role {
  id: number;
  name: string;
  description?: string;
}

export interface Preset {
  id: number;
  text: string;
}

/** One balance change (`me.ledger`), newest first. */
export interface LedgerEntry {
  /** Unix seconds. */
  at: number;
  delta_trial: number;
  delta_paid: number;
  reason: string;
  ref: string | null;
}

export interface LedgerPage {
  items: LedgerEntry[];
  next_cursor: string | number | null;
}

export interface InviteInfo {
  code: string;
  /** Absolute URL of the invite link, e.g. `https://host/?ref=CODE`. */
  link: string;
  invited: number;
  rewarded_questions: number;
}

/** A plan on sale (`pay.plans`, CONTRACT.md §11). */
export interface Plan {
  id: number;
  name: string;
  price_cents: number;
  questions: number;
  days: number;
}

export type PayChannel = 'wechat' | 'alipay' | 'epay_alipay' | 'epay_wxpay';

export interface PayPlans {
  items: Plan[];
  channels: PayChannel[];
}

/** `pay.create`: what to show the buyer; times are Unix seconds. */
export interface PayCreated {
  order_no: string;
  amount_cents: number;
  qr_url?: string;
  pay_url?: string;
  expires_at: number;
}

export type OrderStatus = 'pending' | 'paid' | 'closed';

/** `pay.order`: the order's state, asked of the channel while pending; `balance` once paid. */
export interface PayOrder {
  order_no: string;
  status: OrderStatus;
  amount_cents: number;
  plan: { id: number | null; name: string; questions: number; days: number };
  paid_at?: number | null;
  balance?: Balance;
}

/** One of the user's orders (`me.orders`), newest first. */
export interface Order extends PayOrder {
  channel: PayChannel;
  qr_url: string | null;
  pay_url: string | null;
  created_at: number;
  expires_at: number;
}

export interface OrderPage {
  items: Order[];
  next_cursor: string | number | null;
}

/** A personal API key as listed: never the key itself, which is shown once when created. */
export interface ApiKey {
  id: number;
  name: string;
  masked: string;
  created_at: number;
  last_used_at: number | null;
}
