// A popover menu (WAI-ARIA menu button): the button carries aria-haspopup/aria-expanded; the panel
// is role="menu". Arrow keys, Home and End move between items; Escape, an outside click or
// choosing an item closes it and gives the focus back to the button.

import type { ComponentChildren, JSX, Ref } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';

const ITEMS = '[role="menuitem"],[role="menuitemradio"],[role="menuitemcheckbox"]';

export interface TriggerProps {
  ref: Ref<HTMLButtonElement>;
  'aria-haspopup': 'menu';
  'aria-expanded': boolean;
  onClick: (e: MouseEvent) => void;
  onKeyDown: (e: KeyboardEvent) => void;
}

interface Props {
  /** Draws the button from the attributes it must carry. */
  trigger: (props: TriggerProps) => JSX.Element;
  /** Names the menu for screen readers. */
  label: string;
  /** Which edge of the button the panel lines up with, and whether it opens below or above. */
  align?: 'start' | 'end';
  place?: 'down' | 'up';
  class?: string;
  panelClass?: string;
  testid?: string;
  /** A picker: opening focuses the current choice rather than the first item. */
  focusChecked?: boolean;
  children: ComponentChildren;
}

const items = (panel: HTMLElement | null) =>
  panel ? [...panel.querySelectorAll<HTMLElement>(ITEMS)].filter((el) => !el.hasAttribute('disabled')) : [];

export function Menu({ trigger, label, align = 'end', place = 'down', class: cls, panelClass, testid, focusChecked, children }: Props) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const wrap = useRef<HTMLDivElement>(null);
  /** Which item takes the focus when the panel opens. */
  const focusOnOpen = useRef<'first' | 'last'>('first');

  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };

  // At once after the panel renders: a click or key right after opening must already be seen.
  useLayoutEffect(() => {
    if (!open) return;
    const list = items(panel.current);
    const checked = focusChecked ? list.find((el) => el.getAttribute('aria-checked') === 'true') : undefined;
    (focusOnOpen.current === 'last' ? list[list.length - 1] : (checked ?? list[0]))?.focus();
    const outside = (e: PointerEvent) => {
      if (wrap.current && !wrap.current.contains(e.target as Node)) {
        const hadFocus = wrap.current.contains(document.activeElement);
        setOpen(false);
        if (hadFocus) button.current?.focus();
      }
    };
    // Escape closes the menu wherever the focus went (and does nothing else, such as stopping an answer).
    const escape = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.isComposing) return;
      e.preventDefault();
      e.stopPropagation();
      close(true);
    };
    document.addEventListener('pointerdown', outside, true);
    document.addEventListener('keydown', escape, true);
    return () => {
      document.removeEventListener('pointerdown', outside, true);
      document.removeEventListener('keydown', escape, true);
    };
  }, [open]);

  const onTriggerKey = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      focusOnOpen.current = e.key === 'ArrowUp' ? 'last' : 'first';
      setOpen(true);
    }
  };

  const onPanelKey = (e: KeyboardEvent) => {
    const list = items(panel.current);
    const at = list.indexOf(document.activeElement as HTMLElement);
    const go = (i: number) => {
      e.preventDefault();
      list[(i + list.length) % list.length]?.focus();
    };
    switch (e.key) {
      case 'ArrowDown':
        return go(at + 1);
      case 'ArrowUp':
        return go(at < 0 ? -1 : at - 1);
      case 'Home':
        return go(0);
      case 'End':
        return go(-1);
      case 'Tab':
        return setOpen(false);
    }
  };

  // Choosing an item (a click or Enter/Space on its button) closes the menu.
  const onPanelClick = (e: MouseEvent) => {
    const item = (e.target as Element).closest?.(ITEMS);
    if (item && !item.hasAttribute('disabled')) close(item.tagName !== 'A');
  };

  return (
    <div class={cls ? `menu ${cls}` : 'menu'} ref={wrap}>
      {trigger({
        ref: button,
        'aria-haspopup': 'menu',
        'aria-expanded': open,
        onClick: () => {
          focusOnOpen.current = 'first';
          setOpen((o) => !o);
        },
        onKeyDown: onTriggerKey,
      })}
      {open && (
        <div
          ref={panel}
          class={panelClass ? `menu-pop ${panelClass}` : 'menu-pop'}
          role="menu"
          aria-label={label}
          data-align={align}
          data-place={place}
          onKeyDown={onPanelKey}
          onClick={onPanelClick}
          data-testid={testid}
        >
          {children}
        </div>
      )}
    </div>
  );
}

interface ItemProps {
  icon?: ComponentChildren;
  onSelect?: () => void;
  href?: string;
  /** For a choice among several (theme, language, model): a menuitemradio. */
  checked?: boolean;
  testid?: string;
  value?: string;
  title?: string;
  class?: string;
  children: ComponentChildren;
}

/** One entry of a menu: a button, a link (`href`) or, with `checked`, one of a set of choices. */
export function MenuItem({ icon, onSelect, href, checked, testid, value, title, class: cls, children }: ItemProps) {
  const common = {
    class: cls ? `menu-item ${cls}` : 'menu-item',
    tabIndex: -1,
    title,
    'data-testid': testid,
    'data-value': value,
  };
  if (href !== undefined) {
    return (
      <a {...common} role="menuitem" href={href}>
        {icon}
        <span class="menu-item-label">{children}</span>
      </a>
    );
  }
  return (
    <button
      {...common}
      type="button"
      role={checked === undefined ? 'menuitem' : 'menuitemradio'}
      aria-checked={checked === undefined ? undefined : checked}
      onClick={onSelect}
    >
      {icon}
      <span class="menu-item-label">{children}</span>
    </button>
  );
}
