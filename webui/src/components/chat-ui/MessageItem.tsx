// One message of the conversation: a question (a bubble on the right) or an answer (full-width
// text), its note, and its actions as icon buttons: branch switcher, copy, edit, regenerate.

import { Component } from 'preact';
import { useState } from 'preact/hooks';
import type { ChatMessage } from '../../chat/use-chat';
import { formatDateTime, t } from '../../i18n';
import { copyText } from '../../util';
import { MessageAttachments } from '../Attachments';
import { Markdown } from '../Markdown';
import { Reasoning } from '../Reasoning';
import { CheckIcon, ChevronLeftIcon, ChevronRightIcon, CopyIcon, EditIcon, RegenerateIcon } from './Icons';
import { IconButton } from './IconButton';

export interface ItemProps {
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

const sameIds = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** A message that renders again only when what it shows changed. */
export class MessageRow extends Component<ItemProps> {
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
    <li class={isLast ? `msg msg-${m.role} msg-last` : `msg msg-${m.role}`}>
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
        <div
          class="bubble"
          title={m.created_at ? formatDateTime(m.created_at) : undefined}
          data-testid="message"
          data-role={m.role}
          data-status={m.status}
          data-id={m.id > 0 ? m.id : undefined}
        >
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
              <IconButton
                class="act"
                label={t('msg.prevBranch')}
                disabled={busy || index === 0}
                onClick={() => onSwitch(m.id, -1)}
                testid="branch-prev"
              >
                <ChevronLeftIcon size={16} />
              </IconButton>
              <span aria-label={t('msg.branch', { n: index + 1, total: siblings.length })} data-testid="branch-label">
                {index + 1}/{siblings.length}
              </span>
              <IconButton
                class="act"
                label={t('msg.nextBranch')}
                disabled={busy || index === siblings.length - 1}
                onClick={() => onSwitch(m.id, 1)}
                testid="branch-next"
              >
                <ChevronRightIcon size={16} />
              </IconButton>
            </span>
          )}
          {saved && m.content !== '' && (
            <IconButton class="act" label={copied ? t('msg.copied') : t('msg.copy')} onClick={() => void copy()} testid="msg-copy">
              {copied ? <CheckIcon size={16} /> : <CopyIcon size={16} />}
            </IconButton>
          )}
          {canEdit && (
            <IconButton class="act" label={t('msg.edit')} onClick={() => setEditing(m.content)} testid="msg-edit">
              <EditIcon size={16} />
            </IconButton>
          )}
          {canRegenerate && (
            <IconButton class="act" label={t('msg.regenerate')} onClick={() => onRegenerate(m.id)} testid="msg-regenerate">
              <RegenerateIcon size={16} />
            </IconButton>
          )}
        </div>
      )}
    </li>
  );
}
