// State of the open conversation: the messages shown, the answer being streamed, stop and reset.

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, RpcError, streamAnswer } from '../api';
import { reasonText, t } from '../i18n';
import type { Balance, MessageStatus, StreamDone, StreamFailure } from '../types';

export interface ChatMessage {
  /** Stable list key; exists before the server has assigned an id. */
  key: string;
  id?: number;
  role: 'user' | 'assistant';
  content: string;
  /** `pending` until chat.send has answered. */
  status: 'pending' | MessageStatus;
  /** One line under an answer: its cost, a refund, or why it failed. */
  note?: string;
  reconnecting?: boolean;
}

interface Options {
  onUnauthorized: () => void;
  onBalance: (balance: Balance) => void;
}

let keySeq = 0;
const newKey = () => `m${++keySeq}`;

function doneNote(done: StreamDone): string {
  if (done.free_reason === 'slow') return t('chat.freeSlow');
  if (done.refunded) return t('chat.refunded');
  if (done.charged > 0) return t('chat.charged', { n: done.charged });
  return '';
}

function failureNote(failure: StreamFailure): string {
  const text = reasonText(failure.reason, failure.message);
  return failure.refunded ? `${text} · ${t('chat.refunded')}` : text;
}

export function useChat({ onUnauthorized, onBalance }: Options) {
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [error, setError] = useState<string | null>(null);
  /** From the moment a question is sent until its answer has ended. */
  const [busy, setBusy] = useState(false);
  /** Id of the answer being streamed (what Stop stops). */
  const [streamingId, setStreamingId] = useState<number | null>(null);
  const [stopping, setStopping] = useState(false);

  const conversationId = useRef<number | undefined>(undefined);
  const stream = useRef<AbortController | null>(null);
  // Bumped by reset(): callbacks from an older conversation must not touch the new one.
  const epoch = useRef(0);
  const pendingText = useRef('');
  const pendingKey = useRef<string | null>(null);
  const frame = useRef<number | null>(null);

  const callbacks = useRef({ onUnauthorized, onBalance });
  callbacks.current = { onUnauthorized, onBalance };

  const patch = (key: string, change: (m: ChatMessage) => Partial<ChatMessage>) =>
    setMessages((list) => list.map((m) => (m.key === key ? { ...m, ...change(m) } : m)));

  // Deltas can arrive far faster than the screen refreshes: render at most once per frame.
  const flush = () => {
    if (frame.current !== null) cancelAnimationFrame(frame.current);
    frame.current = null;
    const key = pendingKey.current;
    const text = pendingText.current;
    pendingText.current = '';
    if (key && text) patch(key, (m) => ({ content: m.content + text, status: 'streaming' }));
  };

  const appendDelta = (key: string, text: string) => {
    pendingKey.current = key;
    pendingText.current += text;
    if (frame.current === null) frame.current = requestAnimationFrame(flush);
  };

  const finish = () => {
    stream.current = null;
    setBusy(false);
    setStreamingId(null);
    setStopping(false);
  };

  const send = useCallback(async (content: string): Promise<boolean> => {
    if (busy) return false;
    const myEpoch = epoch.current;
    const userKey = newKey();
    const answerKey = newKey();
    setError(null);
    setBusy(true);
    setMessages((list) => [
      ...list,
      { key: userKey, role: 'user', content, status: 'pending' },
      { key: answerKey, role: 'assistant', content: '', status: 'pending' },
    ]);

    let sent;
    try {
      sent = await api.send({ content, conversation_id: conversationId.current });
    } catch (err) {
      if (epoch.current !== myEpoch) return false;
      setMessages((list) => list.filter((m) => m.key !== userKey && m.key !== answerKey));
      setBusy(false);
      const reason = err instanceof RpcError ? err.reason : 'network';
      if (reason === 'unauthorized') callbacks.current.onUnauthorized();
      else setError(reasonText(reason, err instanceof RpcError ? err.message : undefined));
      return false;
    }
    if (epoch.current !== myEpoch) return true;

    conversationId.current = sent.conversation_id;
    patch(userKey, () => ({ id: sent.user_message_id, status: 'done' }));
    patch(answerKey, () => ({ id: sent.message_id, status: 'streaming' }));
    setStreamingId(sent.message_id);

    const controller = new AbortController();
    stream.current = controller;
    void streamAnswer(sent.stream, {
      signal: controller.signal,
      onDelta: (text) => appendDelta(answerKey, text),
      onReconnect: (attempt) => patch(answerKey, () => ({ reconnecting: attempt > 0 })),
      onDone: (done) => {
        flush();
        patch(answerKey, () => ({ status: done.status, note: doneNote(done), reconnecting: false }));
        callbacks.current.onBalance(done.balance);
        finish();
      },
      onError: (failure) => {
        flush();
        patch(answerKey, () => ({ status: 'failed', note: failureNote(failure), reconnecting: false }));
        finish();
        if (failure.reason === 'unauthorized') callbacks.current.onUnauthorized();
      },
    });
    return true;
  }, [busy]);

  const stop = useCallback(async () => {
    if (streamingId === null || stopping) return;
    setStopping(true);
    try {
      // The stream then ends with `done` (status "stopped"), which settles the state.
      await api.stop(streamingId);
    } catch (err) {
      setStopping(false);
      const reason = err instanceof RpcError ? err.reason : 'network';
      if (reason === 'unauthorized') callbacks.current.onUnauthorized();
      else setError(reasonText(reason, err instanceof RpcError ? err.message : undefined));
    }
  }, [streamingId, stopping]);

  /** Leaves the conversation; an answer still running keeps going on the server. */
  const reset = useCallback(() => {
    epoch.current++;
    stream.current?.abort();
    if (frame.current !== null) cancelAnimationFrame(frame.current);
    frame.current = null;
    pendingText.current = '';
    pendingKey.current = null;
    conversationId.current = undefined;
    setMessages([]);
    setError(null);
    finish();
  }, []);

  useEffect(() => () => stream.current?.abort(), []);

  return {
    messages,
    error,
    dismissError: () => setError(null),
    busy,
    streaming: streamingId !== null,
    stopping,
    send,
    stop,
    reset,
  };
}
