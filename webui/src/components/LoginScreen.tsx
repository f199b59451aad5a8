import { useState } from 'preact/hooks';
import { api, RpcError } from '../api';
import { reasonText, t } from '../i18n';
import { clearInvite, savedInvite } from '../invite';
import type { SiteInfo } from '../types';

interface Props {
  site: SiteInfo | null;
  siteName: string;
  onLoggedIn: () => void;
}

export function LoginScreen({ site, siteName, onLoggedIn }: Props) {
  const invite = savedInvite();
  const [mode, setMode] = useState<'login' | 'register'>(invite ? 'register' : 'login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const passwordEnabled = !site || site.login_methods.includes('password');
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
    <main class="login">
      <div class="login-card">
        <h1 class="login-site">{siteName}</h1>
        {site?.announcement && <p class="announcement">{site.announcement}</p>}
        {passwordEnabled ? (
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
        ) : (
          <p class="hint">{t('login.passwordDisabled')}</p>
        )}
      </div>
    </main>
  );
}
