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
  'login.usernameRequired': '请输入用户名。',
  'login.passwordRequired': '请输入密码。',
  'login.usernameLength': '用户名需要 2 到 32 个字符。',
  'login.usernameChars': '用户名只能包含字母、数字、中文和 _ - .，不能有空格。',
  'login.usernameHint': '2–32 个字符：字母、数字、中文或 _ - .',
  'login.passwordShort': '密码至少需要 8 个字符。',
  'login.passwordLong': '密码太长：最多 256 个字节。',
  'login.passwordHint': '至少 8 个字符',
  'login.trial': '新用户免费体验 {n} 次',
  'login.trialOne': '新用户免费体验 1 次',
  'login.language': '语言',
  'login.methods': '登录方式',
  'login.tabWechat': '微信登录',
  'login.tabPassword': '密码登录',

  'wechat.loading': '正在加载…',
  'wechat.qrAlt': '微信登录二维码',
  'wechat.accountQrAlt': '公众号二维码',
  'wechat.qrDrawFailed': '二维码加载失败',
  'wechat.scanDesktop': '请用手机微信扫一扫登录',
  'wechat.scanInWechat': '长按二维码，选择「识别图中二维码」',
  'wechat.scanPhone': '请用另一台设备上的微信扫码；也可长按图片保存到相册，再在微信「扫一扫」中从相册选取',
  'wechat.waiting': '等待扫码…',
  'wechat.loggingIn': '已确认，正在登录…',
  'wechat.expired': '二维码已过期',
  'wechat.failed': '登录未完成',
  'wechat.refresh': '二维码已过期，点击刷新',
  'wechat.retry': '点击重试',
  'wechat.codeStepsDesktop': '用微信扫码关注公众号，发送「{keyword}」获取 8\u00a0位登录码',
  'wechat.codeStepsInWechat': '长按二维码，选择「识别图中二维码」关注公众号，发送「{keyword}」获取 8\u00a0位登录码',
  'wechat.codeStepsPhone': '用另一台设备上的微信扫码（或长按保存图片，在微信「扫一扫」中从相册选取）关注公众号，发送「{keyword}」获取 8\u00a0位登录码',
  'wechat.codeStepsNoQr': '在微信中关注本站公众号，发送「{keyword}」获取 8\u00a0位登录码',
  'wechat.codeLabel': '登录码',
  'wechat.codePlaceholder': '8 位数字',
  'wechat.codeSubmit': '登录',
  'wechat.codeInvalid': '请输入 8 位数字登录码。',

  'header.newChat': '新对话',
  'header.logout': '退出登录',
  'header.admin': '管理后台',
  'announcement.label': '公告',
  'announcement.dismiss': '关闭公告',
  'balance.label': '剩余次数',
  'balance.trial': '试用 {n}',
  'balance.paid': '付费 {n}',
  'balance.summary': '剩余次数：试用 {trial} 次，付费 {paid} 次',
  'balance.expires': '付费次数有效期至 {date}',
  'balance.short': '{n} 次',
  'balance.admin': '管理员 · 不计费',
  'balance.adminShort': '不计费',
  'account.menu': '账户菜单：{name}',
  'credits.buy': '购买',
  'credits.redeem': '兑换充值卡',
  'credits.shop': '去购买充值卡',

  'header.redeem': '充值',
  'header.usage': '查看用量和明细',
  'side.usage': '我的用量',
  'side.apiKeys': 'API 密钥',
  'side.invite': '邀请好友',

  'account.title': '我的账户',
  'account.close': '关闭',
  'account.tabs': '账户功能',
  'account.tabRedeem': '充值',
  'account.tabUsage': '我的用量',
  'account.tabApi': 'API 密钥',
  'account.tabInvite': '邀请好友',
  'account.trial': '试用次数',
  'account.trialNote': '永不过期',
  'account.paid': '付费次数',
  'account.paidUntil': '有效期至 {date}',
  'account.paidNone': '暂无有效期',

  'redeem.label': '充值卡卡密',
  'redeem.hint': '输入购买的充值卡卡密，不区分大小写，短横线可省略。有效期内再次充值，次数累加、有效期顺延。',
  'redeem.submit': '兑换',
  'redeem.busy': '正在兑换…',
  'redeem.success': '兑换成功：付费次数 +{n}。',
  'redeem.successExpiry': '有效期至 {date}。',
  'redeem.noCard': '还没有充值卡？',
  'redeem.shop': '购买充值卡',
  'redeem.format': '卡密格式不正确：应为 16 位字母和数字，例如 ABCD-EFGH-JKMN-PQRS。',

  'usage.title': '用量明细',
  'usage.empty': '还没有记录。',
  'usage.more': '加载更多',
  'usage.loading': '正在加载…',
  'usage.when': '时间',
  'usage.what': '项目',
  'usage.change': '变动',
  'usage.trial': '试用 {n}',
  'usage.paid': '付费 {n}',
  'usage.cardRef': '卡密 …{code}',
  'reason.trial_grant': '注册赠送',
  'reason.question': '提问',
  'reason.refund': '退还（回答失败）',
  'reason.refund_slow': '退还（响应慢，本次免费）',
  'reason.card': '充值卡兑换',
  'reason.paid_expired': '付费次数过期',
  'reason.grant': '管理员调整',
  'reason.referral_signup': '邀请奖励：好友注册',
  'reason.referral_paid': '邀请奖励：好友充值',

  'header.buy': '购买',
  'pay.title': '购买次数',
  'pay.close': '关闭',
  'pay.plans': '选择套餐',
  'pay.planQuestions': '{n} 次提问',
  'pay.planDays': '{n} 天内有效',
  'pay.channels': '支付方式',
  'pay.channel.wechat': '微信支付',
  'pay.channel.alipay': '支付宝',
  'pay.viaEpay': '{name}（聚合）',
  'pay.submit': '去支付 {amount}',
  'pay.creating': '正在下单…',
  'pay.note': '付款后次数立即到账；有效期内再次购买，次数累加、有效期顺延。',
  'pay.amount': '应付金额',
  'pay.qrAlt': '支付二维码',
  'pay.qrFailed': '二维码绘制失败，请返回重试。',
  'pay.countdown': '请在 {time} 内完成支付',
  'pay.confirming': '订单已到期，正在确认支付结果…',
  'pay.scanWechat': '请用微信「扫一扫」扫码支付',
  'pay.scanAlipay': '请用支付宝「扫一扫」扫码支付',
  'pay.phoneWechat': '微信支付需要扫码：请用另一台设备的微信扫描下方二维码，或截图后在微信「扫一扫」中从相册识别。本页会自动显示支付结果。',
  'pay.openPayUrl': '打开支付页面',
  'pay.openAlipay': '打开支付宝付款',
  'pay.openPayUrlDesktop': '或在新窗口打开支付页面',
  'pay.phoneAfter': '付款后回到本页，结果会自动显示；也可以用另一台设备扫描二维码。',
  'pay.checkFailed': '暂时查不到支付结果，正在重试…',
  'pay.orderNo': '订单号 {no}',
  'pay.back': '重新选择套餐或支付方式',
  'pay.paid': '支付成功！',
  'pay.paidCredits': '付费次数 +{n}。',
  'pay.paidBalance': '现有付费次数 {paid}。',
  'pay.paidUntil': '有效期至 {date}。',
  'pay.done': '完成',
  'pay.expired': '订单已过期，没有扣款。',
  'pay.retry': '重新下单',
  'pay.redeemInstead': '没有充值卡？',
  'pay.buyOnline': '在线购买',
  'orders.title': '我的订单',
  'orders.empty': '还没有订单。',
  'orders.continue': '继续支付',
  'orders.status.pending': '待支付',
  'orders.status.paid': '已支付',
  'orders.status.closed': '已关闭',
  'orders.status.expired': '已过期',
  'usage.orderRef': '订单 …{no}',
  'reason.order': '在线购买',

  'invite.intro': '把邀请链接发给好友。',
  'invite.introSignup': '好友通过链接注册，你获得 {n} 次提问。',
  'invite.introPaid': '好友每次充值，你再获得所充次数的 {p}%。',
  'invite.introNote': '奖励计入试用次数，永不过期。',
  'invite.link': '你的邀请链接',
  'invite.copy': '复制链接',
  'invite.copied': '已复制',
  'invite.copyFailed': '无法自动复制，请长按或选中链接手动复制。',
  'invite.invited': '已邀请',
  'invite.rewarded': '已获得奖励',
  'invite.people': '{n} 人',
  'invite.questions': '{n} 次',
  'invite.loading': '正在加载…',
  'apikeys.intro': '在自己的应用里（Chatbox、Cherry Studio、NextChat、LobeChat 或 openai SDK）使用本站额度：选择“OpenAI 兼容”接口，填入下面的地址和一个 API 密钥。每次提问按网页上的规则扣费。',
  'apikeys.baseUrl': '接口地址（Base URL）',
  'apikeys.name': '新密钥的名称',
  'apikeys.namePlaceholder': '例如：Chatbox 手机',
  'apikeys.create': '创建密钥',
  'apikeys.full': '最多 {n} 个密钥：先吊销一个不用的。',
  'apikeys.empty': '还没有 API 密钥。',
  'apikeys.createdOnce': '密钥“{name}”已创建。它只显示这一次：现在复制并妥善保存。',
  'apikeys.key': 'API 密钥',
  'apikeys.saved': '我已保存',
  'apikeys.copy': '复制',
  'apikeys.copyFailed': '无法自动复制：请选中后手动复制。',
  'apikeys.lastUsed': '最近使用 {at}',
  'apikeys.neverUsed': '从未使用',
  'apikeys.revoke': '吊销',
  'apikeys.revokeYes': '确认吊销',
  'apikeys.revokeNo': '取消',
  'apikeys.forbidden': '你的账号未开通 API。',
  'apikeys.history': '在历史记录中显示通过 API 的提问',
  'apikeys.historyHint': '默认只在你自己的应用里可见。',

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
  'chat.showEarlier': '显示更早的 {n} 条消息',
  'chat.shortcuts': 'Enter 发送 · Shift+Enter 换行 · Esc 停止 · Ctrl+Shift+O 新对话',
  'chat.jumpLatest': '回到最新',

  'reasoning.live': '思考中…',
  'reasoning.done': '已深度思考（用时 {n} 秒）',
  'reasoning.doneNoTime': '已深度思考',
  'reasoning.export': '思考过程',

  'attach.add': '添加图片或文件',
  'attach.list': '待发送的附件',
  'attach.remove': '移除 {name}',
  'attach.uploading': '正在上传 {n}%',
  'attach.failed': '上传失败',
  'attach.failedNamed': '{name} 上传失败：{reason}',
  'attach.waitUploads': '附件上传完成后才能发送',
  'attach.limit': '每个问题最多附带 4 张图片和 4 个文件，多出的没有添加。',
  'attach.noVision': '当前模型不能识别图片，请换一个支持图片的模型',
  'attach.drop': '松开即可添加附件',
  'attach.placeholder': '针对附件提个问题…',
  'attach.open': '在新标签页打开原图：{name}',
  'attach.download': '下载 {name}',

  'md.copyCode': '复制代码',
  'md.copied': '已复制',

  'msg.copy': '复制',
  'msg.copied': '已复制',
  'msg.regenerate': '重新生成',
  'msg.edit': '编辑',
  'msg.editSave': '保存并发送',
  'msg.editCancel': '取消',
  'msg.editLabel': '编辑问题',
  'msg.prevBranch': '上一个版本',
  'msg.nextBranch': '下一个版本',
  'msg.branch': '第 {n} 个版本，共 {total} 个',

  'side.title': '历史对话',
  'side.search': '搜索对话',
  'side.searchPlaceholder': '搜索…',
  'side.empty': '还没有对话',
  'side.noResults': '没有找到匹配的对话',
  'side.loadMore': '加载更多',
  'side.loading': '正在加载…',
  'side.pin': '置顶',
  'side.unpin': '取消置顶',
  'side.pinned': '已置顶',
  'side.apiKey': '通过 API 密钥“{name}”提问',
  'side.rename': '重命名',
  'side.renameLabel': '对话标题',
  'side.delete': '删除',
  'side.deleteConfirm': '删除对话「{title}」？删除后无法恢复。',
  'side.untitled': '新对话',
  'side.open': '打开历史对话',
  'side.close': '关闭历史对话',
  'side.actions': '更多操作',
  'side.groupPinned': '置顶',
  'side.groupToday': '今天',
  'side.groupYesterday': '昨天',
  'side.groupWeek': '7 天内',
  'side.groupMonth': '30 天内',
  'side.groupEarlier': '更早',

  'conv.loading': '正在加载对话…',
  'conv.notFound': '找不到这个对话，可能已被删除。',
  'conv.export': '导出',
  'conv.exportMd': '导出为 Markdown',
  'conv.exportJson': '导出为 JSON',

  'settings.title': '设置',
  'settings.theme': '主题',
  'settings.language': '语言',
  'theme.light': '浅色',
  'theme.dark': '深色',
  'theme.system': '跟随系统',
  'theme.sepia': '护眼',

  'picker.model': '模型',
  'picker.cost': '{n} 次/问',
  'picker.role': '角色',
  'picker.noRole': '默认助手',
  'picker.systemPrompt': '自定义系统提示词',
  'picker.systemPromptHint': '只对新对话生效，例如：你是一位严谨的翻译。',
  'presets.title': '试试这些问题',
  'picker.vision': '识图',
  'picker.reasoning': '推理',

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
  'error.upstream_malformed': '模型服务返回了无法读取的数据，本次回答已退还次数。',
  'error.card_invalid': '卡密无效，请检查是否输入正确。',
  'error.card_used': '这张充值卡已经被使用过了，不能重复兑换。',
  'error.card_revoked': '这张充值卡已被作废，请联系卖家。',
  'error.card_expired': '这张充值卡已过兑换期限，请联系卖家。',
  'error.too_many_attempts': '兑换失败次数太多，请 15 分钟后再试。',
  'error.too_many_attempts.wechat': '登录码错误次数太多，请稍后再试。',
  'error.login_expired': '登录码不正确或已失效，请在公众号重新获取。',
  'error.wechat_unavailable': '微信登录暂时不可用，请稍后再试。',
  'error.unknown': '出错了，请稍后再试。',
  'error.too_large': '内容或文件太大，请缩短或换一个小一点的文件。',
  'error.pay_unavailable': '这个支付方式暂时不可用，请换一种方式或稍后再试。',
  'error.too_many_requests.pay': '未支付的订单太多，请先完成支付，或等它们过期后再下单。',
  'error.unsupported_type': '不支持这种文件，请上传图片（PNG/JPEG/WebP/GIF）、PDF 或文本文件。',
  'error.server_error': '服务器出错了，请稍后再试。',
  'error.interrupted': '回答被中断，次数已退还。',
  'error.storage_full': '服务器磁盘已满，本次操作没有生效，请稍后再试。',
  'error.database_unavailable': '服务器暂时连不上数据库，本次操作没有生效，请稍后再试。',
  'error.invalid_params.send': '无法发送，请检查内容后重试。',
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

export type Lang = 'zh-CN' | 'en';
export const LANGS: { id: Lang; label: string }[] = [
  { id: 'zh-CN', label: '简体中文' },
  { id: 'en', label: 'English' },
];
const LANG_KEY = 'chatd.lang';

export function currentLang(): Lang {
  return locale === 'en' ? 'en' : 'zh-CN';
}

/** The browser's own preference: any Chinese variant first → Chinese, otherwise English. */
export function browserLang(): Lang {
  const first = navigator.languages?.[0] ?? navigator.language ?? '';
  return /^zh\b/i.test(first) ? 'zh-CN' : 'en';
}

/** The language chosen in this browser, or on a first visit the browser's preference. */
export function savedLang(): Lang {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(LANG_KEY);
  } catch {
    // private mode: nothing stored
  }
  return stored === 'en' || stored === 'zh-CN' ? stored : browserLang();
}

/**
 * Switches the strings; English is a separate chunk loaded on first use. `remember` is false when
 * following the browser, so a later change of the browser's language is still followed.
 */
export async function switchLanguage(lang: Lang, remember = true): Promise<void> {
  if (lang === 'en') {
    const { en } = await import('./locales/en');
    setMessages(en, 'en');
  } else {
    setMessages(zhCN, 'zh-CN');
  }
  if (!remember) return;
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch {
    // private mode: the choice lasts for this page only
  }
}

/** A Unix-seconds time as a local date. */
export function formatDate(seconds: number): string {
  return new Date(seconds * 1000).toLocaleDateString(locale);
}

/** A Unix-seconds time as a local date and time (minutes). */
export function formatDateTime(seconds: number): string {
  return new Date(seconds * 1000).toLocaleString(locale, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** The string for a key built at run time (`reason.card`…), or `fallback` when there is none. */
export function tDynamic(key: string, fallback: string): string {
  return key in messages ? messages[key as MessageKey] : fallback;
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
