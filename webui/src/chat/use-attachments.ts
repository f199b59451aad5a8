// The attachments waiting in the composer: each is uploaded as soon as it is added (a large picture
// scaled down first), so that sending is only a matter of naming the upload ids.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { Attachment } from '../types';
import { UploadError, uploadFile } from '../upload';
import { shrinkImage } from './shrink-image';

/** What a question may carry (CONTRACT.md §10; the daemon refuses more). */
export const MAX_IMAGES = 4;
export const MAX_FILES = 4;

const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'];
// The text files the daemon reads (daemon/src/files/file_types.cpp): browsers give many of them
// no MIME type, so the picker offers them by extension.
const TEXT_EXTENSIONS = [
  'txt', 'log', 'md', 'markdown', 'csv', 'tsv', 'json', 'jsonl', 'yaml', 'yml', 'toml', 'ini', 'xml',
  'html', 'css', 'js', 'jsx', 'ts', 'tsx', 'py', 'c', 'h', 'cpp', 'hpp', 'cc', 'java', 'go', 'rs', 'rb',
  'php', 'sh', 'sql', 'kt', 'swift', 'lua', 'r', 'm',
];

/** The file picker's `accept`: the pictures, PDF and text files the daemon takes. */
export const ACCEPT = [...IMAGE_TYPES, 'application/pdf', '.pdf', 'text/*', ...TEXT_EXTENSIONS.map((e) => `.${e}`)].join(',');

export interface PendingAttachment {
  key: number;
  name: string;
  size: number;
  kind: 'image' | 'file';
  /** A local `blob:` URL of the picture, shown until (and after) it is uploaded. */
  preview: string | null;
  state: 'uploading' | 'ready' | 'failed';
  /** Share of the bytes sent, 0…1. */
  progress: number;
  /** Why it failed: an API reason (`too_large`, `unsupported_type`…) or `network`. */
  reason?: string;
  uploaded?: Attachment;
}

let nextKey = 0;

const isImage = (file: File) => IMAGE_TYPES.includes(file.type);

/** "12 KB", "3.4 MB": sizes as people read them. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function useAttachments() {
  const [items, setItemsState] = useState<PendingAttachment[]>([]);
  /** Files were left out because a question carries at most 4 images and 4 files. */
  const [overLimit, setOverLimit] = useState(false);
  // The list as of now, not as of the last render: two quick additions must count each other.
  const current = useRef<PendingAttachment[]>([]);
  const uploads = useRef(new Map<number, AbortController>());

  const setItems = (change: (list: PendingAttachment[]) => PendingAttachment[]) => {
    current.current = change(current.current);
    setItemsState(current.current);
  };
  const update = (key: number, change: Partial<PendingAttachment>) =>
    setItems((list) => list.map((it) => (it.key === key ? { ...it, ...change } : it)));

  const upload = async (key: number, file: File, image: boolean) => {
    const controller = new AbortController();
    uploads.current.set(key, controller);
    try {
      const prepared = image ? await shrinkImage(file) : file;
      if (controller.signal.aborted) return;
      const uploaded = await uploadFile(prepared, {
        signal: controller.signal,
        onProgress: (share) => update(key, { progress: share }),
      });
      const { id, name, mime, size, kind } = uploaded;
      update(key, { state: 'ready', progress: 1, kind, size, uploaded: { id, name, mime, size, kind } });
    } catch (err) {
      if (controller.signal.aborted) return;
      update(key, { state: 'failed', reason: err instanceof UploadError ? err.reason : 'unknown' });
    } finally {
      uploads.current.delete(key);
    }
  };

  const forget = (it: PendingAttachment) => {
    uploads.current.get(it.key)?.abort();
    if (it.preview) URL.revokeObjectURL(it.preview);
  };

  /** Adds files and starts uploading them; those over the limits are left out (and said so). */
  const add = (files: File[]) => {
    if (files.length === 0) return;
    const kept = current.current.filter((it) => it.state !== 'failed');
    let images = kept.filter((it) => it.kind === 'image').length;
    let others = kept.length - images;
    let refused = false;
    const added: { item: PendingAttachment; file: File }[] = [];
    for (const file of files) {
      const image = isImage(file);
      if (image ? images >= MAX_IMAGES : others >= MAX_FILES) {
        refused = true;
        continue;
      }
      if (image) images++;
      else others++;
      added.push({
        file,
        item: {
          key: ++nextKey,
          name: file.name || (image ? 'image' : 'file'),
          size: file.size,
          kind: image ? 'image' : 'file',
          preview: image ? URL.createObjectURL(file) : null,
          state: 'uploading',
          progress: 0,
        },
      });
    }
    setOverLimit(refused);
    if (added.length === 0) return;
    setItems((list) => [...list, ...added.map((a) => a.item)]);
    for (const { item, file } of added) void upload(item.key, file, item.kind === 'image');
  };

  const remove = (key: number) => {
    const it = current.current.find((x) => x.key === key);
    if (it) forget(it);
    setItems((list) => list.filter((x) => x.key !== key));
    setOverLimit(false);
  };

  /** Empties the tray (after the question was sent). */
  const clear = () => {
    current.current.forEach(forget);
    setItems(() => []);
    setOverLimit(false);
  };

  useEffect(() => () => current.current.forEach(forget), []);

  const live = items.filter((it) => it.state !== 'failed');
  return {
    items,
    add,
    remove,
    clear,
    overLimit,
    dismissOverLimit: () => setOverLimit(false),
    /** What to send: the uploads that finished. */
    ready: items.flatMap((it) => (it.state === 'ready' && it.uploaded ? [it.uploaded] : [])),
    uploading: items.some((it) => it.state === 'uploading'),
    hasImages: live.some((it) => it.kind === 'image'),
  };
}
