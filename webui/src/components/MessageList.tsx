import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';
import type { ChatMessage } from '../chat/use-chat';
import { t } from '../i18n';

interface Props {
  messages: ChatMessage[];
  empty: ComponentChildren;
}

/** How close to the bottom (px) still counts as "following" the conversation. */
const FOLLOW_SLACK = 80;

export function MessageList({ messages, empty }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const following = useRef(true);

  const onScroll = () => {
    const el = scroller.current;
    if (el) following.current = el.scrollHeight - el.scrollTop - el.clientHeight < FOLLOW_SLACK;
  };

  // Keep the newest text in view while streaming, unless the reader has scrolled up.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && following.current) el.scrollTop = el.scrollHeight;
  }, [messages]);

  const busy = messages.some((m) => m.status === 'pending' || m.status === 'streaming');

  return (
    <div class="messages" ref={scroller} onScroll={onScroll}>
      {messages.length === 0 ? (
        empty
      ) : (
        <div role="log" aria-label={t('chat.messages')} aria-busy={busy}>
          <ol class="message-list">
            {messages.map((m) => (
              <MessageBubble key={m.key} message={m} />
            ))}
          </ol>
        </div>
      )}
    </div>
  );
}

function MessageBubble({ message: m }: { message: ChatMessage }) {
  const waiting = m.role === 'assistant' && m.content === '' && (m.status === 'pending' || m.status === 'streaming');
  const status = m.reconnecting
    ? t('chat.reconnecting')
    : m.status === 'stopped'
      ? t('chat.stopped')
      : m.status === 'failed' && !m.note
        ? t('chat.failed')
        : '';
  const note = [status, m.note].filter(Boolean).join(' · ');

  return (
    <li class={`msg msg-${m.role}`}>
      <div class="bubble" data-testid="message" data-role={m.role} data-status={m.status} data-id={m.id}>
        <span class="sr-only">{m.role === 'user' ? t('chat.you') : t('chat.assistant')}: </span>
        {waiting ? (
          <span class="thinking">
            <span class="sr-only">{t('chat.thinking')}</span>
            <span class="dot" aria-hidden="true" />
            <span class="dot" aria-hidden="true" />
            <span class="dot" aria-hidden="true" />
          </span>
        ) : (
          <div class="text">{m.content}</div>
        )}
      </div>
      {note && (
        <p class={m.status === 'failed' ? 'msg-note msg-note-error' : 'msg-note'} data-testid="message-note">
          {note}
        </p>
      )}
    </li>
  );
}
