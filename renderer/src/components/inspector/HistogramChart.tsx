// A histogram (bin edges and counts) as a step area on a numeric axis, with optional marker lines
// (the gate threshold τ). Used for tensor values and for gate values alike.
import { Area, AreaChart, CartesianGrid, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Histogram } from '../../../../shared/api';
import { axisTicks, axisWidth } from '../../charts/ticks';
import { formatMetric } from '../../format';

/** Each bin as a step from its left edge; the last edge closes the final step. */
export function histogramSteps(histogram: Histogram): { x: number; count: number }[] {
  const steps = histogram.counts.map((count, i) => ({ x: histogram.edges[i], count }));
  const last = histogram.counts.length;
  if (last > 0) steps.push({ x: histogram.edges[last], count: histogram.counts[last - 1] });
  return steps;
}

export function HistogramChart({ histogram, markers = [], height = 180, label }: {
  histogram: Histogram;
  markers?: { x: number; label: string }[];
  height?: number;
  label: string;
}) {
  const edges = histogram.edges;
  const x = axisTicks(edges[0], edges[edges.length - 1], 5, false);
  // Counts of values: whole numbers from 0, so a 16-element tensor does not read 0.25 values.
  const y = axisTicks(0, Math.max(1, ...histogram.counts), 4, true, true);
  const rotatedLabelWidth = 14;  // the axis's own 'count', written up its left edge
  return (
    <figure className="chart" aria-label={label}>
      <ResponsiveContainer width="100%" height={height}>
        <AreaChart data={histogramSteps(histogram)} margin={{ top: 6, right: 12, bottom: 4, left: 0 }}>
          <CartesianGrid stroke="var(--grid)" strokeDasharray="3 3" />
          <XAxis dataKey="x" type="number" domain={x.domain} ticks={x.ticks} tickFormatter={x.format} stroke="var(--text-muted)" fontSize={11} />
          <YAxis domain={y.domain} ticks={y.ticks} tickFormatter={y.format} stroke="var(--text-muted)" fontSize={11} width={axisWidth(y) + rotatedLabelWidth}
            label={{ value: 'count', angle: -90, position: 'insideLeft', offset: 10, fontSize: 10, fill: 'var(--text-muted)' }} />
          <Tooltip
            contentStyle={{ background: 'var(--surface-raised)', border: '1px solid var(--border)', fontSize: 12 }}
            labelFormatter={(x) => `from ${formatMetric(Number(x))}`}
          />
          <Area type="stepAfter" dataKey="count" stroke="var(--accent)" fill="var(--accent)" fillOpacity={0.3} isAnimationActive={false} />
          {markers.map((m) => (
            <ReferenceLine key={m.label} x={m.x} stroke="var(--error)" strokeDasharray="4 2" label={{ value: m.label, fill: 'var(--error)', fontSize: 11, position: 'insideTopRight' }} />
          ))}
        </AreaChart>
      </ResponsiveContainer>
    </figure>
  );
}
