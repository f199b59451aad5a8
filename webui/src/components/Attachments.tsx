// Attachments on screen: the tray of pending uploads in the composer, and what a question carried
// in its bubble (pictures open full size in a new tab, files download).

import { reasonText, t } from '../i18n';
import { formatSize, type PendingAttachment } from '../chat/use-attachments';
import type { Attachment } from '../types';
import { fileUrl } from '../upload';

export function PaperclipIcon() {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path
        d="M21.4 11.1 12.2 20.3a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.9-2.9l8.5-8.5"
        fill="none"
        stroke="currentColor"
        stroke-width="2"
        stroke-linecap="round"
        stroke-linejoin="round"
      />
    </svg>
  );
}

function FileIcon() {
  return (
    <svg class="attach-file-icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path
        d="M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zM14 2v6h6M8 13h8M8 17h6"
        fill="none"
        stroke="currentColor"
        stroke-width="1.8"
        stroke-linecap="round"
        stroke-linejoin="round"
      />
    </svg>
  );
}

const percent = (share: number) => Math.round(share * 100);

interface TrayProps {
  items: PendingAttachment[];
  onRemove: (key: number) => void;
}

/** The composer's pending attachments: thumbnails for pictures, chips for files. */
export function AttachmentTray({ items, onRemove }: TrayProps) {
  if (items.length === 0) return null;
  const failed = items.filter((it) => it.state === 'failed');
  return (
    <div class="attach-tray">
      <ul class="attach-list" aria-label={t('attach.list')}>
        {items.map((it) => (
          <PendingItem key={it.key} item={it} onRemove={onRemove} />
        ))}
      </ul>
      {failed.length > 0 && (
        <ul class="attach-errors" role="alert">
          {failed.map((it) => (
            <li key={it.key} data-testid="attachment-error" data-reason={it.reason}>
              {t('attach.failedNamed', { name: it.name, reason: reasonText(it.reason) })}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function PendingItem({ item: it, onRemove }: { item: PendingAttachment; onRemove: (key: number) => void }) {
  const uploading = it.state === 'uploading';
  const status = uploading
    ? t('attach.uploading', { n: percent(it.progress) })
    : it.state === 'failed'
      ? t('attach.failed')
      : formatSize(it.size);
  const remove = (
    <button
      type="button"
      class="attach-remove"
      aria-label={t('attach.remove', { name: it.name })}
      title={t('attach.remove', { name: it.name })}
      onClick={() => onRemove(it.key)}
      data-testid="attachment-remove"
    >
      ×
    </button>
  );
  const progress = uploading && (
    <span
      class="attach-progress"
      role="progressbar"
      aria-label={status}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent(it.progress)}
    >
      <span class="attach-spinner" aria-hidden="true" />
    </span>
  );

  if (it.kind === 'image') {
    const src = it.preview ?? (it.uploaded ? fileUrl(it.uploaded.id) : null);
    return (
      <li class="attach-thumb" data-state={it.state} title={`${it.name} · ${status}`} data-testid="attachment-thumb">
        {src ? <img src={src} alt={it.name} /> : <span class="attach-thumb-empty" aria-hidden="true" />}
        {progress}
        {it.state === 'failed' && <span class="attach-failed-mark" aria-hidden="true">!</span>}
        <span class="sr-only">{`${it.name}: ${status}`}</span>
        {remove}
      </li>
    );
  }
  return (
    <li class="attach-chip" data-state={it.state} title={it.name} data-testid="attachment-chip">
      {progress || <FileIcon />}
      <span class="attach-chip-text">
        <span class="attach-name">{it.name}</span>
        <span class="attach-meta">{status}</span>
      </span>
      {remove}
    </li>
  );
}

/** What a question carried, inside its bubble. */
export function MessageAttachments({ attachments }: { attachments: Attachment[] }) {
  const images = attachments.filter((a) => a.kind === 'image');
  const files = attachments.filter((a) => a.kind !== 'image');
  return (
    <div class="msg-attachments" data-testid="message-attachments">
      {images.length > 0 && (
        <div class="msg-images">
          {images.map((a) => (
            <a
              key={a.id}
              class="msg-image"
              href={fileUrl(a.id)}
              target="_blank"
              rel="noopener"
              title={t('attach.open', { name: a.name })}
              data-testid="message-image"
            >
              <img src={fileUrl(a.id)} alt={a.name} decoding="async" />
            </a>
          ))}
        </div>
      )}
      {files.length > 0 && (
        <div class="msg-files">
          {files.map((a) => (
            <a
              key={a.id}
              class="attach-chip msg-file"
              href={fileUrl(a.id)}
              download={a.name}
              title={t('attach.download', { name: a.name })}
              data-testid="message-file"
            >
              <FileIcon />
              <span class="attach-chip-text">
                <span class="attach-name">{a.name}</span>
                <span class="attach-meta">{formatSize(a.size)}</span>
              </span>
            </a>
          ))}
        </div>
      )}
    </div>
  );
}
