import { useState } from 'preact/hooks';
import { api, RpcError } from '../api';
import { reasonText, t } from '../i18n';
import { clearInvite, savedInvite } from '../invite';
import type { SiteInfo } from '../types';
import { WechatLogin } from './WechatLogin';

interface Props {
  site: SiteInfo | null;
  siteName: string;
  onLoggedIn: () => void;
}

type Tab = 'wechat' | 'password';
const TABS: Tab[] = ['wechat', 'password'];
const TAB_LABEL = { wechat: 'login.tabWechat', password: 'login.tabPassword' } as const;

/** WeChat, when the site offers it, comes first; password-only sites show the form alone. */
export function LoginScreen({ site, siteName, onLoggedIn }: Props) {
  const wechatEnabled = !!site?.login_methods.some((m) => m === 'wechat_qr' || m === 'wechat_code');
  const passwordEnabled = !site || site.login_methods.includes('password');
  const [chosenTab, setChosenTab] = useState<Tab | null>(null);
  const tab = chosenTab ?? (wechatEnabled ? 'wechat' : 'password');

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
          {tab === 'wechat' ? <WechatLogin onLoggedIn={onLoggedIn} /> : <PasswordForm onLoggedIn={onLoggedIn} />}
        </div>
      </>
    );
  } else if (wechatEnabled) {
    body = <WechatLogin onLoggedIn={onLoggedIn} />;
  } else if (passwordEnabled) {
    body = <PasswordForm onLoggedIn={onLoggedIn} />;
  } else {
    body = <p class="hint">{t('login.passwordDisabled')}</p>;
  }

  return (
    <main class="login">
      <div class="login-card">
        <h1 class="login-site">{siteName}</h1>
        {site?.announcement && <p class="announcement">{site.announcement}</p>}
        {body}
      </div>
    </main>
  );
}

function PasswordForm({ onLoggedIn }: { onLoggedIn: () => void }) {
  const invite = savedInvite();
  const [mode, setMode] = useState<'login' | 'register'>(invite ? 'register' : 'login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const registering = mode === 'register';

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    const name = username.trim();
    if (!name || !password) {
      setError(t('login.missingFields'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (registering) {
        await api.register(name, password, invite);
        clearInvite();
      } else {
        await api.login(name, password);
      }
      onLoggedIn();
    } catch (err) {
      setError(
        err instanceof RpcError ? reasonText(err.reason, err.message) : reasonText('network'),
      );
      setBusy(false);
    }
  };

  const switchMode = () => {
    setMode(registering ? 'login' : 'register');
    setError(null);
  };

  return (
    <form class="login-form" onSubmit={submit} noValidate data-testid="login-form">
      <h2>{registering ? t('login.registerTitle') : t('login.title')}</h2>
      {registering && invite && <p class="hint">{t('login.inviteNotice')}</p>}
      <label class="field">
        <span>{t('login.username')}</span>
        <input
          name="username"
          autocomplete="username"
          autocapitalize="off"
          spellcheck={false}
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
          data-testid="login-username"
        />
      </label>
      <label class="field">
        <span>{t('login.password')}</span>
        <input
          name="password"
          type="password"
          autocomplete={registering ? 'new-password' : 'current-password'}
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          data-testid="login-password"
        />
      </label>
      {error && (
        <p class="form-error" role="alert" data-testid="login-error">
          {error}
        </p>
      )}
      <button type="submit" class="btn btn-primary btn-block" disabled={busy} data-testid="login-submit">
        {busy ? t('login.busy') : registering ? t('login.registerSubmit') : t('login.submit')}
      </button>
      <button type="button" class="btn-link" onClick={switchMode} data-testid="login-switch-mode">
        {registering ? t('login.toLogin') : t('login.toRegister')}
      </button>
    </form>
  );
}
