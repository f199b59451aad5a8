// Small SVG charts for the dashboard: bars, lines, a donut. Drawn at the container's real pixel
// width (measured), so text keeps its size on a phone instead of shrinking with a viewBox. Every
// mark carries a <title> (the browser's tooltip); the <svg> has a one-sentence summary for screen
// readers. Colours come from the theme's CSS variables through `tone-*` classes.

import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';

export type Tone = 'accent' | 'success' | 'warning' | 'danger' | 'muted';

const HEIGHT = 180;
const PAD = { top: 12, right: 20, bottom: 24, left: 56 };
/** Room each x-axis label needs, in px. */
const LABEL_SPACE = 52;

function useWidth() {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setWidth(Math.floor(el.clientWidth));
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [box, width] as const;
}

/** A round number at or above `value`, so the axis reads 0 … 50 rather than 0 … 47. */
function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** `2025-06-30` → `06-30`. */
function shortDate(date: string): string {
  return /^\d{4}-\d\d-\d\d$/.test(date) ? date.slice(5) : date;
}

/** Indices that get an x-axis label: counted back from the last one, as many as fit. */
function labelled(count: number, plotWidth: number): Set<number> {
  const step = Math.max(1, Math.ceil(count / Math.max(1, Math.floor(plotWidth / LABEL_SPACE))));
  const out = new Set<number>();
  for (let i = count - 1; i >= 0; i -= step) out.add(i);
  return out;
}

interface Frame {
  labels: string[];
  max: number;
  /** Below 0 when a series goes negative (a loss); the axis then shows min, 0 and max. */
  min?: number;
  format: (n: number) => string;
  width: number;
  children: (plot: { x0: number; y: (v: number) => number; w: number; h: number }) => ComponentChildren;
  /** Where each label's centre is, from the label's index. */
  xOf: (i: number, plotWidth: number) => number;
}

/** Axes, grid lines and x labels around a plot. */
function Axes({ labels, max, min = 0, format, width, children, xOf }: Frame) {
  const w = Math.max(0, width - PAD.left - PAD.right);
  const h = HEIGHT - PAD.top - PAD.bottom;
  const y = (v: number) => PAD.top + h - ((Math.max(min, v) - min) / (max - min)) * h;
  const positive = Number.isInteger(max / 2) || max < 1 ? [0, max / 2, max] : [0, max];
  const ticks = min < 0 ? [min, ...(max > 0 ? [0, max] : [0])] : positive;
  const shown = labelled(labels.length, w);
  return (
    <>
      <g class="chart-grid">
        {ticks.map((tick) => (
          <g key={tick}>
            <line x1={PAD.left} x2={PAD.left + w} y1={y(tick)} y2={y(tick)} />
            <text x={PAD.left - 6} y={y(tick)} dy="0.32em" text-anchor="end">
              {format(tick)}
            </text>
          </g>
        ))}
      </g>
      {children({ x0: PAD.left, y, w, h })}
      <g class="chart-x">
        {labels.map((label, i) =>
          shown.has(i) ? (
            <text key={i} x={PAD.left + xOf(i, w)} y={HEIGHT - 6} text-anchor="middle">
              {shortDate(label)}
            </text>
          ) : null,
        )}
      </g>
    </>
  );
}

interface ChartProps {
  title: string;
  /** One sentence for screen readers: what the chart shows and its headline numbers. */
  summary: string;
  labels: string[];
  format?: (n: number) => string;
  testid: string;
}

const plain = (n: number) => (Number.isInteger(n) ? n.toLocaleString() : n.toFixed(1));

/** `toneOf` colours single bars (a loss in red); negative values hang below the zero line. */
export function BarChart({ title, summary, labels, values, tone = 'accent', toneOf, format = plain, testid }: ChartProps & { values: number[]; tone?: Tone; toneOf?: (v: number) => Tone }) {
  const [box, width] = useWidth();
  const low = Math.min(0, ...values);
  const min = low < 0 ? -niceMax(-low) : 0;
  const max = min < 0 && Math.max(...values) <= 0 ? 0 : niceMax(Math.max(0, ...values));
  const slot = (w: number) => (labels.length ? w / labels.length : w);
  return (
    <figure class="chart" data-testid={testid}>
      <figcaption>{title}</figcaption>
      <div class="chart-box" ref={box}>
        {width > 0 && (
          <svg width={width} height={HEIGHT} role="img" aria-label={`${title}: ${summary}`} class={`tone-${tone}`}>
            <Axes labels={labels} max={max} min={min} format={format} width={width} xOf={(i, w) => slot(w) * (i + 0.5)}>
              {({ x0, y, w }) => {
                const barWidth = Math.max(1, Math.min(28, slot(w) * 0.7));
                return (
                  <g class="chart-bars">
                    {values.map((v, i) => (
                      <rect
                        key={i}
                        class={toneOf ? `tone-${toneOf(v)}` : undefined}
                        x={x0 + slot(w) * (i + 0.5) - barWidth / 2}
                        y={Math.min(y(0), y(v))}
                        width={barWidth}
                        height={Math.max(v !== 0 ? 1 : 0, Math.abs(y(0) - y(v)))}
                        rx={Math.min(3, barWidth / 3)}
                      >
                        <title>{`${labels[i]}: ${format(v)}`}</title>
                      </rect>
                    ))}
                  </g>
                );
              }}
            </Axes>
          </svg>
        )}
      </div>
    </figure>
  );
}

export interface Series {
  name: string;
  values: (number | null)[];
  tone: Tone;
}

export function LineChart({ title, summary, labels, series, format = plain, testid }: ChartProps & { series: Series[] }) {
  const [box, width] = useWidth();
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = niceMax(Math.max(0, ...all));
  const xOf = (i: number, w: number) => (labels.length > 1 ? (w * i) / (labels.length - 1) : w / 2);
  return (
    <figure class="chart" data-testid={testid}>
      <figcaption>{title}</figcaption>
      <div class="chart-box" ref={box}>
        {width > 0 && (
          <svg width={width} height={HEIGHT} role="img" aria-label={`${title}: ${summary}`}>
            <Axes labels={labels} max={max} format={format} width={width} xOf={xOf}>
              {({ x0, y, w }) =>
                series.map((s) => {
                  // A gap (no data that day) breaks the line rather than dropping it to zero.
                  let d = '';
                  let pen = false;
                  s.values.forEach((v, i) => {
                    if (v === null) {
                      pen = false;
                      return;
                    }
                    d += `${pen ? 'L' : 'M'}${(x0 + xOf(i, w)).toFixed(1)},${y(v).toFixed(1)}`;
                    pen = true;
                  });
                  return (
                    <g key={s.name} class={`chart-line tone-${s.tone}`}>
                      <path d={d} />
                      {s.values.map((v, i) =>
                        v === null ? null : (
                          <circle key={i} cx={x0 + xOf(i, w)} cy={y(v)} r={labels.length > 40 ? 2 : 3}>
                            <title>{`${labels[i]} · ${s.name}: ${format(v)}`}</title>
                          </circle>
                        ),
                      )}
                    </g>
                  );
                })
              }
            </Axes>
          </svg>
        )}
      </div>
      <Legend items={series.map((s) => ({ name: s.name, tone: s.tone }))} />
    </figure>
  );
}

export interface Part {
  name: string;
  value: number;
  tone: Tone;
}

const DONUT = 132;
const RING = 18;

export function Donut({ title, summary, parts, center, testid }: { title: string; summary: string; parts: Part[]; center: string; testid: string }) {
  const r = (DONUT - RING) / 2;
  const circumference = 2 * Math.PI * r;
  const total = parts.reduce((sum, p) => sum + p.value, 0);
  let offset = 0;
  return (
    <figure class="chart chart-donut" data-testid={testid}>
      <figcaption>{title}</figcaption>
      <div class="donut-row">
        <svg width={DONUT} height={DONUT} viewBox={`0 0 ${DONUT} ${DONUT}`} role="img" aria-label={`${title}: ${summary}`}>
          <circle class="donut-track" cx={DONUT / 2} cy={DONUT / 2} r={r} stroke-width={RING} />
          <g transform={`rotate(-90 ${DONUT / 2} ${DONUT / 2})`}>
            {total > 0 &&
              parts.map((p) => {
                if (p.value <= 0) return null;
                const length = (p.value / total) * circumference;
                const arc = (
                  <circle
                    key={p.name}
                    class={`donut-part tone-${p.tone}`}
                    cx={DONUT / 2}
                    cy={DONUT / 2}
                    r={r}
                    stroke-width={RING}
                    stroke-dasharray={`${length} ${circumference - length}`}
                    stroke-dashoffset={-offset}
                  >
                    <title>{`${p.name}: ${p.value}`}</title>
                  </circle>
                );
                offset += length;
                return arc;
              })}
          </g>
          <text class="donut-center" x={DONUT / 2} y={DONUT / 2} dy="0.35em" text-anchor="middle">
            {center}
          </text>
        </svg>
        <Legend items={parts} />
      </div>
    </figure>
  );
}

function Legend({ items }: { items: { name: string; tone: Tone; value?: number }[] }) {
  return (
    <ul class="chart-legend">
      {items.map((item) => (
        <li key={item.name} class={`tone-${item.tone}`}>
          <span class="swatch" aria-hidden="true" />
          {item.name}
          {item.value !== undefined && <strong>{item.value}</strong>}
        </li>
      ))}
    </ul>
  );
}
