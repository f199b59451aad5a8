// KaTeX, loaded on demand when a message contains math. MathML output: no fonts, no extra CSS.

import katex from 'katex';

export function renderMath(tex: string, display: boolean): string {
  return katex.renderToString(tex, {
    displayMode: display,
    output: 'mathml',
    throwOnError: false,
    strict: 'ignore',
    trust: false,
    maxExpand: 500,
  });
}
