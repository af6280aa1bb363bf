// Bytes and duration of a task's attempts over time, drawn by uPlot on a
// canvas: 500 points redraw in a millisecond, where an SVG chart of the same
// would weigh on a phone. Colours come from the theme's custom properties,
// so the chart is redrawn when the theme changes. The canvas says nothing to
// a screen reader: the caption says what the chart shows in words.

import uPlot from 'uplot';
import { useEffect, useRef } from 'preact/hooks';
import { formatBytes, formatDuration, secondsBetween } from '../format.js';
import type { SendEntry } from './trail-table.js';

/** A theme colour as the canvas takes it. The custom property holds light-dark(), which only an element's computed colour resolves to the theme in force. */
function themeColor(name: string): string {
  const probe = document.createElement('span');
  probe.style.color = `var(${name})`;
  document.body.append(probe);
  const color = getComputedStyle(probe).color;
  probe.remove();
  return color || '#888';
}

/** The attempts that ended, oldest first, as uPlot's columns: times (s), bytes, durations (s). */
export function chartData(entries: readonly SendEntry[]): [number[], number[], number[]] {
  const ended = entries.filter((e) => e.endedAt !== null).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  return [ended.map((e) => Date.parse(e.startedAt) / 1000), ended.map((e) => e.bytes), ended.map((e) => secondsBetween(e.startedAt, e.endedAt, 0))];
}

/** An axis label: one unit, short, so that the axis stays narrow on a phone. */
function axisDuration(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/**
 * The time axis: a minute either side of attempts less than a minute apart
 * (an hour made two attempts seconds apart one vertical line). uPlot widens a
 * lone time by 86400 "seconds" times 1000 (years) before it asks, so the span
 * is taken from the attempts themselves.
 */
function timeRange(u: uPlot, min: number, max: number): uPlot.Range.MinMax {
  const times = u.data[0];
  const first = times[0] ?? min;
  const last = times[times.length - 1] ?? max;
  return last - first < 60 ? [first - 60, last + 60] : [min, max];
}

/** Steps of the duration axis, in whole seconds: a tick at 2.5 s read "2 s", twice. */
const SECOND_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 43_200, 86_400];

/** Points only where there are few enough to tell apart. */
const POINTS_UP_TO = 120;

function options(width: number, count: number): uPlot.Options {
  const points = { show: count <= POINTS_UP_TO, size: 5 };
  const text = themeColor('--text-muted');
  const grid = themeColor('--border');
  const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  return {
    width,
    height: 240,
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: true, range: timeRange }, bytes: { auto: true }, seconds: { auto: true } },
    series: [
      {},
      { label: 'Bytes', scale: 'bytes', stroke: themeColor('--chart-1'), width: 2, points, value: (_u, v) => (v === null ? '—' : formatBytes(v)) },
      { label: 'Duration', scale: 'seconds', stroke: themeColor('--chart-2'), width: 1.5, dash: [6, 4], points, value: (_u, v) => (v === null ? '—' : formatDuration(v)) },
    ],
    axes: [
      { ...axis },
      { ...axis, scale: 'bytes', size: 70, values: (_u, values) => values.map((v) => formatBytes(v)) },
      { ...axis, scale: 'seconds', side: 1, size: 64, grid: { show: false }, incrs: SECOND_STEPS, values: (_u, values) => values.map(axisDuration) },
    ],
  };
}

export function TrailChart(props: { entries: readonly SendEntry[] }) {
  const box = useRef<HTMLDivElement>(null);
  const data = chartData(props.entries);
  const count = data[0].length;

  useEffect(() => {
    const el = box.current;
    if (el === null || count === 0) return;
    let plot: uPlot | null = null;
    const draw = () => {
      plot?.destroy();
      plot = new uPlot(options(Math.max(280, el.clientWidth), count), data, el);
    };
    draw();
    const resize = new ResizeObserver(() => plot?.setSize({ width: Math.max(280, el.clientWidth), height: 240 }));
    resize.observe(el);
    // A theme change (the switch, or the system's) changes the colours: draw again.
    const themeAttr = new MutationObserver(draw);
    themeAttr.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    const scheme = matchMedia('(prefers-color-scheme: dark)');
    scheme.addEventListener('change', draw);
    return () => {
      resize.disconnect();
      themeAttr.disconnect();
      scheme.removeEventListener('change', draw);
      plot?.destroy();
    };
    // Drawn again only when the attempts change, not at every render of the page.
  }, [props.entries]);

  if (count === 0) return <p class="muted">No attempt has ended yet: the chart shows each attempt's bytes and duration once it has.</p>;
  const largest = Math.max(...data[1]);
  const longest = Math.max(...data[2]);
  return (
    <figure class="chart">
      <div ref={box} class="chart-canvas" role="img" aria-label={`Bytes and duration of the last ${count} attempts`} />
      <figcaption class="muted">
        {count === 1 ? 'The one attempt that ended' : `The last ${count} attempts that ended, oldest on the left`}: bytes sent (solid, left axis) and duration (dashed, right axis). The largest sent {formatBytes(largest)}; the longest took {formatDuration(longest)}.
      </figcaption>
    </figure>
  );
}
