import { Component, type ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ChatMessage } from '../chat/use-chat';
import { currentLang, t } from '../i18n';
import { copyText } from '../util';
import { MessageAttachments } from './Attachments';
import { Markdown } from './Markdown';
import { Reasoning } from './Reasoning';

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
/**
 * A long conversation is rendered from its end: PAGE messages at first, MORE more each time the
 * reader scrolls near the top of what is shown (small steps keep each one well under a frame
 * budget's worth of work).
 */
const PAGE = 60;
const MORE = 30;
/** Start showing earlier messages when the top is this close (px) to coming into view. */
const EARLIER_MARGIN = 1200;

const sameIds = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

export function MessageList({ messages, children, busy, empty, onRegenerate, onEdit, onSwitch }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const following = useRef(true);
  const earlierRef = useRef<HTMLLIElement>(null);

  // Items get stable callbacks (the latest ones behind a ref), so that only the messages that
  // changed render again while an answer streams.
  const latest = useRef({ onRegenerate, onEdit, onSwitch });
  latest.current = { onRegenerate, onEdit, onSwitch };
  const actions = useMemo(
    () => ({
      onRegenerate: (id: number) => latest.current.onRegenerate(id),
      onEdit: (m: ChatMessage, content: string) => latest.current.onEdit(m, content),
      onSwitch: (id: number, step: number) => latest.current.onSwitch(id, step),
    }),
    [],
  );

  // How many messages (counted from the end) are rendered; back to one page for another
  // conversation or another root.
  const root = messages[0]?.id;
  const [window_, setWindow] = useState({ root, count: PAGE });
  const count = window_.root === root ? window_.count : PAGE;
  const start = Math.max(0, messages.length - count);
  const shown = start > 0 ? messages.slice(start) : messages;

  // Showing earlier messages must not move what the reader is looking at.
  const anchor = useRef<{ el: Element; top: number } | null>(null);
  const showEarlier = () => {
    const first = scroller.current?.querySelector('.message-list > .msg');
    anchor.current = first ? { el: first, top: first.getBoundingClientRect().top } : null;
    setWindow({ root, count: count + MORE });
  };
  useLayoutEffect(() => {
    const a = anchor.current;
    const el = scroller.current;
    anchor.current = null;
    if (!a || !el || !a.el.isConnected) return;
    const moved = a.el.getBoundingClientRect().top - a.top;
    if (Math.abs(moved) >= 1) el.scrollTop += moved;
  }, [count]);

  const more = useRef(showEarlier);
  more.current = showEarlier;
  useEffect(() => {
    const target = earlierRef.current;
    const el = scroller.current;
    if (!target || !el || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) more.current();
      },
      { root: el, rootMargin: `${EARLIER_MARGIN}px 0px 0px 0px` },
    );
    observer.observe(target);
    return () => observer.disconnect();
  }, [start > 0, count, root]);

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
  const lang = currentLang();

  return (
    <div class="messages" ref={scroller} onScroll={onScroll} onClick={onClick}>
      {messages.length === 0 ? (
        empty
      ) : (
        <div role="log" aria-label={t('chat.messages')} aria-busy={streaming}>
          <ol class="message-list">
            {start > 0 && (
              <li class="earlier" ref={earlierRef}>
                <button type="button" class="btn-link" onClick={showEarlier} data-testid="show-earlier">
                  {t('chat.showEarlier', { n: start })}
                </button>
              </li>
            )}
            {shown.map((m) => (
              <MessageRow
                key={m.id}
                message={m}
                siblings={children.get(m.parent_id) ?? []}
                busy={busy}
                isLast={m === last}
                lang={lang}
                {...actions}
              />
            ))}
          </ol>
        </div>
      )}
    </div>
  );
}

/** A message that renders again only when what it shows changed. */
class MessageRow extends Component<ItemProps> {
  shouldComponentUpdate(next: ItemProps) {
    const p = this.props;
    return (
      next.message !== p.message ||
      next.busy !== p.busy ||
      next.isLast !== p.isLast ||
      next.lang !== p.lang ||
      !sameIds(next.siblings, p.siblings)
    );
  }

  render(props: ItemProps) {
    return <MessageItem {...props} />;
  }
}

interface ItemProps {
  message: ChatMessage;
  /** The interface language: labels change with it. */
  lang?: string;
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
  // No answer text yet: either nothing at all (dots) or the model's reasoning so far.
  const unanswered = m.role === 'assistant' && m.content === '' && live;
  const reasoning = m.role === 'assistant' ? (m.reasoning ?? '') : '';
  const waiting = unanswered && reasoning === '';
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
          {m.attachments?.length ? <MessageAttachments attachments={m.attachments} /> : null}
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
            <>
              {reasoning !== '' && <Reasoning id={m.id} text={reasoning} ms={m.reasoning_ms} thinking={unanswered} />}
              {(m.content !== '' || reasoning === '') && <Markdown text={m.content} streaming={live} />}
            </>
          ) : (
            <>
              {m.attachments?.length ? <MessageAttachments attachments={m.attachments} /> : null}
              <div class="text">{m.content}</div>
            </>
          )}
        </div>
      )}
      {note && (
        <p class={m.status === 'failed' ? 'msg-note msg-note-error' : 'msg-note'} data-testid="message-note">
          {note}
        </p>
      )}
      {editing === null && !unanswered && (
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
