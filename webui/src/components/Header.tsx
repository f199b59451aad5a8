// The top bar: the history drawer's button (phones), the site, what is left, the conversation's
// export menu, one "new chat" button and the account menu.

import { formatDate, t, type Lang } from '../i18n';
import type { Theme } from '../theme';
import type { Me } from '../types';
import { AccountMenu } from './chat-ui/AccountMenu';
import { DownloadIcon, MenuIcon, NewChatIcon } from './chat-ui/Icons';
import { Menu, MenuItem } from './chat-ui/Menu';
import { IconButton } from './chat-ui/IconButton';

interface Props {
  siteName: string;
  /** The operator's logo ("" for none). */
  logoUrl: string;
  me: Me;
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
  /** Only when invites earn something. */
  onInvite?: () => void;
  /** Only when the site offers its API. */
  onApiKeys?: () => void;
  onUsage: () => void;
}

export function Header(props: Props) {
  const { siteName, logoUrl, me } = props;
  return (
    <header class="header">
      <IconButton class="icon-btn header-btn menu-btn" label={t('side.open')} onClick={props.onToggleSidebar} testid="sidebar-toggle">
        <MenuIcon size={20} />
      </IconButton>
      <div class="brand">
        {logoUrl && <img class="site-logo" src={logoUrl} alt="" />}
        <h1 class="site-name" data-testid="site-name">{siteName}</h1>
      </div>
      <div class="header-actions">
        <BalanceBadge me={me} onClick={props.onUsage} />
        {props.canExport && (
          <Menu
            label={t('conv.export')}
            testid="export-panel"
            trigger={(p) => (
              <button {...p} type="button" class="icon-btn header-btn" aria-label={t('conv.export')} title={t('conv.export')} data-testid="export-menu">
                <DownloadIcon />
              </button>
            )}
          >
            <MenuItem onSelect={() => props.onExport('md')} testid="export-md">{t('conv.exportMd')}</MenuItem>
            <MenuItem onSelect={() => props.onExport('json')} testid="export-json">{t('conv.exportJson')}</MenuItem>
          </Menu>
        )}
        <button
          type="button"
          class="icon-btn header-btn"
          aria-label={t('header.newChat')}
          title={`${t('header.newChat')} (Ctrl+Shift+O)`}
          onClick={props.onNewChat}
          data-testid="new-chat"
        >
          <NewChatIcon size={20} />
        </button>
        <AccountMenu
          me={me}
          onUsage={props.onUsage}
          onRedeem={props.onRedeem}
          onBuy={props.onBuy}
          onInvite={props.onInvite}
          onApiKeys={props.onApiKeys}
          onTheme={props.onTheme}
          onLanguage={props.onLanguage}
          onLogout={props.onLogout}
        />
      </div>
    </header>
  );
}

/** What is left, compact (a phone shows only the total); a click opens "my usage". */
function BalanceBadge({ me, onClick }: { me: Me; onClick: () => void }) {
  const { balance } = me;
  const expiry = balance.paid > 0 && balance.paid_expires_at !== null ? balance.paid_expires_at : null;
  const summary = me.is_admin ? t('balance.admin') : t('balance.summary', { trial: balance.trial, paid: balance.paid });
  const expires = expiry !== null ? t('balance.expires', { date: formatDate(expiry) }) : '';
  return (
    <button
      type="button"
      class="balance"
      title={[summary, expires, t('header.usage')].filter(Boolean).join('\n')}
      onClick={onClick}
      data-testid="balance"
      data-trial={balance.trial}
      data-paid={balance.paid}
      data-admin={me.is_admin ? 'true' : undefined}
    >
      <span class="balance-full">
        <span class="sr-only">{t('balance.label')}: </span>
        {me.is_admin ? (
          <span>{t('balance.admin')}</span>
        ) : (
          <>
            <span>{t('balance.trial', { n: balance.trial })}</span>
            <span aria-hidden="true"> · </span>
            <span>{t('balance.paid', { n: balance.paid })}</span>
            {expiry !== null && <span class="balance-expiry"> ({formatDate(expiry)})</span>}
          </>
        )}
        {expires && <span class="sr-only">, {expires}</span>}
      </span>
      <span class="balance-short" aria-hidden="true">
        {me.is_admin ? t('balance.adminShort') : t('balance.short', { n: balance.trial + balance.paid })}
      </span>
    </button>
  );
}
