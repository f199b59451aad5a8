// The welcome: the site's logo, name, tagline and free questions above the ways to log in, with a
// language switch in the corner.

import { useState } from 'preact/hooks';
import { currentLang, t, type Lang } from '../i18n';
import { invitesOn } from '../site';
import type { SiteInfo } from '../types';
import { PasswordForm } from './PasswordForm';
import { WechatLogin } from './WechatLogin';

interface Props {
  site: SiteInfo | null;
  siteName: string;
  onLoggedIn: () => void;
  onLanguage?: (lang: Lang) => void;
}

type Tab = 'wechat' | 'password';
const TABS: Tab[] = ['wechat', 'password'];
const TAB_LABEL = { wechat: 'login.tabWechat', password: 'login.tabPassword' } as const;

/** WeChat, when the site offers it, comes first; password-only sites show the form alone. */
export function LoginScreen({ site, siteName, onLoggedIn, onLanguage }: Props) {
  const wechatEnabled = !!site?.login_methods.some((m) => m === 'wechat_qr' || m === 'wechat_code');
  const passwordEnabled = !site || site.login_methods.includes('password');
  const [chosenTab, setChosenTab] = useState<Tab | null>(null);
  const tab = chosenTab ?? (wechatEnabled ? 'wechat' : 'password');
  const invites = invitesOn(site);

  const onTabKey = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const next = tab === 'wechat' ? 'password' : 'wechat';
    setChosenTab(next);
    requestAnimationFrame(() => document.getElementById(`login-tab-${next}`)?.focus());
  };

  let body;
  if (wechatEnabled && passwordEnabled) {
    body = (
      <>
        <div class="tabs login-tabs" role="tablist" aria-label={t('login.methods')} onKeyDown={onTabKey}>
          {TABS.map((id) => (
            <button
              key={id}
              type="button"
              role="tab"
              id={`login-tab-${id}`}
              class="tab"
              aria-selected={tab === id}
              aria-controls="login-panel"
              tabIndex={tab === id ? 0 : -1}
              onClick={() => setChosenTab(id)}
              data-testid={`login-tab-${id}`}
            >
              {t(TAB_LABEL[id])}
            </button>
          ))}
        </div>
        <div role="tabpanel" id="login-panel" aria-labelledby={`login-tab-${tab}`}>
          {tab === 'wechat' ? <WechatLogin onLoggedIn={onLoggedIn} /> : <PasswordForm invites={invites} onLoggedIn={onLoggedIn} />}
        </div>
      </>
    );
  } else if (wechatEnabled) {
    body = <WechatLogin onLoggedIn={onLoggedIn} />;
  } else if (passwordEnabled) {
    body = <PasswordForm invites={invites} onLoggedIn={onLoggedIn} />;
  } else {
    body = <p class="hint">{t('login.passwordDisabled')}</p>;
  }

  return (
    <main class="login">
      {onLanguage && <LanguageSwitch onLanguage={onLanguage} />}
      <div class="login-card">
        <Welcome site={site} siteName={siteName} />
        {site?.announcement && <p class="announcement login-announcement">{site.announcement}</p>}
        {body}
      </div>
    </main>
  );
}

function Welcome({ site, siteName }: { site: SiteInfo | null; siteName: string }) {
  const trial = site?.trial_questions ?? 0;
  // Until site.info answers the space is kept but empty: no flash of the default name and mark.
  return (
    <div class="login-welcome" data-ready={String(site !== null)}>
      {/* The name sits beside it, so the picture itself says nothing more. */}
      <img
        class={site?.logo_url ? 'login-logo' : 'login-logo login-logo-default'}
        src={site?.logo_url || '/favicon.svg'}
        alt=""
        width={56}
        height={56}
        data-testid={site?.logo_url ? 'login-logo' : 'login-logo-default'}
      />
      <h1 class="login-site" data-testid="login-site">{siteName}</h1>
      {site?.tagline && <p class="login-tagline" data-testid="login-tagline">{site.tagline}</p>}
      {trial > 0 && (
        <p class="login-trial" data-testid="login-trial" data-n={trial}>
          {trial === 1 ? t('login.trialOne') : t('login.trial', { n: trial })}
        </p>
      )}
    </div>
  );
}

const LANG_CHOICES: { id: Lang; label: string }[] = [
  { id: 'zh-CN', label: '中文' },
  { id: 'en', label: 'English' },
];

/** Each language named in itself, so a visitor who cannot read the current one still finds theirs. */
function LanguageSwitch({ onLanguage }: { onLanguage: (lang: Lang) => void }) {
  const lang = currentLang();
  return (
    <div class="login-lang" role="group" aria-label={t('login.language')} data-testid="login-lang">
      {LANG_CHOICES.map((choice) => (
        <button
          key={choice.id}
          type="button"
          class="login-lang-option"
          lang={choice.id}
          aria-pressed={lang === choice.id}
          onClick={() => lang !== choice.id && onLanguage(choice.id)}
          data-testid={`login-lang-${choice.id}`}
        >
          {choice.label}
        </button>
      ))}
    </div>
  );
}
