// Markdown → sanitized HTML for assistant messages.
//
// marked (GFM) renders, DOMPurify sanitizes everything that comes out. Raw HTML in the source is
// shown as text, links are limited to http/https/mailto, images become links (the page loads
// nothing from other origins). Math is cut out before marked sees it (so `_` and `*` inside a
// formula stay intact) and put back as KaTeX MathML afterwards. highlight.js and KaTeX are loaded
// on first need; until they arrive, code is plain and math shows its source.
//
// While an answer streams, StreamRenderer keeps the HTML of finished top-level blocks and
// re-parses only the tail after the last block boundary.

import DOMPurify from 'dompurify';
import { Marked } from 'marked';
import { t } from '../i18n';

type Highlight = (code: string, lang: string) => string | null;
type RenderMath = (tex: string, display: boolean) => string;

let highlightFn: Highlight | null = null;
let mathFn: RenderMath | null = null;
let highlightLoading = false;
let mathLoading = false;

/** Bumped whenever a lazily loaded library arrives: rendered HTML older than this is stale. */
export let libraryVersion = 0;
const listeners = new Set<() => void>();

/** Calls `fn` whenever highlight.js or KaTeX has just been loaded. Returns an unsubscribe. */
export function onLibraryLoaded(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function loaded() {
  libraryVersion++;
  for (const fn of listeners) fn();
}

function needHighlight() {
  if (highlightFn || highlightLoading) return;
  highlightLoading = true;
  import('./highlight').then(
    (m) => {
      highlightFn = m.highlight;
      loaded();
    },
    () => {
      highlightLoading = false;
    },
  );
}

function needMath() {
  if (mathFn || mathLoading) return;
  mathLoading = true;
  import('./math').then(
    (m) => {
      mathFn = m.renderMath;
      loaded();
    },
    () => {
      mathLoading = false;
    },
  );
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

// ---- math ----

const MATH_OPEN = '\uE000';
const MATH_CLOSE = '\uE001';
const MATH_RE = /\uE000(\d+)\uE001/g;

interface MathPart {
  tex: string;
  display: boolean;
}

const FENCE_RE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * Replaces math (`$$…$$`, `\[…\]`, `\(…\)`, `$…$`) outside code with placeholders. `$` counts as
 * inline math only when the text right after it is not a space and the closing `$` is not
 * preceded by a space nor followed by a digit, so prices like `$5 and $10` stay text.
 */
export function extractMath(src: string): { text: string; math: MathPart[] } {
  const math: MathPart[] = [];
  if (!/[$\\]/.test(src)) return { text: src, math };
  const lines = src.split('\n');
  const out: string[] = [];
  let prose: string[] = [];
  let fence: string | null = null;
  const flushProse = () => {
    if (prose.length) out.push(extractFromProse(prose.join('\n'), math));
    prose = [];
  };
  for (const line of lines) {
    const m = FENCE_RE.exec(line);
    if (fence === null) {
      if (m) {
        flushProse();
        fence = m[1];
        out.push(line);
      } else {
        prose.push(line);
      }
    } else {
      out.push(line);
      if (m && m[1][0] === fence[0] && m[1].length >= fence.length && line.trim() === m[1]) fence = null;
    }
  }
  flushProse();
  return { text: out.join('\n'), math };
}

function extractFromProse(s: string, math: MathPart[]): string {
  let out = '';
  let i = 0;
  const put = (tex: string, display: boolean) => {
    math.push({ tex, display });
    out += `${MATH_OPEN}${math.length - 1}${MATH_CLOSE}`;
  };
  while (i < s.length) {
    const ch = s[i];
    if (ch === '`') {
      // A code span: copy it through untouched.
      let run = 1;
      while (s[i + run] === '`') run++;
      const ticks = '`'.repeat(run);
      const end = s.indexOf(ticks, i + run);
      if (end < 0) {
        out += s.slice(i, i + run);
        i += run;
      } else {
        out += s.slice(i, end + run);
        i = end + run;
      }
      continue;
    }
    if (ch === '\\') {
      const next = s[i + 1];
      if (next === '[' || next === '(') {
        const close = next === '[' ? '\\]' : '\\)';
        const end = s.indexOf(close, i + 2);
        if (end > i + 2) {
          put(s.slice(i + 2, end).trim(), next === '[');
          i = end + 2;
          continue;
        }
      }
      out += s.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (ch === '$') {
      if (s[i + 1] === '$') {
        const end = s.indexOf('$$', i + 2);
        if (end > i + 2) {
          put(s.slice(i + 2, end).trim(), true);
          i = end + 2;
          continue;
        }
        out += '$$';
        i += 2;
        continue;
      }
      const first = s[i + 1];
      if (first !== undefined && !/\s/.test(first)) {
        let j = i + 1;
        let found = -1;
        while (j < s.length && s[j] !== '\n') {
          if (s[j] === '\\') {
            j += 2;
            continue;
          }
          if (s[j] === '$') {
            if (!/\s/.test(s[j - 1]) && !/\d/.test(s[j + 1] ?? '')) found = j;
            break;
          }
          j++;
        }
        if (found > 0) {
          put(s.slice(i + 1, found), false);
          i = found + 1;
          continue;
        }
      }
    }
    out += ch;
    i++;
  }
  return out;
}

// ---- markdown ----

interface RenderState {
  hasCode: boolean;
}
let current: RenderState = { hasCode: false };

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    code({ text, lang }) {
      current.hasCode = true;
      const language = (lang || '').trim().split(/\s+/)[0].toLowerCase();
      const highlighted = highlightFn ? highlightFn(text, language) : null;
      const body = highlighted ?? escapeHtml(text);
      const label = language ? `<span class="code-lang">${escapeHtml(language)}</span>` : '<span></span>';
      return (
        `<div class="code-block"><div class="code-head">${label}` +
        `<button type="button" class="code-copy">${escapeHtml(t('md.copyCode'))}</button></div>` +
        `<pre><code class="hljs${language ? ` language-${escapeHtml(language)}` : ''}">${body}</code></pre></div>\n`
      );
    },
    // Raw HTML from the model is shown, never interpreted.
    html({ text }) {
      return escapeHtml(text);
    },
    image({ href, text }) {
      return `<a href="${escapeHtml(href)}">${escapeHtml(text || href)}</a>`;
    },
  },
});

const SAFE_URL = /^(https?:|mailto:)/i;

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    const href = node.getAttribute('href') ?? '';
    if (!SAFE_URL.test(href.trim())) {
      node.removeAttribute('href');
    } else {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer nofollow');
    }
  }
});

const PURIFY_CONFIG = {
  FORBID_TAGS: ['style', 'img', 'form', 'input', 'textarea', 'select', 'iframe', 'object', 'embed', 'video', 'audio', 'source', 'svg'],
  FORBID_ATTR: ['style', 'id', 'name', 'srcset', 'action', 'formaction'],
  ALLOW_DATA_ATTR: false,
  ADD_ATTR: ['target'],
};

function renderMathPart(part: MathPart): string {
  if (mathFn) {
    try {
      return mathFn(part.tex, part.display);
    } catch {
      // fall through to the source
    }
  }
  const src = part.display ? `$$${part.tex}$$` : `$${part.tex}$`;
  return `<code class="math-source">${escapeHtml(src)}</code>`;
}

/** Sanitized HTML for a markdown source; starts loading highlight.js/KaTeX when they are needed. */
export function renderMarkdown(src: string): string {
  const { text, math } = extractMath(src);
  if (math.length) needMath();
  current = { hasCode: false };
  let html = marked.parse(text, { async: false }) as string;
  if (current.hasCode) needHighlight();
  if (math.length) {
    html = html.replace(MATH_RE, (_, n: string) => {
      const part = math[Number(n)];
      return part ? renderMathPart(part) : '';
    });
  }
  return DOMPurify.sanitize(html, PURIFY_CONFIG);
}

/**
 * Renders a growing text: the HTML of finished blocks (before the last blank line that is outside
 * a code fence and outside `$$` math) is kept, only the rest is rendered again.
 */
export class StreamRenderer {
  private doneSrc = '';
  private doneHtml = '';
  private version = -1;

  render(text: string, streaming: boolean): string {
    if (!streaming) {
      this.doneSrc = '';
      this.doneHtml = '';
      return renderMarkdown(text);
    }
    if (this.version !== libraryVersion || !text.startsWith(this.doneSrc)) {
      this.doneSrc = '';
      this.doneHtml = '';
      this.version = libraryVersion;
    }
    const rest = text.slice(this.doneSrc.length);
    const cut = lastBoundary(rest);
    if (cut > 0) {
      this.doneHtml += renderMarkdown(rest.slice(0, cut));
      this.doneSrc += rest.slice(0, cut);
      return this.doneHtml + renderMarkdown(rest.slice(cut));
    }
    return this.doneHtml + renderMarkdown(rest);
  }
}

/** Offset just after the last "\n\n" at which no fence or `$$` block is open; 0 when none. */
function lastBoundary(s: string): number {
  let fence: string | null = null;
  let inDisplayMath = false;
  let best = 0;
  let pos = 0;
  const lines = s.split('\n');
  let prevBlank = false;
  for (const line of lines) {
    const open = fence === null && !inDisplayMath;
    const blank = line.trim() === '';
    // A new block after a blank line, not continuing an indented block or a list.
    if (open && prevBlank && !blank && !/^(\s|[-*+] |\d+[.)] )/.test(line)) best = pos;
    const m = FENCE_RE.exec(line);
    if (fence === null) {
      if (m) fence = m[1];
      else if (((line.match(/\$\$/g) || []).length & 1) === 1) inDisplayMath = !inDisplayMath;
    } else if (m && m[1][0] === fence[0] && m[1].length >= fence.length && line.trim() === m[1]) {
      fence = null;
    }
    prevBlank = blank && fence === null && !inDisplayMath;
    pos += line.length + 1;
  }
  return best;
}
