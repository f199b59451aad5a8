// UI strings. zh-CN is the default and defines the set of keys; another language is a table of
// the same shape passed to setMessages().

const zhCN = {
  'app.loading': '正在加载…',
  'app.defaultName': 'chatd',
  'app.retry': '重试',

  'login.title': '登录',
  'login.registerTitle': '注册账号',
  'login.username': '用户名',
  'login.password': '密码',
  'login.submit': '登录',
  'login.registerSubmit': '注册',
  'login.busy': '请稍候…',
  'login.toRegister': '没有账号？注册',
  'login.toLogin': '已有账号？登录',
  'login.inviteNotice': '通过邀请链接注册',
  'login.passwordDisabled': '本站暂未开放用户名密码登录。',
  'login.missingFields': '请填写用户名和密码。',

  'header.newChat': '新对话',
  'header.logout': '退出登录',
  'balance.label': '剩余次数',
  'balance.trial': '试用 {n}',
  'balance.paid': '付费 {n}',
  'balance.summary': '剩余次数：试用 {trial} 次，付费 {paid} 次',
  'balance.expires': '付费次数有效期至 {date}',

  'chat.empty': '有什么可以帮你的？',
  'chat.input': '输入你的问题',
  'chat.placeholder': '输入你的问题…',
  'chat.keyHint': 'Enter 发送，Shift+Enter 换行',
  'chat.send': '发送',
  'chat.stop': '停止',
  'chat.messages': '对话内容',
  'chat.you': '你',
  'chat.assistant': '助手',
  'chat.thinking': '正在思考…',
  'chat.reconnecting': '连接中断，正在重连…',
  'chat.stopped': '已停止',
  'chat.failed': '回答失败',
  'chat.charged': '消耗 {n} 次',
  'chat.refunded': '已退还本次额度',
  'chat.freeSlow': '响应较慢，本次免费',
  'chat.dismiss': '关闭提示',

  'error.bad_credentials': '用户名或密码不正确。',
  'error.username_taken': '这个用户名已被注册，请换一个。',
  'error.too_many_requests': '操作太频繁，请稍后再试。',
  'error.invalid_params': '填写的内容不符合要求，请检查后重试。',
  'error.user_banned': '该账号已被停用。',
  'error.insufficient_credits': '剩余次数不足，请充值后再提问。',
  'error.no_upstream': '服务暂时不可用，请稍后再试。',
  'error.busy': '上一个回答还没结束，请稍候再提问。',
  'error.content_blocked': '内容包含不允许的词语，请修改后再发送。',
  'error.unauthorized': '登录已失效，请重新登录。',
  'error.forbidden': '没有权限执行此操作。',
  'error.not_found': '找不到该内容。',
  'error.network': '网络连接失败，请检查网络后重试。',
  'error.upstream_unavailable': '模型服务暂时不可用，请稍后再试。',
  'error.upstream_rejected': '模型服务拒绝了这次请求。',
  'error.unknown': '出错了，请稍后再试。',
};

export type MessageKey = keyof typeof zhCN;
export type Messages = Record<MessageKey, string>;

let messages: Messages = zhCN;
let locale = 'zh-CN';

export function setMessages(table: Messages, lang: string): void {
  messages = table;
  locale = lang;
  document.documentElement.lang = lang;
}

/** A Unix-seconds time as a local date. */
export function formatDate(seconds: number): string {
  return new Date(seconds * 1000).toLocaleDateString(locale);
}

/** Looks up a string and fills `{name}` placeholders. */
export function t(key: MessageKey, vars?: Record<string, string | number>): string {
  const text = messages[key];
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in vars ? String(vars[name]) : whole,
  );
}

/** Plain-words text for an error reason; falls back to the server's own message, then a generic one. */
export function reasonText(reason: string | undefined, serverMessage?: string): string {
  const key = `error.${reason}`;
  if (key in messages) return messages[key as MessageKey];
  return serverMessage || messages['error.unknown'];
}
