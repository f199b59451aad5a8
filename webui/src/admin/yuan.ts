// Money of online payments (CONTRACT.md §11). The daemon counts whole fen, so no amount is ever a
// float on its way to a channel; operators type and read yuan. The channels all take yuan, so this
// is always ¥, whatever the setting billing.currency says about the price of a question.

import { currentLang } from '../i18n';

/** The largest price the form takes: well above any plan, far below where fen lose precision. */
const MAX_YUAN_DIGITS = 7;

/** "9.9", "9.90", "¥12" → fen; null for anything else (a third decimal, a sign, letters, zero). */
export function parseYuan(text: string): number | null {
  const m = new RegExp(`^[¥￥]?\\s*(\\d{1,${MAX_YUAN_DIGITS}})(?:\\.(\\d{1,2}))?$`).exec(text.trim());
  if (!m) return null;
  const cents = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return cents > 0 ? cents : null;
}

/** Fen as a form field shows it: "9.90". */
export function yuanField(cents: number): string {
  return (cents / 100).toFixed(2);
}

/** Fen as a price: "¥9.90" (narrowSymbol, so English does not read "CN¥"). */
export function formatYuan(cents: number): string {
  return new Intl.NumberFormat(currentLang(), {
    style: 'currency',
    currency: 'CNY',
    currencyDisplay: 'narrowSymbol',
  }).format(cents / 100);
}

/** For chart axes, where ~50 px must hold a label: ¥1.2K / ¥1.2万 from a thousand yuan up. */
export function formatYuanShort(cents: number): string {
  if (Math.abs(cents) < 100_000) return formatYuan(cents);
  return new Intl.NumberFormat(currentLang(), {
    style: 'currency',
    currency: 'CNY',
    currencyDisplay: 'narrowSymbol',
    notation: 'compact',
    maximumFractionDigits: 1,
  }).format(cents / 100);
}
