// A modal dialog frame: focus moves in and back out, Esc closes, Tab stays inside, a click on the
// scrim closes.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

const FOCUSABLE = 'button:not([disabled]), input:not([disabled]), [href], [tabindex]:not([tabindex="-1"])';

interface Props {
  title: string;
  closeLabel: string;
  onClose: () => void;
  testid: string;
  /** Extra attributes tests read (`data-*`). */
  data?: Record<string, string | number | undefined>;
  children: ComponentChildren;
}

export function Modal({ title, closeLabel, onClose, testid, data, children }: Props) {
  const box = useRef<HTMLDivElement>(null);
  // Taken at the first render, before anything inside moves the focus.
  const opener = useRef(document.activeElement as HTMLElement | null);
  const titleId = `${testid}-title`;

  useEffect(() => {
    const el = box.current;
    if (el && !el.contains(document.activeElement)) (el.querySelector<HTMLElement>('[data-autofocus]') ?? el.querySelector<HTMLElement>(FOCUSABLE))?.focus();
    const before = opener.current;
    return () => before?.focus?.();
  }, []);

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
    } else if (e.key === 'Tab' && box.current) {
      const items = [...box.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
      if (items.length === 0) return;
      const first = items[0];
      const last = items[items.length - 1];
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    }
  };

  const attrs = Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [`data-${k}`, v]));
  return (
    <div class="modal-scrim" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div
        class="modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        ref={box}
        onKeyDown={onKeyDown}
        data-testid={testid}
        {...attrs}
      >
        <div class="modal-head">
          <h2 id={titleId}>{title}</h2>
          <button type="button" class="icon-btn" aria-label={closeLabel} onClick={onClose} data-testid={`${testid}-close`}>
            ×
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}
