import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useFollow } from '../chat/use-follow';
import type { ChatMessage } from '../chat/use-chat';
import { currentLang, t } from '../i18n';
import { copyText } from '../util';
import { ArrowDownIcon } from './chat-ui/Icons';
import { MessageRow } from './chat-ui/MessageItem';
import { IconButton } from './chat-ui/IconButton';

interface Props {
  messages: ChatMessage[];
  children: Map<number | null, number[]>;
  busy: boolean;
  empty: ComponentChildren;
  onRegenerate: (id: number) => void;
  onEdit: (message: ChatMessage, content: string) => Promise<boolean>;
  onSwitch: (id: number, step: number) => void;
  /** Changes when the view must go to the newest message and follow it again. */
  resume: unknown;
}

/**
 * A long conversation is rendered from its end: PAGE messages at first, MORE more each time the
 * reader scrolls near the top of what is shown (small steps keep each one well under a frame
 * budget's worth of work).
 */
const PAGE = 60;
const MORE = 30;
/** Start showing earlier messages when the top is this close (px) to coming into view. */
const EARLIER_MARGIN = 1200;

export function MessageList({ messages, children, busy, empty, onRegenerate, onEdit, onSwitch, resume }: Props) {
  const scroller = useRef<HTMLElement>(null);
  const content = useRef<HTMLDivElement>(null);
  const follow = useFollow(scroller, content, resume);
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

  // Keep the newest text in view while streaming, unless the reader has scrolled up.
  useLayoutEffect(follow.stick, [messages]);

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
    <div class="messages-wrap">
      <main class="messages" ref={scroller} onClick={onClick} {...follow.handlers}>
        <div class="messages-inner" ref={content}>
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
      </main>
      {follow.away && messages.length > 0 && (
        <IconButton class="jump-latest" label={t('chat.jumpLatest')} onClick={follow.jump} testid="jump-latest">
          <ArrowDownIcon size={18} />
        </IconButton>
      )}
    </div>
  );
}
