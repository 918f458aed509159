// Per-epoch accuracy of the watched runs (top-1, top-5, EMA top-1) from their log records. Epochs
// come a few per run, so this draws every point; no downsampling, no smoothing.
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { EpochRecord } from '../../../../shared/api';
import { epochRows } from '../../charts/chartData';
import { axisTicks, axisWidth } from '../../charts/ticks';
import { formatPercent } from '../../format';

export interface EpochLine {
  label: string;
  color: string;
  records: EpochRecord[];
}

const measures = [
  { key: 'acc1', name: 'acc1', dash: undefined },
  { key: 'acc5', name: 'acc5', dash: '2 3' },
  { key: 'emaAcc1', name: 'EMA acc1', dash: '6 3' },
] as const;

export function EpochChart({ lines }: { lines: EpochLine[] }) {
  const perRun = lines.map((line) => epochRows(line.records));
  // One row per epoch with each run's measures in its own columns.
  const byEpoch = new Map<number, Record<string, number | null>>();
  perRun.forEach((rows, i) => {
    for (const row of rows) {
      const merged = byEpoch.get(row.epoch) ?? { epoch: row.epoch };
      for (const m of measures) merged[`r${i}_${m.key}`] = row[m.key];
      byEpoch.set(row.epoch, merged);
    }
  });
  const data = [...byEpoch.values()].sort((a, b) => (a.epoch ?? 0) - (b.epoch ?? 0));
  // A measure no run has (EMA without --model_ema_eval) gets no line and no legend entry.
  const shown = measures.filter((m) => perRun.some((rows) => rows.some((row) => row[m.key] !== null)));
  const values = perRun.flatMap((rows) => rows.flatMap((row) => shown.map((m) => row[m.key]))).filter((v): v is number => v !== null);
  const y = axisTicks(Math.min(...values), Math.max(...values));
  return (
    <figure className="chart" aria-label="Accuracy per epoch">
      <figcaption>
        <span className="chart-title">Accuracy per epoch (%)</span>
      </figcaption>
      {data.length === 0 ? (
        <div className="chart-empty">No evaluation yet</div>
      ) : (
        <ResponsiveContainer width="100%" height={200}>
          <LineChart data={data} margin={{ top: 10, right: 12, bottom: 4, left: 0 }}>
            <CartesianGrid stroke="var(--grid)" strokeDasharray="3 3" />
            {/* Half an epoch either side, so a single evaluated epoch is a visible point, not an edge. */}
            <XAxis
              dataKey="epoch" type="number" domain={['dataMin - 0.5', 'dataMax + 0.5']}
              ticks={data.length <= 12 ? data.map((row) => row.epoch as number) : undefined} stroke="var(--text-muted)" fontSize={11}
              label={{ value: 'Epoch', position: 'insideBottomRight', offset: -2, fontSize: 10, fill: 'var(--text-muted)' }}
            />
            <YAxis domain={y.domain} ticks={y.ticks} tickFormatter={y.format} stroke="var(--text-muted)" fontSize={11} width={axisWidth(y)} />
            <Tooltip
              contentStyle={{ background: 'var(--surface-raised)', border: '1px solid var(--border)', fontSize: 12 }}
              labelFormatter={(epoch) => `Epoch ${epoch}`}
              formatter={(value) => formatPercent(Number(value))}
            />
            <Legend wrapperStyle={{ fontSize: 11 }} />
            {lines.map((line, i) =>
              shown.map((m) => (
                <Line
                  key={`${i}${m.key}`}
                  dataKey={`r${i}_${m.key}`}
                  name={lines.length > 1 ? `${line.label} ${m.name}` : m.name}
                  stroke={line.color}
                  strokeDasharray={m.dash}
                  // The legend draws the line's dash, so acc1 and acc5 of one run read apart there too.
                  legendType="plainline"
                  isAnimationActive={false}
                  connectNulls
                  dot={{ r: 3 }}
                />
              )),
            )}
          </LineChart>
        </ResponsiveContainer>
      )}
    </figure>
  );
}
