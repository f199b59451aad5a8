// Words for the payment ids the daemon sends (channels, order statuses, what happened to a
// notification), shared by the orders list, the order drawer and the plans page. Ids this console
// does not know yet are shown as they are rather than hidden.

import { atDynamic } from './i18n';
import { Badge } from './ui';

export const channelName = (channel: string) => atDynamic(`channel.${channel}`, channel);

export function OrderBadge({ status, testid = 'order-status' }: { status: string; testid?: string }) {
  return <Badge kind={status} testid={testid}>{atDynamic(`order.${status}`, status)}</Badge>;
}

/** `refused: unknown order` → the key `verdict.refused.unknown_order`; `failed: provider` likewise. */
export function verdictText(verdict: string): string {
  return atDynamic(`verdict.${verdict.replace(/^(refused|failed): /, '$1.').replace(/ /g, '_')}`, verdict);
}

/** A badge colour: credited green, closed grey, any refusal red, the rest neutral. */
export function verdictTone(verdict: string): string {
  if (verdict === 'accepted') return 'paid';
  if (verdict === 'closed') return 'closed';
  return verdict.startsWith('refused') ? 'refused' : 'neutral';
}
