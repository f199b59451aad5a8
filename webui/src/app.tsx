// Top level: the operator's console under /admin (a lazy chunk), otherwise the login screen or the
// chat, decided from the session (me.get).

import type { ComponentType } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, RpcError } from './api';
import { ChatScreen } from './components/ChatScreen';
import { LoginScreen } from './components/LoginScreen';
import { reasonText, switchLanguage, t, type Lang } from './i18n';
import { SiteContext } from './site';
import { applyTheme, isTheme, type Theme } from './theme';
import type { Balance, Me, SiteInfo } from './types';

type Screen =
  | { kind: 'loading' }
  | { kind: 'offline'; message: string }
  | { kind: 'login' }
  | { kind: 'chat'; me: Me };

export function App() {
  return /^\/admin(\/|$)/.test(location.pathname) ? <AdminLoader /> : <VisitorApp />;
}

/** Fetches the console (and its strings) only when an admin address is opened. */
function AdminLoader() {
  const [Console, setConsole] = useState<ComponentType | null>(null);
  const [failed, setFailed] = useState(false);
  const load = useCallback(() => {
    setFailed(false);
    import('./admin/AdminApp')
      .then(async (m) => {
        await m.prepareAdmin();
        setConsole(() => m.AdminApp);
      })
      .catch(() => setFailed(true));
  }, []);
  useEffect(load, [load]);

  if (Console) return <Console />;
  if (!failed) return <div class="splash" aria-busy="true">{t('app.loading')}</div>;
  return (
    <div class="splash" role="alert">
      <p>{reasonText('network')}</p>
      <button type="button" class="btn" onClick={load}>{t('app.retry')}</button>
    </div>
  );
}

function VisitorApp() {
  const [site, setSite] = useState<SiteInfo | null>(null);
  const [screen, setScreen] = useState<Screen>({ kind: 'loading' });
  const [, setLang] = useState<Lang | null>(null);

  const loadMe = useCallback(async () => {
    try {
      const me = await api.me();
      if (isTheme(me.theme)) applyTheme(me.theme);
      setScreen({ kind: 'chat', me });
    } catch (err) {
      const reason = err instanceof RpcError ? err.reason : 'network';
      if (reason === 'unauthorized') setScreen({ kind: 'login' });
      else setScreen({ kind: 'offline', message: reasonText(reason) });
    }
  }, []);

  useEffect(() => {
    api.siteInfo().then(setSite, () => {});
    void loadMe();
  }, [loadMe]);

  const siteName = site?.name || t('app.defaultName');
  useEffect(() => {
    document.title = siteName;
  }, [siteName]);

  // The tab's icon is the operator's logo when there is one.
  const logo = site?.logo_url ?? '';
  useEffect(() => {
    if (!logo) return;
    const icon = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
    if (!icon) return;
    icon.removeAttribute('type');
    icon.href = logo;
  }, [logo]);

  // Without a choice of the user's own, the operator's default theme.
  useEffect(() => {
    if (!site || !isTheme(site.default_theme)) return;
    if (screen.kind !== 'chat' || isTheme(screen.me.theme)) return;
    applyTheme(site.default_theme);
  }, [site, screen.kind]);

  const changeTheme = useCallback((theme: Theme) => {
    applyTheme(theme);
    setScreen((s) => (s.kind === 'chat' ? { kind: 'chat', me: { ...s.me, theme } } : s));
    api.updateMe({ theme }).catch(() => {});
  }, []);

  const changeLanguage = useCallback(async (lang: Lang) => {
    await switchLanguage(lang);
    setLang(lang);
  }, []);

  const toLogin = useCallback(() => setScreen({ kind: 'login' }), []);
  const setBalance = useCallback(
    (balance: Balance) =>
      setScreen((s) => (s.kind === 'chat' ? { kind: 'chat', me: { ...s.me, balance } } : s)),
    [],
  );
  const logout = useCallback(async () => {
    try {
      await api.logout();
    } catch {
      // The session is gone either way as far as this page is concerned.
    }
    setScreen({ kind: 'login' });
  }, []);

  return <SiteContext.Provider value={site}>{screenView()}</SiteContext.Provider>;

  function screenView() {
    switch (screen.kind) {
      case 'loading':
        return <div class="splash" aria-busy="true">{t('app.loading')}</div>;
      case 'offline':
        return (
          <div class="splash" role="alert">
            <p>{screen.message}</p>
            <button type="button" class="btn" onClick={() => { setScreen({ kind: 'loading' }); void loadMe(); }}>
              {t('app.retry')}
            </button>
          </div>
        );
      case 'login':
        return <LoginScreen site={site} siteName={siteName} onLoggedIn={loadMe} onLanguage={changeLanguage} />;
      case 'chat':
        return (
          <ChatScreen
            site={site}
            siteName={siteName}
            me={screen.me}
            onBalance={setBalance}
            onUnauthorized={toLogin}
            onLogout={logout}
            onTheme={changeTheme}
            onLanguage={changeLanguage}
          />
        );
    }
  }
}
