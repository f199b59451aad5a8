// The account behind the avatar: who is signed in and what is left, usage, top-up, buying,
// invites, API keys, theme, language, the console for admins, logging out.

import { currentLang, LANGS, t, type Lang } from '../../i18n';
import { currentTheme, THEMES, type Theme } from '../../theme';
import type { Me } from '../../types';
import { CartIcon, GiftIcon, GlobeIcon, KeyIcon, LogoutIcon, ShieldIcon, SunIcon, TicketIcon, UsageIcon } from './Icons';
import { Menu, MenuItem } from './Menu';

interface Props {
  me: Me;
  onUsage: () => void;
  onRedeem: () => void;
  /** Only when plans can be bought online. */
  onBuy?: () => void;
  /** Only when invites earn something. */
  onInvite?: () => void;
  /** Only when the site offers its API to users' own clients. */
  onApiKeys?: () => void;
  onTheme: (theme: Theme) => void;
  onLanguage: (lang: Lang) => void;
  onLogout: () => void;
}

/** The first letter of a name (a whole character, also for Chinese or an emoji). */
export function initialOf(name: string): string {
  return (Array.from(name.trim())[0] ?? '?').toUpperCase();
}

/** One line saying what is left, or that an admin's questions are free. */
export function balanceLine(me: Me): string {
  return me.is_admin ? t('balance.admin') : t('balance.summary', { trial: me.balance.trial, paid: me.balance.paid });
}

export function AccountMenu({ me, onUsage, onRedeem, onBuy, onInvite, onApiKeys, onTheme, onLanguage, onLogout }: Props) {
  const theme = currentTheme();
  const lang = currentLang();
  const label = t('account.menu', { name: me.name });
  return (
    <Menu
      label={label}
      class="account-menu"
      panelClass="account-pop"
      testid="account-menu-panel"
      trigger={(props) => (
        <button
          {...props}
          type="button"
          class="avatar-btn"
          aria-label={label}
          title={`${me.name}\n${balanceLine(me)}`}
          data-testid="account-menu"
        >
          <span class="avatar" aria-hidden="true">{initialOf(me.name)}</span>
        </button>
      )}
    >
      <div class="menu-head" role="none">
        <span class="avatar avatar-large" aria-hidden="true">{initialOf(me.name)}</span>
        <span class="menu-head-text">
          <strong>{me.name}</strong>
          <span class="hint" data-testid="account-summary">{balanceLine(me)}</span>
        </span>
      </div>
      <MenuItem icon={<UsageIcon />} onSelect={onUsage} testid="side-usage">{t('side.usage')}</MenuItem>
      <MenuItem icon={<TicketIcon />} onSelect={onRedeem} testid="redeem-open">{t('header.redeem')}</MenuItem>
      {onBuy && <MenuItem icon={<CartIcon />} onSelect={onBuy} testid="buy-open">{t('header.buy')}</MenuItem>}
      {onInvite && <MenuItem icon={<GiftIcon />} onSelect={onInvite} testid="side-invite">{t('side.invite')}</MenuItem>}
      {onApiKeys && <MenuItem icon={<KeyIcon />} onSelect={onApiKeys} testid="apikeys-open">{t('side.apiKeys')}</MenuItem>}
      <div class="menu-sep" role="separator" />
      <div class="menu-choices" role="group" aria-label={t('settings.theme')} data-testid="theme-select" data-value={theme}>
        <span class="menu-choices-label" aria-hidden="true"><SunIcon />{t('settings.theme')}</span>
        <span class="menu-choices-row">
          {THEMES.map((th) => (
            <MenuItem key={th} class="chip" checked={th === theme} value={th} onSelect={() => onTheme(th)}>
              {t(`theme.${th}`)}
            </MenuItem>
          ))}
        </span>
      </div>
      <div class="menu-choices" role="group" aria-label={t('settings.language')} data-testid="language-select" data-value={lang}>
        <span class="menu-choices-label" aria-hidden="true"><GlobeIcon />{t('settings.language')}</span>
        <span class="menu-choices-row">
          {LANGS.map((l) => (
            <MenuItem key={l.id} class="chip" checked={l.id === lang} value={l.id} onSelect={() => onLanguage(l.id)}>
              {l.label}
            </MenuItem>
          ))}
        </span>
      </div>
      <div class="menu-sep" role="separator" />
      {me.is_admin && <MenuItem icon={<ShieldIcon />} href="/admin" testid="admin-link">{t('header.admin')}</MenuItem>}
      <MenuItem icon={<LogoutIcon />} onSelect={onLogout} testid="logout">{t('header.logout')}</MenuItem>
    </Menu>
  );
}
