// A modal dialog frame: focus moves in and back out, Esc closes, Tab stays inside, a click on the
// scrim closes.

import type { ComponentChildren, RefObject } from 'preact';
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

/**
 * What every dialog does with the focus: it moves to `firstFocus` (or the first control) inside
 * `box` and back to the opener when the dialog goes. The returned key handler closes on Esc and
 * keeps Tab inside; it returns false for any other key, for the dialog's own keys.
 */
export function useDialogFocus(box: RefObject<HTMLElement | null>, onClose: () => void, firstFocus: string) {
  // Taken at the first render, before anything inside moves the focus.
  const opener = useRef(document.activeElement as HTMLElement | null);

  useEffect(() => {
    const el = box.current;
    if (el && !el.contains(document.activeElement)) (el.querySelector<HTMLElement>(firstFocus) ?? el.querySelector<HTMLElement>(FOCUSABLE))?.focus();
    const before = opener.current;
    return () => before?.focus?.();
  }, []);

  return (e: KeyboardEvent): boolean => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
      return true;
    }
    if (e.key !== 'Tab' || !box.current) return false;
    const items = [...box.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    if (items.length === 0) return true;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
    return true;
  };
}

export function Modal({ title, closeLabel, onClose, testid, data, children }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const titleId = `${testid}-title`;
  const onKeyDown = useDialogFocus(box, onClose, '[data-autofocus]');

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
