/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import type { SpeedSample } from '../store/types.js';
import { formatSpeed } from '../lib/format.js';

const CHART_HEIGHT = 140;
const MIN_WINDOW_S = 60;
const STROKE = '#1d6b8f';
const FILL = 'rgba(29, 107, 143, 0.14)';
const AXIS = '#5f6c79';
const GRID = '#e9eef2';

/** The samples as uPlot wants them: seconds on x, bytes per second on y (null breaks the line: a pause). */
const toData = (samples: readonly SpeedSample[]): uPlot.AlignedData => [samples.map((s) => s.at / 1000), samples.map((s) => s.bytesPerSecond)];

/**
 * The samples no line shows, drawn as points: all of them while there are at most two (too short a
 * line to see), and later any speed measured alone between pauses (a line needs two in a row).
 */
export const pointsToDraw = (speeds: readonly (number | null | undefined)[]): number[] =>
  speeds.flatMap((speed, i) => (speed != null && (speeds.length <= 2 || (speeds[i - 1] == null && speeds[i + 1] == null)) ? [i] : []));

/** Now, on average and at best, over the samples that were moving. */
export function speedFigures(samples: readonly SpeedSample[]): { now: number; average: number; peak: number; count: number } {
  const moving = samples.map((s) => s.bytesPerSecond).filter((v): v is number => v !== null);
  const last = samples.at(-1)?.bytesPerSecond ?? null;
  return {
    now: last ?? 0,
    average: moving.length > 0 ? moving.reduce((n, v) => n + v, 0) / moving.length : 0,
    peak: moving.reduce((n, v) => Math.max(n, v), 0),
    count: moving.length,
  };
}

/** 14:05, or 14:05:30 while the chart spans less than ten minutes. */
const clockTime = (seconds: number, span: number): string =>
  new Date(seconds * 1000).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', ...(span < 600 ? { second: '2-digit' } : {}) });

const canDraw = (): boolean => typeof document !== 'undefined' && document.createElement('canvas').getContext?.('2d') != null;

/**
 * The transfer speed over time, drawn live with uPlot (canvas; it sets styles only through the
 * DOM, which the CSP allows). The figures under it say the same in words, for everyone and for
 * screen readers; the drawing itself is hidden from them.
 */
export function SpeedChart({ samples, isPaused, isFinished }: { samples: readonly SpeedSample[]; isPaused: boolean; isFinished: boolean }) {
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const { now, average, peak, count } = speedFigures(samples);

  useEffect(() => {
    const el = holder.current;
    if (!el || !canDraw()) return;
    const chart = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height: CHART_HEIGHT,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max((max ?? 0) * 1.2, 1024)] } },
        axes: [
          {
            stroke: AXIS,
            grid: { stroke: GRID, width: 1 },
            ticks: { show: false },
            font: '12px system-ui, sans-serif',
            space: 70,
            size: 30,
            // Clock time on one line (uPlot's default adds a date row).
            values: (u, values) => values.map((v) => clockTime(v, (u.scales.x?.max ?? 0) - (u.scales.x?.min ?? 0))),
          },
          {
            stroke: AXIS,
            grid: { stroke: GRID, width: 1 },
            ticks: { show: false },
            size: 76,
            font: '12px system-ui, sans-serif',
            values: (_u, values) => values.map((v) => (v === 0 ? '0' : formatSpeed(v))),
          },
        ],
        series: [{}, { label: 'Speed', stroke: STROKE, fill: FILL, width: 2, spanGaps: false, points: { show: true, filter: (u, i) => pointsToDraw(Array.from(u.data[i] ?? [])), size: 7, fill: STROKE } }],
      },
      toData([]),
      el,
    );
    plot.current = chart;
    const observer = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(() => chart.setSize({ width: Math.max(200, el.clientWidth), height: CHART_HEIGHT }));
    observer?.observe(el);
    return () => {
      observer?.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    const chart = plot.current;
    if (!chart) return;
    const data = toData(samples);
    chart.setData(data);
    const xs = data[0];
    // At least the last minute in view, so the first samples do not stretch over the whole width.
    if (xs.length > 0) chart.setScale('x', { min: Math.min(xs[0]!, xs[xs.length - 1]! - MIN_WINDOW_S), max: xs[xs.length - 1]! });
  }, [samples]);

  return (
    <figure className="card speed-chart" data-testid="speed-chart" data-points={count}>
      <figcaption className="speed-caption">
        <span className="speed-title">Speed over time</span>
        <span className="muted small">
          {count === 0
            ? 'Drawn as soon as mail moves.'
            : `${isFinished ? '' : isPaused ? 'Paused · ' : now > 0 ? `Now ${formatSpeed(now)} · ` : ''}average ${formatSpeed(average)} · fastest ${formatSpeed(peak)}`}
        </span>
      </figcaption>
      <div className="speed-plot" ref={holder} aria-hidden="true" />
    </figure>
  );
}
