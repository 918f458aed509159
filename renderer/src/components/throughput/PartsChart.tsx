// Where a step's time goes, part by part (stem, every block, head), for each model of a profiled
// comparison at one batch size: bars side by side, so a PiX block and the ResNet block it replaces
// read as one row ('layer1.blocks.0' and 'layer1.0' both show as layer1.0).
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ThroughputReport } from '../../../../shared/api';
import { partLabel } from '../../../../shared/parts';
import { axisTicks } from '../../charts/ticks';
import { formatMetric } from '../../format';

const pixColors = ['#6ea8fe', '#9ec5fe', '#3d8bfd'];
const baselineColors = ['#f0883e', '#ffb37a', '#c96a1f'];

/** Rows of milliseconds (forward + backward) per part, a key per model, for one batch size; [] without a profile. */
export function partRows(report: ThroughputReport, batchSize: number): { rows: Record<string, string | number>[]; models: string[] } {
  const profiled = report.measurements.filter((m) => m.batchSize === batchSize && m.parts && m.parts.length > 0);
  const rows: Record<string, string | number>[] = [];
  for (const m of profiled) {
    m.parts!.forEach((part, i) => {
      rows[i] ??= { part: partLabel(part.name) };
      rows[i]![m.model] = part.forwardMs + part.backwardMs;
    });
  }
  return { rows, models: profiled.map((m) => m.model) };
}

export function PartsChart({ report, batchSize, pixModels }: { report: ThroughputReport; batchSize: number; pixModels: ReadonlySet<string> }) {
  const { rows, models } = partRows(report, batchSize);
  if (rows.length === 0) return null;
  let pixIndex = 0, baselineIndex = 0;
  const colors = models.map((m) =>
    pixModels.has(m) ? pixColors[pixIndex++ % pixColors.length]! : baselineColors[baselineIndex++ % baselineColors.length]!);
  const what = report.mode === 'train' ? 'forward + backward' : 'forward';
  // Round milliseconds from 0 (recharts' own steps came out as 0, 7, 14, 21).
  const longest = Math.max(0, ...rows.flatMap((row) => models.map((m) => Number(row[m] ?? 0))));
  const axis = axisTicks(0, longest, 4);
  return (
    <figure className="chart" aria-label={`Milliseconds per part, batch ${batchSize}`} data-parts={rows.length}>
      <figcaption>
        Milliseconds per step in each part ({what}), batch {batchSize}
      </figcaption>
      <ResponsiveContainer width="100%" height={Math.max(180, (12 + 10 * models.length) * rows.length + 60)}>
        <BarChart data={rows} layout="vertical" margin={{ top: 6, right: 24, bottom: 4, left: 8 }}>
          <CartesianGrid stroke="var(--grid)" strokeDasharray="3 3" horizontal={false} />
          <XAxis type="number" domain={axis.domain} ticks={axis.ticks} tickFormatter={axis.format} stroke="var(--text-muted)" fontSize={11}
            label={{ value: 'ms per step', position: 'insideBottomRight', offset: -2, fontSize: 10, fill: 'var(--text-muted)' }} />
          <YAxis type="category" dataKey="part" width={80} stroke="var(--text-muted)" fontSize={11} />
          <Tooltip contentStyle={{ background: 'var(--surface-raised)', border: '1px solid var(--border)', fontSize: 12 }}
            formatter={(v) => `${formatMetric(Number(v))} ms`} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {models.map((m, i) => <Bar key={m} dataKey={m} name={m} fill={colors[i]} isAnimationActive={false} />)}
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
