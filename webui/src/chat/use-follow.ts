// Keeping the newest text in view: the list follows its bottom while the reader is there, stops
// the moment they scroll up (wheel, touch and keys at once; anything else — the scroll bar, find in
// page — when the view has moved up away from the bottom) and follows again once they come back
// down or ask for it (`resume` changes: another conversation, a question sent, the jump button).

import type { RefObject } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

/** How close to the bottom (px) still counts as being at the bottom. */
const SLACK = 48;
const UP_KEYS = new Set(['ArrowUp', 'PageUp', 'Home']);

export function useFollow(scroller: RefObject<HTMLElement | null>, content: RefObject<HTMLElement | null>, resume: unknown) {
  const following = useRef(true);
  const lastTop = useRef(0);
  const touchY = useRef<number | null>(null);
  /** Not at the bottom: the "jump to latest" button shows. */
  const [away, setAway] = useState(false);

  const distance = (el: HTMLElement) => el.scrollHeight - el.scrollTop - el.clientHeight;

  const toBottom = () => {
    const el = scroller.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    lastTop.current = el.scrollTop;
  };

  /** Called after every render that may have changed the content. */
  const stick = () => {
    if (following.current) toBottom();
  };

  const jump = () => {
    following.current = true;
    toBottom();
    setAway(false);
  };

  useLayoutEffect(jump, [resume]);

  /**
   * Reads where the view is. Moving up away from the bottom is the reader leaving it; being back
   * at the bottom by moving down is the reader returning. (Content shrinking under a view at the
   * bottom moves it up too, but leaves it at the bottom.)
   */
  const observe = (el: HTMLElement) => {
    const top = el.scrollTop;
    const near = distance(el) < SLACK;
    if (top < lastTop.current - 1 && !near) following.current = false;
    else if (near && top >= lastTop.current) following.current = true;
    lastTop.current = top;
    return near;
  };

  // Content also grows without a render of the list (code highlighting, formulas, pictures).
  useEffect(() => {
    const el = content.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      const s = scroller.current;
      if (!s) return;
      if (s.scrollTop < lastTop.current - 1 && distance(s) >= SLACK) following.current = false;
      if (following.current) toBottom();
      else setAway(distance(s) >= SLACK);
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const unfollow = () => {
    following.current = false;
  };

  const handlers = {
    onScroll: () => {
      const el = scroller.current;
      if (el) setAway(!observe(el));
    },
    onWheel: (e: WheelEvent) => {
      if (e.deltaY < 0) unfollow();
    },
    onTouchStart: (e: TouchEvent) => {
      touchY.current = e.touches[0]?.clientY ?? null;
    },
    onTouchMove: (e: TouchEvent) => {
      const y = e.touches[0]?.clientY;
      // A finger moving down drags the content down: the reader goes back in time.
      if (touchY.current !== null && y !== undefined && y > touchY.current + 2) unfollow();
      if (y !== undefined) touchY.current = y;
    },
    onKeyDown: (e: KeyboardEvent) => {
      if (UP_KEYS.has(e.key) || (e.key === ' ' && e.shiftKey)) {
        const target = e.target as HTMLElement;
        if (!target.closest('textarea, input')) unfollow();
      }
    },
  };

  return { away, stick, jump, handlers };
}
