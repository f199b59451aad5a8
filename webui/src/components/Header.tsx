import { currentLang, formatDate, LANGS, t, type Lang } from '../i18n';
import { currentTheme, THEMES, type Theme } from '../theme';
import type { Balance } from '../types';

interface Props {
  siteName: string;
  balance: Balance;
  canExport: boolean;
  onNewChat: () => void;
  onLogout: () => void;
  onToggleSidebar: () => void;
  onTheme: (theme: Theme) => void;
  onLanguage: (lang: Lang) => void;
  onExport: (kind: 'md' | 'json') => void;
  onRedeem: () => void;
  /** Only when plans can be bought online. */
  onBuy?: () => void;
  onUsage: () => void;
  isAdmin: boolean;
}

export function Header(props: Props) {
  const { siteName, balance, canExport } = props;
  const closeMenu = (e: Event) => (e.currentTarget as HTMLElement).closest('details')?.removeAttribute('open');
  return (
    <header class="header">
      <button
        type="button"
        class="icon-btn menu-btn"
        aria-label={t('side.open')}
        onClick={props.onToggleSidebar}
        data-testid="sidebar-toggle"
      >
        ☰
      </button>
      <h1 class="site-name" data-testid="site-name">{siteName}</h1>
      <BalanceBadge balance={balance} onClick={props.onUsage} />
      <div class="header-actions">
        {props.onBuy && (
          <button type="button" class="btn btn-primary" onClick={props.onBuy} data-testid="buy-open">
            {t('header.buy')}
          </button>
        )}
        <button type="button" class="btn btn-accent" onClick={props.onRedeem} data-testid="redeem-open">
          {t('header.redeem')}
        </button>
        <button type="button" class="btn" onClick={props.onNewChat} data-testid="new-chat">
          {t('header.newChat')}
        </button>
        {canExport && (
          <details class="menu">
            <summary class="btn" data-testid="export-menu">{t('conv.export')}</summary>
            <div class="menu-panel">
              <button type="button" class="menu-item" onClick={(e) => { closeMenu(e); props.onExport('md'); }} data-testid="export-md">
                {t('conv.exportMd')}
              </button>
              <button type="button" class="menu-item" onClick={(e) => { closeMenu(e); props.onExport('json'); }} data-testid="export-json">
                {t('conv.exportJson')}
              </button>
            </div>
          </details>
        )}
        <details class="menu">
          <summary class="btn btn-quiet" aria-label={t('settings.title')} title={t('settings.title')} data-testid="settings">
            ⚙
          </summary>
          <div class="menu-panel">
            <label class="menu-field">
              <span>{t('settings.theme')}</span>
              <select
                value={currentTheme()}
                onChange={(e) => props.onTheme(e.currentTarget.value as Theme)}
                data-testid="theme-select"
              >
                {THEMES.map((th) => (
                  <option key={th} value={th}>{t(`theme.${th}`)}</option>
                ))}
              </select>
            </label>
            <label class="menu-field">
              <span>{t('settings.language')}</span>
              <select
                value={currentLang()}
                onChange={(e) => props.onLanguage(e.currentTarget.value as Lang)}
                data-testid="language-select"
              >
                {LANGS.map((l) => (
                  <option key={l.id} value={l.id}>{l.label}</option>
                ))}
              </select>
            </label>
            {props.isAdmin && (
              <a class="menu-item" href="/admin" data-testid="admin-link">{t('header.admin')}</a>
            )}
          </div>
        </details>
        <button type="button" class="btn btn-quiet" onClick={props.onLogout} data-testid="logout">
          {t('header.logout')}
        </button>
      </div>
    </header>
  );
}

function BalanceBadge({ balance, onClick }: { balance: Balance; onClick: () => void }) {
  const expires =
    balance.paid > 0 && balance.paid_expires_at !== null
      ? t('balance.expires', { date: formatDate(balance.paid_expires_at) })
      : undefined;
  const summary = t('balance.summary', { trial: balance.trial, paid: balance.paid });
  return (
    <button
      type="button"
      class="balance"
      title={`${expires ? `${summary}\n${expires}` : summary}\n${t('header.usage')}`}
      onClick={onClick}
      data-testid="balance"
      data-trial={balance.trial}
      data-paid={balance.paid}
    >
      <span class="sr-only">{t('balance.label')}: </span>
      <span>{t('balance.trial', { n: balance.trial })}</span>
      <span aria-hidden="true"> · </span>
      <span>{t('balance.paid', { n: balance.paid })}</span>
      {expires && balance.paid_expires_at !== null && (
        <span class="balance-expiry"> ({formatDate(balance.paid_expires_at)})</span>
      )}
      {expires && <span class="sr-only">, {expires}</span>}
    </button>
  );
}
