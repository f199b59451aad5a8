import { useChat } from '../chat/use-chat';
import { t } from '../i18n';
import type { Balance, Me, SiteInfo } from '../types';
import { Composer } from './Composer';
import { Header } from './Header';
import { MessageList } from './MessageList';

interface Props {
  site: SiteInfo | null;
  siteName: string;
  me: Me;
  onBalance: (balance: Balance) => void;
  onUnauthorized: () => void;
  onLogout: () => void;
}

export function ChatScreen({ site, siteName, me, onBalance, onUnauthorized, onLogout }: Props) {
  const chat = useChat({ onUnauthorized, onBalance });

  return (
    <div class="chat">
      <Header siteName={siteName} balance={me.balance} onNewChat={chat.reset} onLogout={onLogout} />
      <MessageList
        messages={chat.messages}
        empty={
          <div class="empty">
            <h2>{t('chat.empty')}</h2>
            {site?.announcement && <p class="announcement">{site.announcement}</p>}
          </div>
        }
      />
      <div class="composer-area">
        {chat.error && (
          <div class="chat-error" role="alert" data-testid="chat-error">
            <span>{chat.error}</span>
            <button type="button" class="icon-btn" aria-label={t('chat.dismiss')} onClick={chat.dismissError}>
              ×
            </button>
          </div>
        )}
        <Composer
          busy={chat.busy}
          streaming={chat.streaming}
          stopping={chat.stopping}
          onSend={chat.send}
          onStop={chat.stop}
        />
      </div>
    </div>
  );
}
