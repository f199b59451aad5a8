// Themes are sets of CSS variables keyed by `data-theme` on <html>. The choice is kept on the
// server (me.update) and cached in localStorage so /theme-boot.js can apply it before first paint.

export const THEMES = ['light', 'dark', 'system', 'sepia'] as const;
export type Theme = (typeof THEMES)[number];
const KEY = 'chatd.theme';

export function isTheme(x: unknown): x is Theme {
  return typeof x === 'string' && (THEMES as readonly string[]).includes(x);
}

let media: MediaQueryList | null = null;
let chosen: Theme = 'light';

function paint() {
  const dark = media?.matches ?? false;
  const actual = chosen === 'system' ? (dark ? 'dark' : 'light') : chosen;
  document.documentElement.dataset.theme = actual;
  document.documentElement.dataset.themeChoice = chosen;
  syncThemeColor();
}

/** The browser's own bars (an installed app's title bar, a phone's status bar) match the page. */
export function syncThemeColor(): void {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="theme-color"]');
  const surface = getComputedStyle(document.documentElement).getPropertyValue('--surface').trim();
  if (meta && surface) meta.content = surface;
}

export function applyTheme(theme: Theme): void {
  chosen = theme;
  if (!media) {
    media = matchMedia('(prefers-color-scheme: dark)');
    media.addEventListener('change', () => chosen === 'system' && paint());
  }
  paint();
  try {
    localStorage.setItem(KEY, theme);
  } catch {
    // private mode: the server still remembers it
  }
}

export function currentTheme(): Theme {
  return chosen;
}
