// Attachments over plain HTTP (CONTRACT.md §10): `POST /api/upload` and `GET /api/files/{id}`.
// XMLHttpRequest rather than fetch: only it reports upload progress.

import type { UploadResult } from './types';

/** A refused or failed upload; `reason` is one of the API's reasons (`too_large`…) or `network`. */
export class UploadError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'UploadError';
  }
}

/** Where the owner (or an admin) reads an upload back: an image's full size, a file's download. */
export const fileUrl = (id: string) => `/api/files/${encodeURIComponent(id)}`;

function reasonOf(status: number, body: unknown): string {
  const reason = (body as { error?: { reason?: unknown } } | null)?.error?.reason;
  if (typeof reason === 'string') return reason;
  if (status === 401) return 'unauthorized';
  if (status === 413) return 'too_large';
  if (status === 415) return 'unsupported_type';
  if (status === 403) return 'forbidden';
  return 'server_error';
}

/**
 * Uploads one file as the multipart part `file`. `onProgress` gets the share sent so far (0…1).
 * Rejects with UploadError; an abort through `signal` rejects with reason `aborted`.
 */
export function uploadFile(
  file: File,
  { onProgress, signal }: { onProgress?: (share: number) => void; signal?: AbortSignal } = {},
): Promise<UploadResult> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new UploadError('aborted'));
      return;
    }
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    signal?.addEventListener('abort', abort);
    const settle = () => signal?.removeEventListener('abort', abort);

    xhr.open('POST', '/api/upload');
    xhr.responseType = 'json';
    xhr.withCredentials = true;
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress?.(e.loaded / e.total);
    };
    xhr.onload = () => {
      settle();
      const body: unknown = xhr.response;
      if (xhr.status === 200 && body && typeof (body as UploadResult).id === 'string') resolve(body as UploadResult);
      else reject(new UploadError(reasonOf(xhr.status, body)));
    };
    // The daemon answers a body over its limit with 413 before reading it and closes the
    // connection; a browser still sending may then see only a network error.
    xhr.onerror = () => {
      settle();
      reject(new UploadError('network'));
    };
    xhr.onabort = () => {
      settle();
      reject(new UploadError('aborted'));
    };

    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}
