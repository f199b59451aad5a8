// State of the open conversation. Messages form a tree (edit & resend and regenerate add
// siblings); the page shows one branch: the path from the root to `leaf`. Also: sending, streaming
// (at most one render per animation frame), re-attaching to a running answer after a reload, stop.

import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, RpcError, streamAnswer } from '../api';
import { reasonText, t } from '../i18n';
import type { Attachment, Balance, ChatSendResult, Conversation, MessageStatus, StreamDone, StreamFailure } from '../types';

export interface ChatMessage {
  /** Server id; negative while chat.send has not answered yet. */
  id: number;
  parent_id: number | null;
  role: 'user' | 'assistant';
  content: string;
  /** A reasoning model's thinking before the answer (shown apart from it). */
  reasoning?: string;
  /** How long it thought (ms): the server's figure, or measured here while it streamed live. */
  reasoning_ms?: number | null;
  /** `pending` until chat.send has answered. */
  status: 'pending' | MessageStatus;
  /** One line under an answer: its cost, a refund, or why it failed. */
  note?: string;
  reconnecting?: boolean;
  model?: string;
  created_at?: number;
  /** What a question carried: pictures and files, already uploaded. */
  attachments?: Attachment[];
}

export interface SendOptions {
  model?: string;
  role_id?: number;
  system_prompt?: string;
  attachments?: Attachment[];
}

interface Options {
  onUnauthorized: () => void;
  onBalance: (balance: Balance) => void;
  /** A conversation was created or its list entry changed (new question, answer finished). */
  onConversationChanged: (id: number, created: boolean) => void;
}

interface Tree {
  nodes: Map<number, ChatMessage>;
  leaf: number | null;
}

const EMPTY: Tree = { nodes: new Map(), leaf: null };
let tempSeq = 0;

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

/** Why a call failed, in words, with its reason (the screen offers ways out for some). */
interface ChatError {
  text: string;
  reason: string;
}

function errorOf(err: unknown): ChatError {
  const reason = err instanceof RpcError ? err.reason : 'network';
  return { text: reasonText(reason, err instanceof RpcError ? err.message : undefined), reason };
}

/** Children of each message (null = roots), oldest first. */
export function childrenOf(nodes: Map<number, ChatMessage>): Map<number | null, number[]> {
  const out = new Map<number | null, number[]>();
  for (const m of nodes.values()) {
    const list = out.get(m.parent_id);
    if (list) list.push(m.id);
    else out.set(m.parent_id, [m.id]);
  }
  // Pending messages (negative ids) are the newest.
  const order = (a: number, b: number) => (a < 0 ? 1e15 - a : a) - (b < 0 ? 1e15 - b : b);
  for (const list of out.values()) list.sort(order);
  return out;
}

/** The newest leaf below `id`, following the newest child at each step. */
function newestLeaf(children: Map<number | null, number[]>, id: number): number {
  for (;;) {
    const kids = children.get(id);
    if (!kids || kids.length === 0) return id;
    id = kids[kids.length - 1];
  }
}

function pathTo(nodes: Map<number, ChatMessage>, leaf: number | null): ChatMessage[] {
  const out: ChatMessage[] = [];
  const seen = new Set<number>();
  let id = leaf;
  while (id !== null && !seen.has(id)) {
    seen.add(id);
    const m = nodes.get(id);
    if (!m) break;
    out.push(m);
    id = m.parent_id;
  }
  return out.reverse();
}

export function useChat({ onUnauthorized, onBalance, onConversationChanged }: Options) {
  const [tree, setTree] = useState<Tree>(EMPTY);
  const [conversation, setConversation] = useState<Conversation | null>(null);
  const [conversationId, setConversationId] = useState<number | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ChatError | null>(null);
  /** From the moment a question is sent until its answer has ended. */
  const [busy, setBusy] = useState(false);
  /** Id of the answer being streamed (what Stop stops). */
  const [streamingId, setStreamingId] = useState<number | null>(null);
  const [stopping, setStopping] = useState(false);

  const convRef = useRef<number | null>(null);
  const stream = useRef<AbortController | null>(null);
  // Bumped when leaving a conversation: callbacks from an older one must not touch the new one.
  const epoch = useRef(0);
  const pendingText = useRef('');
  const pendingReasoning = useRef('');
  const pendingId = useRef<number | null>(null);
  const frame = useRef<number | null>(null);
  const treeRef = useRef(tree);
  treeRef.current = tree;

  const callbacks = useRef({ onUnauthorized, onBalance, onConversationChanged });
  callbacks.current = { onUnauthorized, onBalance, onConversationChanged };

  const patch = (id: number, change: (m: ChatMessage) => Partial<ChatMessage>) =>
    setTree((tr) => {
      const m = tr.nodes.get(id);
      if (!m) return tr;
      const nodes = new Map(tr.nodes);
      nodes.set(id, { ...m, ...change(m) });
      return { nodes, leaf: tr.leaf };
    });

  // Deltas (and reasoning) can arrive far faster than the screen refreshes: render at most once
  // per frame.
  const flush = () => {
    if (frame.current !== null) cancelAnimationFrame(frame.current);
    frame.current = null;
    const id = pendingId.current;
    const text = pendingText.current;
    const reasoning = pendingReasoning.current;
    pendingText.current = '';
    pendingReasoning.current = '';
    if (id !== null && (text || reasoning)) {
      patch(id, (m) => ({ content: m.content + text, reasoning: (m.reasoning ?? '') + reasoning, status: 'streaming' }));
    }
  };

  const append = (id: number, text: string, kind: 'answer' | 'reasoning') => {
    if (pendingId.current !== id) flush();
    pendingId.current = id;
    if (kind === 'answer') pendingText.current += text;
    else pendingReasoning.current += text;
    if (frame.current === null) frame.current = requestAnimationFrame(flush);
  };

  const finish = () => {
    stream.current = null;
    setBusy(false);
    setStreamingId(null);
    setStopping(false);
  };

  /** Reads an answer's stream into message `id` (from its start, or after byte offset `after`). */
  const attach = (id: number, path: string, after?: number) => {
    const myEpoch = epoch.current;
    setBusy(true);
    setStreamingId(id);
    const controller = new AbortController();
    stream.current = controller;
    const alive = () => epoch.current === myEpoch;
    // The thinking time, from the first reasoning event to the answer's first delta (or the end),
    // unless the server's figure is already known.
    let thinkingSince: number | null = null;
    let thought = false;
    const endThinking = () => {
      if (thinkingSince === null) return;
      const ms = Math.round(performance.now() - thinkingSince);
      thinkingSince = null;
      thought = true;
      patch(id, (m) => ({ reasoning_ms: m.reasoning_ms ?? ms }));
    };
    void streamAnswer(path, {
      signal: controller.signal,
      after,
      onReasoning: (text) => {
        if (!alive()) return;
        if (thinkingSince === null && !thought) thinkingSince = performance.now();
        append(id, text, 'reasoning');
      },
      onDelta: (text) => {
        if (!alive()) return;
        endThinking();
        append(id, text, 'answer');
      },
      onReconnect: (attempt) => alive() && patch(id, () => ({ reconnecting: attempt > 0 })),
      onDone: (done) => {
        if (!alive()) return;
        flush();
        endThinking();
        patch(id, () => ({ status: done.status, note: doneNote(done), reconnecting: false }));
        callbacks.current.onBalance(done.balance);
        finish();
        if (convRef.current !== null) callbacks.current.onConversationChanged(convRef.current, false);
      },
      onError: (failure) => {
        if (!alive()) return;
        flush();
        endThinking();
        patch(id, () => ({ status: 'failed', note: failureNote(failure), reconnecting: false }));
        finish();
        if (failure.reason === 'unauthorized') callbacks.current.onUnauthorized();
      },
    });
  };

  /** Leaves the conversation; an answer still running keeps going on the server. */
  const leave = () => {
    epoch.current++;
    stream.current?.abort();
    if (frame.current !== null) cancelAnimationFrame(frame.current);
    frame.current = null;
    pendingText.current = '';
    pendingReasoning.current = '';
    pendingId.current = null;
    finish();
  };

  const reset = useCallback(() => {
    leave();
    convRef.current = null;
    setConversationId(null);
    setConversation(null);
    setTree(EMPTY);
    setError(null);
    setLoading(false);
  }, []);

  /** Opens a stored conversation; re-attaches to its answer if one is still being written. */
  const load = useCallback(async (id: number): Promise<boolean> => {
    leave();
    convRef.current = id;
    setConversationId(id);
    setError(null);
    setLoading(true);
    setTree(EMPTY);
    const myEpoch = epoch.current;
    let conv: Conversation;
    try {
      conv = await api.getConversation(id);
    } catch (err) {
      if (epoch.current !== myEpoch) return false;
      setLoading(false);
      const reason = err instanceof RpcError ? err.reason : 'network';
      if (reason === 'unauthorized') callbacks.current.onUnauthorized();
      else setError(reason === 'not_found' ? { text: t('conv.notFound'), reason } : errorOf(err));
      if (reason === 'not_found') {
        convRef.current = null;
        setConversationId(null);
      }
      return false;
    }
    if (epoch.current !== myEpoch) return false;
    const nodes = new Map<number, ChatMessage>();
    for (const m of conv.messages) {
      nodes.set(m.id, {
        id: m.id,
        parent_id: m.parent_id,
        role: m.role,
        content: m.content,
        reasoning: m.reasoning ?? '',
        reasoning_ms: m.reasoning_ms ?? null,
        status: m.status,
        model: m.model,
        created_at: m.created_at,
        attachments: m.attachments,
        note:
          m.status === 'failed' && m.error
            ? reasonText(m.error.reason, m.error.message)
            : m.status === 'interrupted'
              ? t('chat.failed')
              : undefined,
      });
    }
    let leaf = conv.current_leaf_id;
    if (leaf === null || !nodes.has(leaf)) {
      leaf = conv.messages.length ? Math.max(...conv.messages.map((m) => m.id)) : null;
    }
    const running = pathTo(nodes, leaf).find((m) => m.role === 'assistant' && m.status === 'streaming');
    if (running) nodes.set(running.id, { ...running, content: '', reasoning: '' });
    setConversation({ ...conv, messages: [] });
    setTree({ nodes, leaf });
    setLoading(false);
    // The stream replays the whole reasoning and text so far, then continues live.
    if (running) attach(running.id, `/api/stream/${running.id}`);
    return true;
  }, []);

  const accepted = (sent: ChatSendResult, tempUser: number | null, tempAnswer: number, parent: number | null) => {
    setTree((tr) => {
      const nodes = new Map(tr.nodes);
      if (tempUser !== null) {
        const u = nodes.get(tempUser);
        nodes.delete(tempUser);
        if (u) nodes.set(sent.user_message_id, { ...u, id: sent.user_message_id, parent_id: parent, status: 'done' });
      }
      const a = nodes.get(tempAnswer);
      nodes.delete(tempAnswer);
      if (a) nodes.set(sent.message_id, { ...a, id: sent.message_id, parent_id: sent.user_message_id, status: 'streaming' });
      return { nodes, leaf: tr.leaf === tempAnswer ? sent.message_id : tr.leaf };
    });
  };

  const rejected = (err: unknown, temps: number[], oldLeaf: number | null) => {
    setTree((tr) => {
      const nodes = new Map(tr.nodes);
      for (const id of temps) nodes.delete(id);
      return { nodes, leaf: oldLeaf };
    });
    setBusy(false);
    const reason = err instanceof RpcError ? err.reason : 'network';
    if (reason === 'unauthorized') callbacks.current.onUnauthorized();
    else setError(errorOf(err));
  };

  /**
   * Sends a question after the shown branch, or (with `parentId`, for edit & resend) as a new
   * sibling under that parent. Resolves false when it was not accepted.
   */
  const send = useCallback(async (content: string, options: SendOptions = {}, parentId?: number | null): Promise<boolean> => {
    if (busy) return false;
    const myEpoch = epoch.current;
    const oldLeaf = treeRef.current.leaf;
    const parent = parentId !== undefined ? parentId : oldLeaf !== null && oldLeaf > 0 ? oldLeaf : null;
    const userId = -++tempSeq;
    const answerId = -++tempSeq;
    setError(null);
    setBusy(true);
    setTree((tr) => {
      const nodes = new Map(tr.nodes);
      nodes.set(userId, {
        id: userId,
        parent_id: parent,
        role: 'user',
        content,
        status: 'pending',
        ...(options.attachments?.length ? { attachments: options.attachments } : {}),
      });
      nodes.set(answerId, { id: answerId, parent_id: userId, role: 'assistant', content: '', status: 'pending' });
      return { nodes, leaf: answerId };
    });

    const conv = convRef.current;
    let sent: ChatSendResult;
    try {
      sent = await api.send({
        content,
        ...(options.attachments?.length ? { attachments: options.attachments.map((a) => a.id) } : {}),
        ...(conv !== null ? { conversation_id: conv } : {}),
        // An edit of the first question (no parent) starts a new root: parent_id 0.
        ...(conv !== null && parent !== null ? { parent_id: parent } : {}),
        ...(conv !== null && parentId === null ? { parent_id: 0 } : {}),
        ...(options.model ? { model: options.model } : {}),
        ...(conv === null && options.role_id !== undefined ? { role_id: options.role_id } : {}),
        ...(conv === null && options.system_prompt ? { system_prompt: options.system_prompt } : {}),
      });
    } catch (err) {
      if (epoch.current !== myEpoch) return false;
      rejected(err, [userId, answerId], oldLeaf);
      return false;
    }
    if (epoch.current !== myEpoch) return true;

    const created = conv === null;
    convRef.current = sent.conversation_id;
    setConversationId(sent.conversation_id);
    accepted(sent, userId, answerId, parent);
    callbacks.current.onConversationChanged(sent.conversation_id, created);
    attach(sent.message_id, sent.stream);
    return true;
  }, [busy]);

  /** Asks again for the answer `messageId`: a new sibling answer under the same question. */
  const regenerate = useCallback(async (messageId: number) => {
    if (busy) return;
    const old = treeRef.current.nodes.get(messageId);
    if (!old || old.parent_id === null) return;
    const myEpoch = epoch.current;
    const oldLeaf = treeRef.current.leaf;
    const answerId = -++tempSeq;
    setError(null);
    setBusy(true);
    setTree((tr) => {
      const nodes = new Map(tr.nodes);
      nodes.set(answerId, { id: answerId, parent_id: old.parent_id, role: 'assistant', content: '', status: 'pending' });
      return { nodes, leaf: answerId };
    });
    let sent: ChatSendResult;
    try {
      sent = await api.regenerate(messageId);
    } catch (err) {
      if (epoch.current !== myEpoch) return;
      rejected(err, [answerId], oldLeaf);
      return;
    }
    if (epoch.current !== myEpoch) return;
    accepted(sent, null, answerId, old.parent_id);
    attach(sent.message_id, sent.stream);
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
      else setError(errorOf(err));
    }
  }, [streamingId, stopping]);

  const children = useMemo(() => childrenOf(tree.nodes), [tree.nodes]);
  const messages = useMemo(() => pathTo(tree.nodes, tree.leaf), [tree]);

  /** Shows the sibling `step` places away from `id` (and the newest branch below it). */
  const switchBranch = useCallback((id: number, step: number) => {
    if (busy) return;
    setTree((tr) => {
      const m = tr.nodes.get(id);
      if (!m) return tr;
      const kids = childrenOf(tr.nodes);
      const siblings = kids.get(m.parent_id) ?? [];
      const target = siblings[siblings.indexOf(id) + step];
      if (target === undefined) return tr;
      return { nodes: tr.nodes, leaf: newestLeaf(kids, target) };
    });
  }, [busy]);

  useEffect(() => () => stream.current?.abort(), []);

  return {
    conversationId,
    conversation,
    messages,
    children,
    allMessages: tree.nodes,
    loading,
    error: error?.text ?? null,
    errorReason: error?.reason ?? null,
    dismissError: () => setError(null),
    busy,
    streaming: streamingId !== null,
    stopping,
    send,
    regenerate,
    switchBranch,
    stop,
    reset,
    load,
  };
}
