// The operator's console at /admin: its own login form (admin accounts only), a left navigation
// (a drawer on phones) and one page per area. Loaded on demand, so visitors never download it.

import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, RpcError } from '../api';
import { currentLang, LANGS, reasonText, switchLanguage, t, type Lang } from '../i18n';
import { applyTheme, currentTheme, isTheme, THEMES, type Theme } from '../theme';
import type { Me, SiteInfo } from '../types';
import { at, loadAdminStrings } from './i18n';
import { AuditPage } from './pages/AuditPage';
import { CardsPage } from './pages/CardsPage';
import { Dashboard } from './pages/Dashboard';
import { KeysPage } from './pages/KeysPage';
import { LogsPage } from './pages/LogsPage';
import { OrdersPage } from './pages/OrdersPage';
import { PlansPage } from './pages/PlansPage';
import { SettingsPage } from './pages/SettingsPage';
import { UsersPage } from './pages/UsersPage';
import { pageHref, PAGES, useRoute, type PageId, type Route } from './router';
import { ErrorNote, Link, SessionLost } from './ui';
import './admin.css';

/** Fetches the console's strings for the current language; call before the first render. */
export const prepareAdmin = loadAdminStrings;

type State =
  | { kind: 'loading' }
  | { kind: 'offline'; message: string }
  | { kind: 'login' }
  | { kind: 'not_admin'; me: Me }
  | { kind: 'console'; me: Me };

export function AdminApp() {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const [site, setSite] = useState<SiteInfo | null>(null);
  const [, setLang] = useState<Lang>(currentLang());

  const check = useCallback(async () => {
    try {
      const me = await api.me();
      if (isTheme(me.theme)) applyTheme(me.theme);
      setState(me.is_admin ? { kind: 'console', me } : { kind: 'not_admin', me });
    } catch (err) {
      const reason = err instanceof RpcError ? err.reason : 'network';
      if (reason === 'unauthorized') setState({ kind: 'login' });
      else setState({ kind: 'offline', message: reasonText(reason) });
    }
  }, []);

  useEffect(() => {
    api.siteInfo().then(setSite, () => {});
    void check();
  }, [check]);

  const siteName = site?.name || t('app.defaultName');
  useEffect(() => {
    document.title = `${at('app.title')} · ${siteName}`;
  }, [siteName, currentLang()]);

  const logout = useCallback(async () => {
    try {
      await api.logout();
    } catch {
      // The session is gone either way as far as this page is concerned.
    }
    setState({ kind: 'login' });
  }, []);

  const changeLanguage = useCallback(async (lang: Lang) => {
    await switchLanguage(lang);
    await loadAdminStrings();
    setLang(lang);
  }, []);

  const changeTheme = useCallback((theme: Theme) => {
    applyTheme(theme);
    setState((s) => (s.kind === 'console' ? { ...s, me: { ...s.me, theme } } : s));
    api.updateMe({ theme }).catch(() => {});
  }, []);

  switch (state.kind) {
    case 'loading':
      return <div class="splash" aria-busy="true">{t('app.loading')}</div>;
    case 'offline':
      return (
        <div class="splash" role="alert">
          <p>{state.message}</p>
          <button type="button" class="btn" onClick={() => { setState({ kind: 'loading' }); void check(); }}>
            {t('app.retry')}
          </button>
        </div>
      );
    case 'login':
      return <AdminLogin siteName={siteName} onLoggedIn={check} />;
    case 'not_admin':
      return <NotAdmin siteName={siteName} me={state.me} onSwitch={logout} />;
    case 'console':
      return (
        <SessionLost.Provider value={() => void check()}>
          <Console
            siteName={siteName}
            site={site}
            me={state.me}
            onLogout={logout}
            onTheme={changeTheme}
            onLanguage={changeLanguage}
          />
        </SessionLost.Provider>
      );
  }
}

function AdminLogin({ siteName, onLoggedIn }: { siteName: string; onLoggedIn: () => Promise<void> }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<{ reason: string; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    if (!username.trim() || !password) {
      setError({ reason: 'missing', text: t('login.missingFields') });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { user } = await api.login(username.trim(), password);
      if (user.is_admin === false) {
        // A visitor's password opened a visitor session: close it again, this form is for admins.
        await api.logout().catch(() => {});
        setError({ reason: 'not_admin', text: at('login.notAdmin') });
        setBusy(false);
        return;
      }
      await onLoggedIn();
    } catch (err) {
      const reason = err instanceof RpcError ? err.reason : 'network';
      setError({ reason, text: reasonText(reason, err instanceof RpcError ? err.message : undefined) });
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <div class="login-card">
        <h1 class="login-site">{siteName}</h1>
        <form class="login-form" onSubmit={submit} noValidate data-testid="admin-login-form">
          <h2>{at('login.title')}</h2>
          <label class="field">
            <span>{t('login.username')}</span>
            <input
              name="username"
              autocomplete="username"
              autocapitalize="off"
              spellcheck={false}
              value={username}
              onInput={(e) => setUsername(e.currentTarget.value)}
              data-testid="admin-login-username"
            />
          </label>
          <label class="field">
            <span>{t('login.password')}</span>
            <input
              name="password"
              type="password"
              autocomplete="current-password"
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
              data-testid="admin-login-password"
            />
          </label>
          {error && (
            <p class="form-error" role="alert" data-testid="admin-login-error" data-reason={error.reason}>
              {error.text}
            </p>
          )}
          <button type="submit" class="btn btn-primary btn-block" disabled={busy} data-testid="admin-login-submit">
            {busy ? t('login.busy') : t('login.submit')}
          </button>
          <a class="btn-link center" href="/" data-testid="admin-back-to-chat">{at('nav.backToChat')}</a>
        </form>
      </div>
    </main>
  );
}

function NotAdmin({ siteName, me, onSwitch }: { siteName: string; me: Me; onSwitch: () => void }) {
  return (
    <main class="login">
      <div class="login-card stack" data-testid="admin-not-admin">
        <h1 class="login-site">{siteName}</h1>
        <ErrorNote text={at('login.notAdminSigned', { name: me.name })} />
        <button type="button" class="btn btn-primary btn-block" onClick={onSwitch} data-testid="admin-switch-account">
          {at('login.switchAccount')}
        </button>
        <a class="btn-link center" href="/" data-testid="admin-back-to-chat">{at('nav.backToChat')}</a>
      </div>
    </main>
  );
}

const PAGE_LABEL: Record<PageId, Parameters<typeof at>[0]> = {
  dashboard: 'nav.dashboard',
  users: 'nav.users',
  logs: 'nav.logs',
  keys: 'nav.keys',
  cards: 'nav.cards',
  plans: 'nav.plans',
  orders: 'nav.orders',
  settings: 'nav.settings',
  audit: 'nav.audit',
};

interface ConsoleProps {
  siteName: string;
  site: SiteInfo | null;
  me: Me;
  onLogout: () => void;
  onTheme: (theme: Theme) => void;
  onLanguage: (lang: Lang) => void;
}

function Console({ siteName, site, me, onLogout, onTheme, onLanguage }: ConsoleProps) {
  const route = useRoute();
  const [menuOpen, setMenuOpen] = useState(false);

  // Moving to another page closes the phone drawer.
  useEffect(() => setMenuOpen(false), [route.page, route.rest.join('/')]);

  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setMenuOpen(false);
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [menuOpen]);

  return (
    <div class="adm">
      <header class="adm-bar">
        <button
          type="button"
          class="icon-btn"
          aria-label={at('nav.open')}
          aria-expanded={menuOpen}
          aria-controls="admin-nav"
          onClick={() => setMenuOpen((o) => !o)}
          data-testid="admin-menu-toggle"
        >
          ☰
        </button>
        <span class="adm-bar-title">{at(PAGE_LABEL[route.page])}</span>
        <span class="muted adm-bar-site">{siteName}</span>
      </header>
      <nav id="admin-nav" class={menuOpen ? 'adm-nav open' : 'adm-nav'} aria-label={at('nav.label')} data-testid="admin-nav">
        <div class="adm-brand">
          <strong>{siteName}</strong>
          <span class="muted">{at('app.title')}</span>
        </div>
        <ul class="adm-links">
          {PAGES.map((page) => (
            <li key={page}>
              <Link
                href={pageHref(page)}
                class={route.page === page ? 'adm-link active' : 'adm-link'}
                aria-current={route.page === page ? 'page' : undefined}
                data-testid={`admin-nav-${page}`}
              >
                {at(PAGE_LABEL[page])}
              </Link>
            </li>
          ))}
        </ul>
        <div class="adm-nav-foot">
          <a class="adm-link" href="/" data-testid="admin-back-to-chat">← {at('nav.backToChat')}</a>
          <label class="menu-field">
            <span>{t('settings.theme')}</span>
            <select value={currentTheme()} onChange={(e) => onTheme(e.currentTarget.value as Theme)} data-testid="admin-theme-select">
              {THEMES.map((th) => (
                <option key={th} value={th}>{t(`theme.${th}`)}</option>
              ))}
            </select>
          </label>
          <label class="menu-field">
            <span>{t('settings.language')}</span>
            <select value={currentLang()} onChange={(e) => onLanguage(e.currentTarget.value as Lang)} data-testid="admin-language-select">
              {LANGS.map((l) => (
                <option key={l.id} value={l.id}>{l.label}</option>
              ))}
            </select>
          </label>
          <div class="adm-who">
            <span class="muted" data-testid="admin-me">{me.name}</span>
            <button type="button" class="btn btn-quiet" onClick={onLogout} data-testid="admin-logout">
              {t('header.logout')}
            </button>
          </div>
        </div>
      </nav>
      {menuOpen && <div class="scrim adm-scrim" onClick={() => setMenuOpen(false)} aria-hidden="true" />}
      <main class="adm-main" data-testid="admin-page" data-page={route.page}>
        <CurrentPage route={route} site={site} />
      </main>
    </div>
  );
}

function CurrentPage({ route, site }: { route: Route; site: SiteInfo | null }) {
  switch (route.page) {
    case 'dashboard':
      return <Dashboard />;
    case 'users':
      return <UsersPage route={route} />;
    case 'logs':
      return <LogsPage route={route} />;
    case 'keys':
      return <KeysPage />;
    case 'cards':
      return <CardsPage />;
    case 'plans':
      return <PlansPage />;
    case 'orders':
      return <OrdersPage route={route} />;
    case 'settings':
      return <SettingsPage route={route} site={site} />;
    case 'audit':
      return <AuditPage />;
  }
}
