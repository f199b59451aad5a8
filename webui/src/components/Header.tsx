import { formatDate, t } from '../i18n';
import type { Balance } from '../types';

interface Props {
  siteName: string;
  balance: Balance;
  onNewChat: () => void;
  onLogout: () => void;
}

export function Header({ siteName, balance, onNewChat, onLogout }: Props) {
  return (
    <header class="header">
      <h1 class="site-name" data-testid="site-name">{siteName}</h1>
      <BalanceBadge balance={balance} />
      <div class="header-actions">
        <button type="button" class="btn" onClick={onNewChat} data-testid="new-chat">
          {t('header.newChat')}
        </button>
        <button type="button" class="btn btn-quiet" onClick={onLogout} data-testid="logout">
          {t('header.logout')}
        </button>
      </div>
    </header>
  );
}

function BalanceBadge({ balance }: { balance: Balance }) {
  const expires =
    balance.paid > 0 && balance.paid_expires_at !== null
      ? t('balance.expires', { date: formatDate(balance.paid_expires_at) })
      : undefined;
  const summary = t('balance.summary', { trial: balance.trial, paid: balance.paid });
  return (
    <p
      class="balance"
      title={expires ? `${summary}\n${expires}` : summary}
      data-testid="balance"
      data-trial={balance.trial}
      data-paid={balance.paid}
    >
      <span class="sr-only">{t('balance.label')}: </span>
      <span>{t('balance.trial', { n: balance.trial })}</span>
      <span aria-hidden="true"> · </span>
      <span>{t('balance.paid', { n: balance.paid })}</span>
      {expires && <span class="sr-only">, {expires}</span>}
    </p>
  );
}
