// One live line chart of the monitor: for each line (a run's metric) the raw series drawn faint and
// the smoothed one on top, on one merged x axis. Drag across the plot to zoom: the store then asks
// the host for that window at the chart's resolution, so zooming into a million points stays exact.
import { useMemo, useState } from 'react';
import { CartesianGrid, Line, LineChart, ReferenceArea, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Series, SeriesAxis } from '../../../../shared/api';
import { axisLabels, lineRows, mergeLines, selectionWindow } from '../../charts/chartData';
import type { XWindow } from '../../charts/series';
import type { Smoothing } from '../../charts/smoothing';
import { axisTicks, axisWidth } from '../../charts/ticks';
import { formatMetric } from '../../format';

export interface ChartLine {
  label: string;
  color: string;
  /** An SVG dash pattern, for a second metric of the same run. */
  dash?: string | undefined;
  series: Series | undefined;
}

export interface SeriesChartProps {
  title: string;
  lines: ChartLine[];
  axis: SeriesAxis;
  smoothing: Smoothing;
  window: XWindow;
  onZoom: (window: XWindow) => void;
}

export function SeriesChart({ title, lines, axis, smoothing, window, onZoom }: SeriesChartProps) {
  const [drag, setDrag] = useState<{ from: number; to: number } | null>(null);
  const data = useMemo(
    () => mergeLines(lines.map((line) => ({ rows: line.series ? lineRows(line.series, smoothing) : [] }))),
    [lines, smoothing],
  );
  const points = lines.reduce((n, line) => n + (line.series?.windowPoints ?? 0), 0);
  const drawn = lines.reduce((n, line) => n + (line.series?.x.length ?? 0), 0);
  const smoothed = smoothing.kind !== 'none';
  const axes = useMemo(() => {
    let [xMin, xMax, yMin, yMax] = [Infinity, -Infinity, Infinity, -Infinity];
    for (const row of data) {
      xMin = Math.min(xMin, row.x);
      xMax = Math.max(xMax, row.x);
      for (const [key, value] of Object.entries(row)) {
        if (key === 'x' || value === null || !Number.isFinite(value)) continue;
        yMin = Math.min(yMin, value);
        yMax = Math.max(yMax, value);
      }
    }
    // Steps are whole: two logged steps are 0 and 1, not 0, 0.2, … 1. Epochs and seconds are fractional.
    return { x: axisTicks(window.from ?? xMin, window.to ?? xMax, 6, false, axis === 'step'), y: axisTicks(yMin, yMax) };
  }, [data, window, axis]);

  const labelOf = (state: { activeLabel?: unknown }) => (typeof state.activeLabel === 'number' ? state.activeLabel : Number(state.activeLabel));

  return (
    <figure className="chart" aria-label={title} data-points={drawn}>
      <figcaption>
        <span className="chart-title">{title}</span>
        <span className="muted" title="points in the window / points drawn">
          {points.toLocaleString('en-US')} pts{drawn < points ? ` · ${drawn.toLocaleString('en-US')} drawn` : ''}
        </span>
        {lines.length > 1 && (
          <span className="chart-legend">
            {lines.map((line) => (
              <span key={line.label} className="chart-legend-item">
                <span
                  className={line.dash ? 'swatch swatch-dashed' : 'swatch'}
                  style={line.dash ? { borderColor: line.color } : { background: line.color }}
                  aria-hidden="true"
                />
                {line.label}
              </span>
            ))}
          </span>
        )}
      </figcaption>
      {data.length === 0 ? (
        <div className="chart-empty">No points yet</div>
      ) : (
        <ResponsiveContainer width="100%" height={200}>
          <LineChart
            data={data}
            margin={{ top: 6, right: 12, bottom: 4, left: 0 }}
            onMouseDown={(state) => {
              const x = labelOf(state);
              if (Number.isFinite(x)) setDrag({ from: x, to: x });
            }}
            onMouseMove={(state) => {
              const x = labelOf(state);
              if (drag && Number.isFinite(x)) setDrag({ ...drag, to: x });
            }}
            onMouseUp={() => {
              const chosen = drag && selectionWindow(drag.from, drag.to);
              setDrag(null);
              if (chosen) onZoom(chosen);
            }}
          >
            <CartesianGrid stroke="var(--grid)" strokeDasharray="3 3" />
            <XAxis
              dataKey="x"
              type="number"
              domain={axes.x.domain}
              ticks={axes.x.ticks}
              allowDataOverflow
              tickFormatter={axes.x.format}
              stroke="var(--text-muted)"
              fontSize={11}
              label={{ value: axisLabels[axis], position: 'insideBottomRight', offset: -2, fontSize: 10, fill: 'var(--text-muted)' }}
            />
            <YAxis
              domain={axes.y.domain}
              ticks={axes.y.ticks}
              tickFormatter={axes.y.format}
              stroke="var(--text-muted)"
              fontSize={11}
              width={axisWidth(axes.y)}
            />
            <Tooltip
              contentStyle={{ background: 'var(--surface-raised)', border: '1px solid var(--border)', fontSize: 12 }}
              labelFormatter={(x) => `${axisLabels[axis]} ${formatMetric(Number(x))}`}
              formatter={(value) => formatMetric(Number(value))}
            />
            {lines.map((line, i) => [
              <Line
                key={`raw${i}`}
                dataKey={`s${i}_raw`}
                name={smoothed ? `${line.label} (raw)` : line.label}
                stroke={line.color}
                // Under a smoothed line the faint raw one stays solid: dashes on noise read as dots.
                strokeDasharray={smoothed ? undefined : line.dash}
                strokeOpacity={smoothed ? 0.25 : 1}
                dot={false}
                isAnimationActive={false}
                connectNulls
                strokeWidth={1}
              />,
              smoothed && (
                <Line
                  key={`smooth${i}`}
                  dataKey={`s${i}_smoothed`}
                  name={line.label}
                  stroke={line.color}
                  strokeDasharray={line.dash}
                  dot={false}
                  isAnimationActive={false}
                  connectNulls
                  strokeWidth={1.6}
                />
              ),
            ])}
            {drag && drag.from !== drag.to && <ReferenceArea x1={drag.from} x2={drag.to} fill="var(--accent)" fillOpacity={0.15} />}
          </LineChart>
        </ResponsiveContainer>
      )}
    </figure>
  );
}
