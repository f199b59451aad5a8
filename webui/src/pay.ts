// What the buy dialog and "my orders" share: money, channel names, and whether this screen is a
// phone's (a phone cannot scan a QR code shown on itself, so it needs another way to pay).

import { useEffect, useState } from 'preact/hooks';
import { t } from './i18n';
import type { PayChannel } from './types';

/** Cents as the price a buyer reads: ¥19.90. */
export function yuan(cents: number): string {
  return `¥${(cents / 100).toFixed(2)}`;
}

/** The app that pays: epay's types are the same wallets as the official channels. */
export function walletOf(channel: PayChannel): 'wechat' | 'alipay' {
  return channel === 'wechat' || channel === 'epay_wxpay' ? 'wechat' : 'alipay';
}

/** The channel's name; when two channels reach the same wallet, the aggregator's is marked. */
export function channelLabel(channel: PayChannel, offered: PayChannel[] = []): string {
  const name = t(walletOf(channel) === 'wechat' ? 'pay.channel.wechat' : 'pay.channel.alipay');
  const twin = offered.some((c) => c !== channel && walletOf(c) === walletOf(channel));
  return twin && channel.startsWith('epay_') ? t('pay.viaEpay', { name }) : name;
}

const NARROW = '(max-width: 600px)';

function phoneNow(): boolean {
  return /Android|iPhone|iPad|iPod|Mobile|HarmonyOS/i.test(navigator.userAgent) || matchMedia(NARROW).matches;
}

/** True on a phone (touch UA or a narrow window); follows the window as it is resized. */
export function usePhone(): boolean {
  const [phone, setPhone] = useState(phoneNow);
  useEffect(() => {
    const query = matchMedia(NARROW);
    const update = () => setPhone(phoneNow());
    query.addEventListener('change', update);
    return () => query.removeEventListener('change', update);
  }, []);
  return phone;
}
