// Export of the shown conversation as Markdown or JSON.

import type { Conversation } from '../types';
import type { ChatMessage } from './use-chat';

function fileName(conv: Conversation | null, id: number, ext: string): string {
  const title = (conv?.title || `chat-${id}`).replace(/[\\/:*?"<>|\s]+/g, '_').slice(0, 60);
  return `${title || 'chat'}.${ext}`;
}

/** Text as a Markdown quote, every line of it. */
const quoted = (text: string) =>
  text
    .split('\n')
    .map((line) => (line.trim() ? `> ${line}` : '>'))
    .join('\n');

export function toMarkdown(
  conv: Conversation | null,
  messages: ChatMessage[],
  labels: { you: string; assistant: string; thinking: string },
): string {
  const parts = [`# ${conv?.title || 'Chat'}`, ''];
  for (const m of messages) {
    parts.push(`## ${m.role === 'user' ? labels.you : labels.assistant}`, '');
    // A reasoning model's thinking comes first, quoted, so that it reads apart from the answer.
    const reasoning = m.reasoning?.trim();
    if (reasoning) parts.push(quoted(`**${labels.thinking}**\n\n${reasoning}`), '');
    parts.push(m.content, '');
    // Attachments as links to the files: they open for their owner, who is the one exporting.
    for (const a of m.attachments ?? [])
      parts.push(`${a.kind === 'image' ? '!' : ''}[${a.name}](${location.origin}/api/files/${a.id})`);
    if (m.attachments?.length) parts.push('');
  }
  return parts.join('\n');
}

export function toJson(conv: Conversation | null, id: number, messages: ChatMessage[]): string {
  return JSON.stringify(
    {
      id,
      title: conv?.title ?? '',
      model: conv?.model,
      created_at: conv?.created_at,
      exported_at: Math.floor(Date.now() / 1000),
      messages: messages.map((m) => ({
        id: m.id,
        parent_id: m.parent_id,
        role: m.role,
        content: m.content,
        ...(m.reasoning ? { reasoning: m.reasoning, reasoning_ms: m.reasoning_ms ?? null } : {}),
        ...(m.attachments?.length ? { attachments: m.attachments } : {}),
        status: m.status,
        created_at: m.created_at,
        model: m.model,
      })),
    },
    null,
    2,
  );
}

export { fileName };
