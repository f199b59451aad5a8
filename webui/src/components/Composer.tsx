import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ACCEPT, useAttachments } from '../chat/use-attachments';
import { t } from '../i18n';
import type { Attachment } from '../types';
import { AttachmentTray, PaperclipIcon } from './Attachments';
import { ArrowUpIcon, CloseIcon, StopIcon } from './chat-ui/Icons';
import { IconButton } from './chat-ui/IconButton';

interface Props {
  busy: boolean;
  streaming: boolean;
  stopping: boolean;
  /** The chosen model takes pictures; without it, a question with pictures is held back. */
  vision: boolean;
  /** Resolves false when the question was not accepted; the draft is then put back. */
  onSend: (content: string, attachments: Attachment[]) => Promise<boolean>;
  onStop: () => void;
}

const MAX_HEIGHT = 200;

const hasFiles = (e: DragEvent) => !!e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files');

export function Composer({ busy, streaming, stopping, vision, onSend, onStop }: Props) {
  const [draft, setDraft] = useState('');
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const attachments = useAttachments();
  // dragenter/dragleave fire for every child crossed: count them to know when the pointer left.
  const dragDepth = useRef(0);

  // Grow with the text up to a limit, then scroll inside.
  useLayoutEffect(() => {
    const el = input.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT)}px`;
  }, [draft]);

  // A file dropped beside the composer would make the browser leave the chat to show it.
  useEffect(() => {
    const keep = (e: DragEvent) => {
      if (hasFiles(e)) e.preventDefault();
    };
    addEventListener('dragover', keep);
    addEventListener('drop', keep);
    return () => {
      removeEventListener('dragover', keep);
      removeEventListener('drop', keep);
    };
  }, []);

  const visionBlocked = !vision && attachments.hasImages;
  const canSend = !busy && !attachments.uploading && !visionBlocked && draft.trim() !== '';

  const submit = async () => {
    const content = draft.trim();
    if (!canSend) return;
    const sent = attachments.ready;
    setDraft('');
    const accepted = await onSend(content, sent);
    if (accepted) attachments.clear();
    else setDraft((current) => current || content);
    input.current?.focus();
  };

  const onKeyDown = (e: KeyboardEvent) => {
    // Enter while an input method is composing (pinyin etc.) confirms the candidate, not sends.
    if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    void submit();
  };

  const onPaste = (e: ClipboardEvent) => {
    const data = e.clipboardData;
    const files = data ? Array.from(data.files) : [];
    if (files.length === 0) return;
    // Office programs put a picture of the copied cells next to their text: the text wins then.
    // A file copied in a file manager comes with its name as text: the file wins.
    const text = data!.getData('text/plain');
    if (text.trim() !== '' && !files.some((f) => f.name && text.includes(f.name))) return;
    e.preventDefault();
    attachments.add(files);
  };

  const onDragEnter = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    dragDepth.current++;
    setDragging(true);
  };
  const onDragOver = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer!.dropEffect = 'copy';
  };
  const onDragLeave = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    dragDepth.current = Math.max(0, dragDepth.current - 1);
    if (dragDepth.current === 0) setDragging(false);
  };
  const onDrop = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    dragDepth.current = 0;
    setDragging(false);
    attachments.add(Array.from(e.dataTransfer!.files));
    input.current?.focus();
  };

  const sendTitle = attachments.uploading ? t('attach.waitUploads') : visionBlocked ? t('attach.noVision') : undefined;

  return (
    <form
      class={dragging ? 'composer composer-dragging' : 'composer'}
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
      onDragEnter={onDragEnter}
      onDragOver={onDragOver}
      onDragLeave={onDragLeave}
      onDrop={onDrop}
      data-testid="composer"
    >
      <AttachmentTray items={attachments.items} onRemove={attachments.remove} />
      {visionBlocked && (
        <p class="composer-notice composer-notice-warn" role="alert" data-testid="vision-warning">
          {t('attach.noVision')}
        </p>
      )}
      {attachments.overLimit && (
        <p class="composer-notice" role="alert" data-testid="attach-limit">
          <span>{t('attach.limit')}</span>
          <IconButton class="icon-btn" label={t('chat.dismiss')} onClick={attachments.dismissOverLimit}>
            <CloseIcon size={16} />
          </IconButton>
        </p>
      )}
      <IconButton class="btn btn-quiet attach-button" label={t('attach.add')} onClick={() => picker.current?.click()} testid="attach">
        <PaperclipIcon />
      </IconButton>
      <input
        ref={picker}
        type="file"
        multiple
        accept={ACCEPT}
        hidden
        onChange={(e) => {
          const el = e.currentTarget;
          attachments.add(Array.from(el.files ?? []));
          // The same file can be picked again after it was removed.
          el.value = '';
          input.current?.focus();
        }}
        data-testid="attach-input"
      />
      <label for="composer-input" class="sr-only">
        {t('chat.input')}
      </label>
      <textarea
        id="composer-input"
        ref={input}
        rows={1}
        value={draft}
        placeholder={attachments.items.length > 0 ? t('attach.placeholder') : t('chat.placeholder')}
        title={t('chat.keyHint')}
        aria-describedby="composer-hint"
        onInput={(e) => setDraft(e.currentTarget.value)}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
        enterkeyhint="send"
        data-testid="message-input"
      />
      <span id="composer-hint" class="sr-only">{t('chat.shortcuts')}</span>
      {streaming ? (
        <IconButton class="send-btn stop-btn" label={t('chat.stop')} onClick={onStop} disabled={stopping} testid="stop">
          <StopIcon size={16} />
        </IconButton>
      ) : (
        <button type="submit" class="send-btn" disabled={!canSend} aria-label={t('chat.send')} title={sendTitle ?? t('chat.send')} data-testid="send">
          <ArrowUpIcon size={18} />
        </button>
      )}
      {dragging && (
        <div class="composer-drop" aria-hidden="true">
          {t('attach.drop')}
        </div>
      )}
    </form>
  );
}
