import { useState } from 'preact/hooks';
import { t } from '../i18n';
import { Markdown } from './Markdown';

interface Props {
  /** The message's id: names the folding part for aria-controls. */
  id: number;
  text: string;
  /** How long the model thought (ms); null or absent when unknown. */
  ms?: number | null;
  /** The model is still thinking: the message is live and its answer has not started. */
  thinking: boolean;
}

/** Whole seconds, at least 1: a thought that was shown took some time. */
const seconds = (ms: number) => Math.max(1, Math.round(ms / 1000));

/**
 * A reasoning model's thinking above its answer. Open while the model thinks; once the answer
 * starts (or the message ends) it folds by itself into a one-line summary the reader can open
 * again. The reader's own choice holds until the phase changes.
 */
export function Reasoning({ id, text, ms, thinking }: Props) {
  const [choice, setChoice] = useState<{ thinking: boolean; open: boolean } | null>(null);
  const open = choice !== null && choice.thinking === thinking ? choice.open : thinking;
  const bodyId = `reasoning-${id}`;
  const label = thinking
    ? t('reasoning.live')
    : ms !== null && ms !== undefined
      ? t('reasoning.done', { n: seconds(ms) })
      : t('reasoning.doneNoTime');
  return (
    <div class={thinking ? 'reasoning reasoning-live' : 'reasoning'} data-testid="reasoning" data-state={thinking ? 'thinking' : 'done'}>
      <button
        type="button"
        class="reasoning-toggle"
        aria-expanded={open}
        aria-controls={bodyId}
        onClick={() => setChoice({ thinking, open: !open })}
        data-testid="reasoning-toggle"
      >
        {thinking && <span class="reasoning-pulse" aria-hidden="true" />}
        <span class="reasoning-label">{label}</span>
        <span class="reasoning-chevron" aria-hidden="true" />
      </button>
      <div id={bodyId} class="reasoning-body" hidden={!open} data-testid="reasoning-text">
        {open && <Markdown text={text} streaming={thinking} />}
      </div>
    </div>
  );
}
