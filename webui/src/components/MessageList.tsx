import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ChatMessage } from '../chat/use-chat';
import { t } from '../i18n';
import { copyText } from '../util';
import { Markdown } from './Markdown';

interface Props {
  messages: ChatMessage[];
  children: Map<number | null, number[]>;
  busy: boolean;
  empty: ComponentChildren;
  onRegenerate: (id: number) => void;
  onEdit: (message: ChatMessage, content: string) => Promise<boolean>;
  onSwitch: (id: number, step: number) => void;
}

/** How close to the bottom (px) still counts as "following" the conversation. */
const FOLLOW_SLACK = 80;

export function MessageList({ messages, children, busy, empty, onRegenerate, onEdit, onSwitch }: Props) {
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

  // Copy buttons inside rendered code blocks (the markdown HTML is not made of components).
  const onClick = (e: MouseEvent) => {
    const button = (e.target as Element).closest?.('.code-copy');
    if (!button) return;
    const code = button.closest('.code-block')?.querySelector('pre code');
    if (!code) return;
    void copyText(code.textContent ?? '').then((ok) => {
      if (!ok) return;
      const label = button.textContent;
      button.textContent = t('md.copied');
      button.setAttribute('data-copied', '');
      setTimeout(() => {
        button.textContent = label;
        button.removeAttribute('data-copied');
      }, 1500);
    });
  };

  const streaming = messages.some((m) => m.status === 'pending' || m.status === 'streaming');
  const last = messages[messages.length - 1];

  return (
    <div class="messages" ref={scroller} onScroll={onScroll} onClick={onClick}>
      {messages.length === 0 ? (
        empty
      ) : (
        <div role="log" aria-label={t('chat.messages')} aria-busy={streaming}>
          <ol class="message-list">
            {messages.map((m) => (
              <MessageItem
                key={m.id}
                message={m}
                siblings={children.get(m.parent_id) ?? []}
                busy={busy}
                isLast={m === last}
                onRegenerate={onRegenerate}
                onEdit={onEdit}
                onSwitch={onSwitch}
              />
            ))}
          </ol>
        </div>
      )}
    </div>
  );
}

interface ItemProps {
  message: ChatMessage;
  siblings: number[];
  busy: boolean;
  isLast: boolean;
  onRegenerate: (id: number) => void;
  onEdit: (message: ChatMessage, content: string) => Promise<boolean>;
  onSwitch: (id: number, step: number) => void;
}

function MessageItem({ message: m, siblings, busy, isLast, onRegenerate, onEdit, onSwitch }: ItemProps) {
  const [editing, setEditing] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const live = m.status === 'pending' || m.status === 'streaming';
  const waiting = m.role === 'assistant' && m.content === '' && live;
  const status = m.reconnecting
    ? t('chat.reconnecting')
    : m.status === 'stopped'
      ? t('chat.stopped')
      : m.status === 'failed' && !m.note
        ? t('chat.failed')
        : '';
  const note = [status, m.note].filter(Boolean).join(' · ');

  const index = siblings.indexOf(m.id);
  const saved = m.id > 0;
  // The API can branch below an existing message only: the first question cannot be edited.
  const canEdit = m.role === 'user' && saved && !busy;
  const canRegenerate = m.role === 'assistant' && saved && isLast && !busy && !live;

  const copy = async () => {
    if (await copyText(m.content)) {
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    }
  };

  const submitEdit = async () => {
    const content = (editing ?? '').trim();
    if (!content) return;
    setEditing(null);
    const ok = await onEdit(m, content);
    if (!ok) setEditing(content);
  };

  return (
    <li class={`msg msg-${m.role}`}>
      {editing !== null ? (
        <form
          class="edit-form"
          onSubmit={(e) => {
            e.preventDefault();
            void submitEdit();
          }}
        >
          <label class="sr-only" for={`edit-${m.id}`}>{t('msg.editLabel')}</label>
          <textarea
            id={`edit-${m.id}`}
            value={editing}
            rows={3}
            onInput={(e) => setEditing(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') setEditing(null);
              if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
                e.preventDefault();
                void submitEdit();
              }
            }}
            ref={(el) => el?.focus()}
            data-testid="edit-input"
          />
          <div class="edit-actions">
            <button type="button" class="btn" onClick={() => setEditing(null)} data-testid="edit-cancel">
              {t('msg.editCancel')}
            </button>
            <button type="submit" class="btn btn-primary" disabled={busy || !(editing ?? '').trim()} data-testid="edit-save">
              {t('msg.editSave')}
            </button>
          </div>
        </form>
      ) : (
        <div class="bubble" data-testid="message" data-role={m.role} data-status={m.status} data-id={m.id > 0 ? m.id : undefined}>
          <span class="sr-only">{m.role === 'user' ? t('chat.you') : t('chat.assistant')}: </span>
          {waiting ? (
            <span class="thinking">
              <span class="sr-only">{t('chat.thinking')}</span>
              <span class="dot" aria-hidden="true" />
              <span class="dot" aria-hidden="true" />
              <span class="dot" aria-hidden="true" />
            </span>
          ) : m.role === 'assistant' ? (
            <Markdown text={m.content} streaming={live} />
          ) : (
            <div class="text">{m.content}</div>
          )}
        </div>
      )}
      {note && (
        <p class={m.status === 'failed' ? 'msg-note msg-note-error' : 'msg-note'} data-testid="message-note">
          {note}
        </p>
      )}
      {editing === null && !waiting && (
        <div class="msg-actions">
          {siblings.length > 1 && index >= 0 && (
            <span class="branch" data-testid="branch-switch">
              <button
                type="button"
                class="icon-btn"
                aria-label={t('msg.prevBranch')}
                disabled={busy || index === 0}
                onClick={() => onSwitch(m.id, -1)}
                data-testid="branch-prev"
              >
                ‹
              </button>
              <span aria-label={t('msg.branch', { n: index + 1, total: siblings.length })} data-testid="branch-label">
                {index + 1}/{siblings.length}
              </span>
              <button
                type="button"
                class="icon-btn"
                aria-label={t('msg.nextBranch')}
                disabled={busy || index === siblings.length - 1}
                onClick={() => onSwitch(m.id, 1)}
                data-testid="branch-next"
              >
                ›
              </button>
            </span>
          )}
          {saved && m.content !== '' && (
            <button type="button" class="act" onClick={copy} data-testid="msg-copy">
              {copied ? t('msg.copied') : t('msg.copy')}
            </button>
          )}
          {canEdit && (
            <button type="button" class="act" onClick={() => setEditing(m.content)} data-testid="msg-edit">
              {t('msg.edit')}
            </button>
          )}
          {canRegenerate && (
            <button type="button" class="act" onClick={() => onRegenerate(m.id)} data-testid="msg-regenerate">
              {t('msg.regenerate')}
            </button>
          )}
        </div>
      )}
    </li>
  );
}
