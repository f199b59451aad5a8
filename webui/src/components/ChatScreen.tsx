import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { fileName, toJson, toMarkdown } from '../chat/export';
import { useChat, type ChatMessage } from '../chat/use-chat';
import { t, type Lang } from '../i18n';
import type { Theme } from '../theme';
import type { Attachment, Balance, Me, Order, PayPlans, Preset, Role, SiteInfo } from '../types';
import { apiOn, invitesOn } from '../site';
import { download } from '../util';
import { AccountDialog, type AccountTab } from './AccountDialog';
import { BuyDialog } from './BuyDialog';
import { Announcement } from './Announcement';
import { ChatError } from './chat-ui/ChatError';
import { ModelPicker, RolePicker } from './chat-ui/Pickers';
import { Welcome } from './chat-ui/Welcome';
import { Composer } from './Composer';
import '../styles/chat-layout.css';
import '../styles/messages.css';
import '../styles/menus.css';
import { Header } from './Header';
import { MessageList } from './MessageList';
import { Sidebar } from './Sidebar';

interface Props {
  site: SiteInfo | null;
  siteName: string;
  me: Me;
  onBalance: (balance: Balance) => void;
  onUnauthorized: () => void;
  onLogout: () => void;
  onTheme: (theme: Theme) => void;
  onLanguage: (lang: Lang) => void;
}

/** The conversation id in the address (`/c/{id}`), if any. */
function routeId(): number | null {
  const m = /^\/c\/(\d+)\/?$/.exec(location.pathname);
  return m ? Number(m[1]) : null;
}

const PHONE_QUERY = '(max-width: 800px)';

export function ChatScreen({ site, siteName, me, onBalance, onUnauthorized, onLogout, onTheme, onLanguage }: Props) {
  const [refreshKey, setRefreshKey] = useState(0);
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const [roles, setRoles] = useState<Role[]>([]);
  const [presets, setPresets] = useState<Preset[]>([]);
  const [model, setModel] = useState('');
  const [roleId, setRoleId] = useState<number | undefined>(undefined);
  const [systemPrompt, setSystemPrompt] = useState('');
  const [account, setAccount] = useState<AccountTab | null>(null);
  // What is on sale; buying is offered only with a plan and a channel, else the UI stays redeem-only.
  const [shop, setShop] = useState<PayPlans | null>(null);
  const [buying, setBuying] = useState<{ reopen?: Order } | null>(null);
  // Bumped whenever the view must go to the newest message (a question sent, a conversation opened).
  const [followTick, setFollowTick] = useState(0);
  const refollow = () => setFollowTick((n) => n + 1);

  const chat = useChat({
    onUnauthorized,
    onBalance,
    onConversationChanged: (id, created) => {
      if (created && routeId() !== id) history.pushState(null, '', `/c/${id}`);
      setRefreshKey((k) => k + 1);
    },
  });

  useEffect(() => {
    api.roles().then(setRoles);
    api.presets().then(setPresets);
    api.payPlans().then(
      (offer) => setShop(offer.items.length > 0 && offer.channels.length > 0 ? offer : null),
      () => setShop(null),
    );
  }, []);

  // The model: the open conversation's, else the site default.
  useEffect(() => {
    const models = site?.models ?? [];
    const wanted = chat.conversation?.model || site?.default_model || models[0]?.id || '';
    setModel(models.some((m) => m.id === wanted) || models.length === 0 ? wanted : models[0].id);
  }, [site, chat.conversation]);

  // Follow the address: on load and on back/forward.
  useEffect(() => {
    const follow = () => {
      const id = routeId();
      if (id === null) chat.reset();
      else void chat.load(id);
      refollow();
    };
    follow();
    addEventListener('popstate', follow);
    return () => removeEventListener('popstate', follow);
  }, []);

  const isPhone = () => matchMedia(PHONE_QUERY).matches;

  const openAccount = (tab: AccountTab) => {
    if (isPhone()) setSidebarOpen(false);
    setAccount(tab);
  };

  const openBuy = (reopen?: Order) => {
    if (isPhone()) setSidebarOpen(false);
    setAccount(null);
    setBuying({ reopen });
  };

  const open = useCallback((id: number) => {
    if (routeId() !== id) history.pushState(null, '', `/c/${id}`);
    void chat.load(id);
    refollow();
    if (isPhone()) setSidebarOpen(false);
  }, []);

  const newChat = useCallback(() => {
    if (location.pathname !== '/') history.pushState(null, '', '/');
    chat.reset();
    setRoleId(undefined);
    setSystemPrompt('');
    if (isPhone()) setSidebarOpen(false);
    document.getElementById('composer-input')?.focus();
  }, []);

  const onDeleted = (id: number) => {
    if (chat.conversationId === id) newChat();
  };

  const send = (content: string, attachments: Attachment[] = []) => {
    refollow();
    return chat.send(content, {
      model: model || undefined,
      attachments,
      role_id: roleId,
      system_prompt: site?.allow_custom_system_prompt ? systemPrompt.trim() || undefined : undefined,
    });
  };

  // An edited question keeps what it carried.
  const edit = (m: ChatMessage, content: string) => {
    refollow();
    return chat.send(content, { model: model || undefined, attachments: m.attachments }, m.parent_id);
  };

  const exportAs = (kind: 'md' | 'json') => {
    const id = chat.conversationId;
    if (id === null) return;
    if (kind === 'md') {
      const text = toMarkdown(chat.conversation, chat.messages, {
        you: t('chat.you'),
        assistant: t('chat.assistant'),
        thinking: t('reasoning.export'),
      });
      download(fileName(chat.conversation, id, 'md'), 'text/markdown;charset=utf-8', text);
    } else {
      download(fileName(chat.conversation, id, 'json'), 'application/json', toJson(chat.conversation, id, chat.messages));
    }
  };

  // Desktop shortcuts: Esc stops the answer, Ctrl/Cmd+Shift+O starts a new chat.
  const keys = useRef({ chat, newChat });
  keys.current = { chat, newChat };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const { chat: c, newChat: fresh } = keys.current;
      if (e.key === 'Escape' && c.streaming && !e.isComposing) {
        e.preventDefault();
        void c.stop();
      } else if ((e.ctrlKey || e.metaKey) && e.shiftKey && (e.key === 'o' || e.key === 'O')) {
        e.preventDefault();
        fresh();
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  const models = site?.models ?? [];
  // Unknown models (no site info) are left to the daemon to judge.
  const chosenModel = models.find((m) => m.id === model);
  const fresh = chat.conversationId === null;
  const showRoles = fresh && roles.length > 0;
  const showSystemPrompt = fresh && !!site?.allow_custom_system_prompt;

  const logoUrl = site?.logo_url ?? '';
  const onBuy = shop ? () => openBuy() : undefined;
  const onInvite = invitesOn(site) ? () => openAccount('invite') : undefined;
  const onApiKeys = apiOn(site) ? () => openAccount('api') : undefined;

  const empty = chat.loading ? (
    <div class="empty" aria-busy="true">
      <p class="hint">{t('conv.loading')}</p>
    </div>
  ) : (
    <Welcome
      siteName={siteName}
      logoUrl={logoUrl}
      tagline={site?.tagline ?? ''}
      presets={fresh ? presets : []}
      disabled={chat.busy}
      onPreset={(text) => void send(text)}
    />
  );

  return (
    <div class="layout">
      <Sidebar
        activeId={chat.conversationId}
        refreshKey={refreshKey}
        open={sidebarOpen}
        onSelect={open}
        onDeleted={onDeleted}
        onClose={() => setSidebarOpen(false)}
        onUnauthorized={onUnauthorized}
      />
      {sidebarOpen && <div class="scrim" onClick={() => setSidebarOpen(false)} aria-hidden="true" />}
      <div class="chat">
        <Header
          siteName={siteName}
          logoUrl={logoUrl}
          me={me}
          canExport={!fresh && chat.messages.length > 0}
          onNewChat={newChat}
          onLogout={onLogout}
          onToggleSidebar={() => setSidebarOpen((o) => !o)}
          onTheme={onTheme}
          onLanguage={onLanguage}
          onExport={exportAs}
          onRedeem={() => openAccount('redeem')}
          onBuy={onBuy}
          onInvite={onInvite}
          onApiKeys={onApiKeys}
          onUsage={() => openAccount('usage')}
        />
        {site?.announcement && <Announcement key={site.announcement} text={site.announcement} />}
        <MessageList
          messages={chat.messages}
          children={chat.children}
          busy={chat.busy}
          empty={empty}
          onRegenerate={(id) => {
            refollow();
            void chat.regenerate(id);
          }}
          onEdit={edit}
          onSwitch={chat.switchBranch}
          resume={`${chat.conversationId}:${followTick}`}
        />
        <div class="composer-area">
          {chat.error && (
            <ChatError
              text={chat.error}
              reason={chat.errorReason}
              onDismiss={chat.dismissError}
              onRedeem={() => openAccount('redeem')}
              onBuy={onBuy}
              onInvite={onInvite}
              shopUrl={site?.shop_url ?? ''}
            />
          )}
          {(models.length > 0 || showRoles || showSystemPrompt) && (
            <div class="toolbar">
              {models.length > 0 && <ModelPicker models={models} value={model} onChange={setModel} />}
              {showRoles && <RolePicker roles={roles} value={roleId} onChange={setRoleId} />}
              {showSystemPrompt && (
                <details class="sysprompt">
                  <summary data-testid="system-prompt-toggle">{t('picker.systemPrompt')}</summary>
                  <textarea
                    rows={2}
                    value={systemPrompt}
                    aria-label={t('picker.systemPrompt')}
                    placeholder={t('picker.systemPromptHint')}
                    onInput={(e) => setSystemPrompt(e.currentTarget.value)}
                    data-testid="system-prompt"
                  />
                </details>
              )}
            </div>
          )}
          <Composer
            busy={chat.busy}
            streaming={chat.streaming}
            stopping={chat.stopping}
            vision={chosenModel ? chosenModel.vision === true : true}
            onSend={send}
            onStop={chat.stop}
          />
        </div>
      </div>
      {account && (
        <AccountDialog
          tab={account}
          balance={me.balance}
          onTab={setAccount}
          onBalance={onBalance}
          onClose={() => setAccount(null)}
          onUnauthorized={onUnauthorized}
          onBuy={shop ? openBuy : undefined}
          onHistoryChanged={() => setRefreshKey((k) => k + 1)}
        />
      )}
      {buying && shop && (
        <BuyDialog
          shop={shop}
          reopen={buying.reopen}
          onBalance={onBalance}
          onClose={() => setBuying(null)}
          onUnauthorized={onUnauthorized}
        />
      )}
    </div>
  );
}
