// A question that was not accepted, above the composer. Out of credits, it offers the ways to get
// more that this site has: buying (with payment), a recharge card, where cards are sold, invites.

import { t } from '../../i18n';
import { CartIcon, CloseIcon, GiftIcon, ShopIcon, TicketIcon } from './Icons';
import { IconButton } from './IconButton';

interface Props {
  text: string;
  reason: string | null;
  onDismiss: () => void;
  onRedeem: () => void;
  /** Only when plans can be bought online. */
  onBuy?: () => void;
  /** Only when invites earn something. */
  onInvite?: () => void;
  /** Where recharge cards are sold ("" for nowhere). */
  shopUrl: string;
}

export function ChatError({ text, reason, onDismiss, onRedeem, onBuy, onInvite, shopUrl }: Props) {
  const credits = reason === 'insufficient_credits';
  return (
    <div class={credits ? 'chat-error chat-error-credits' : 'chat-error'} role="alert" data-testid="chat-error" data-reason={reason ?? undefined}>
      <div class="chat-error-body">
        <span>{text}</span>
        {credits && (
          <div class="credit-actions" data-testid="credit-actions">
            {onBuy && (
              <button type="button" class="btn btn-primary btn-small" onClick={onBuy} data-testid="credits-buy">
                <CartIcon size={16} />
                {t('credits.buy')}
              </button>
            )}
            <button type="button" class="btn btn-small" onClick={onRedeem} data-testid="credits-redeem">
              <TicketIcon size={16} />
              {t('credits.redeem')}
            </button>
            {onInvite && (
              <button type="button" class="btn btn-small" onClick={onInvite} data-testid="credits-invite">
                <GiftIcon size={16} />
                {t('side.invite')}
              </button>
            )}
            {shopUrl && (
              <a class="credit-shop" href={shopUrl} target="_blank" rel="noopener" data-testid="credits-shop">
                {t('credits.shop')}
                <ShopIcon size={14} />
              </a>
            )}
          </div>
        )}
      </div>
      <IconButton class="icon-btn" label={t('chat.dismiss')} onClick={onDismiss}>
        <CloseIcon size={16} />
      </IconButton>
    </div>
  );
}
