import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n';

interface Props {
  busy: boolean;
  streaming: boolean;
  stopping: boolean;
  /** Resolves false when the question was not accepted; the draft is then put back. */
  onSend: (content: string) => Promise<boolean>;
  onStop: () => void;
}

const MAX_HEIGHT = 200;

export function Composer({ busy, streaming, stopping, onSend, onStop }: Props) {
  const [draft, setDraft] = useState('');
  const input = useRef<HTMLTextAreaElement>(null);

  // Grow with the text up to a limit, then scroll inside.
  useLayoutEffect(() => {
    const el = input.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT)}px`;
  }, [draft]);

  const submit = async () => {
    const content = draft.trim();
    if (!content || busy) return;
    setDraft('');
    const accepted = await onSend(content);
    if (!accepted) setDraft((current) => current || content);
    input.current?.focus();
  };

  const onKeyDown = (e: KeyboardEvent) => {
    // Enter while an input method is composing (pinyin etc.) confirms the candidate, not sends.
    if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    void submit();
  };

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <label for="composer-input" class="sr-only">
        {t('chat.input')}
      </label>
      <textarea
        id="composer-input"
        ref={input}
        rows={1}
        value={draft}
        placeholder={t('chat.placeholder')}
        title={t('chat.keyHint')}
        aria-describedby="composer-hint"
        onInput={(e) => setDraft(e.currentTarget.value)}
        onKeyDown={onKeyDown}
        enterkeyhint="send"
        data-testid="message-input"
      />
      <span id="composer-hint" class="sr-only">{t('chat.shortcuts')}</span>
      {streaming ? (
        <button type="button" class="btn btn-stop" onClick={onStop} disabled={stopping} data-testid="stop">
          {t('chat.stop')}
        </button>
      ) : (
        <button
          type="submit"
          class="btn btn-primary"
          disabled={busy || draft.trim() === ''}
          data-testid="send"
        >
          {t('chat.send')}
        </button>
      )}
    </form>
  );
}
