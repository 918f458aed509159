// One comparison's results: images/s per model and batch size as bars with min–max whiskers, the
// measurement table with latency, and the speed-up realised beside the MAC ratio promised
// ("FLOPs saved vs speed realised"); for a profiled comparison, the milliseconds of each block per
// batch size (PartsChart). CSV and PNG export of the images/s. While the comparison runs, the
// models measured so far show and those still being timed hold their place, marked as measuring.
import { useRef, useState } from 'react';
import { useStore } from 'zustand';
import { Bar, BarChart, CartesianGrid, Cell, ErrorBar, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ThroughputReport, ThroughputSlot } from '../../../../shared/api';
import { downloadSvgAsPng } from '../../charts/svgToPng';
import { axisTicks } from '../../charts/ticks';
import { downloadText } from '../../download';
import { errorMessage, formatCount, formatMacs, formatMetric, formatTime } from '../../format';
import { useStores } from '../../store/stores';
import { reportCsv } from '../../store/throughput';
import { ErrorNotice } from '../Notice';
import { PartsChart } from './PartsChart';

const pixColor = '#6ea8fe';
const baselineColor = '#f0883e';

/** How a bar still being timed is labelled; its median and whisker are empty, so it draws no bar. */
export const measuringLabel = 'measuring…';

/**
 * Bars in batch-size order, each with its whisker as [below median, above median], coloured by
 * whether the model is a PiX network (from the host's catalog, or the report's own pairing); the
 * models still being timed (`measuring`) hold their place with an empty bar.
 */
export function throughputBars(report: ThroughputReport, pixNames: ReadonlySet<string>, measuring: readonly ThroughputSlot[] = []) {
  const pixModels = new Set([...pixNames, ...report.ratios.map((r) => r.pix)]);
  const measured = report.measurements.map((m) => ({
    model: m.model, batchSize: m.batchSize,
    label: `${m.model} · b${m.batchSize}`,
    median: m.median as number | null,
    spread: [m.median - m.min, m.max - m.median] as [number, number] | null,
  }));
  const pending = measuring.map(({ model, batchSize }) => ({
    model, batchSize, label: `${model} · b${batchSize} · ${measuringLabel}`, median: null, spread: null,
  }));
  return [...measured, ...pending]
    .sort((a, b) => a.batchSize - b.batchSize || a.model.localeCompare(b.model))
    .map(({ label, median, spread, model }) => ({ label, median, spread, pix: pixModels.has(model) }));
}

/** The images/s axis: from 0 to past the longest whisker, at round steps (recharts' own gave 350, 700, 1,050). */
export function imagesPerSecondAxis(report: ThroughputReport) {
  return axisTicks(0, Math.max(0, ...report.measurements.map((m) => m.max)), 4);
}

/** Room for the longest bar label beside the chart (about 6.5 px a character at 11 px), at least the 190 px a model name needs. */
function labelWidth(bars: readonly { label: string }[]): number {
  return Math.max(190, Math.ceil(6.5 * Math.max(0, ...bars.map((b) => b.label.length))));
}

/** `measuring`: the models and batch sizes of a running report not measured yet. */
export function ThroughputResults({ report, measuring = [] }: { report: ThroughputReport; measuring?: readonly ThroughputSlot[] }) {
  const chartBox = useRef<HTMLDivElement>(null);
  const [exportError, setExportError] = useState<string | null>(null);
  const models = useStore(useStores().runs, (s) => s.models);
  const pixModels = new Set([...models.filter((m) => m.pix).map((m) => m.name), ...report.ratios.map((r) => r.pix)]);
  const bars = throughputBars(report, pixModels, measuring);
  const axis = imagesPerSecondAxis(report);
  const batchSizes = [...new Set(report.measurements.map((m) => m.batchSize))].sort((a, b) => a - b);
  const caption = `Throughput · ${report.device} · ${report.precision} · ${report.mode === 'train' ? 'training step' : 'inference'} · ${report.inputSize}×${report.inputSize}`;
  const name = `throughput-${report.device.replace(':', '')}-${report.precision}-${report.mode}-${report.id}`;

  const exportPng = async () => {
    setExportError(null);
    const svg = chartBox.current?.querySelector('svg.recharts-surface');
    try {
      if (!(svg instanceof SVGSVGElement)) throw new Error('there is no chart to export yet');
      await downloadSvgAsPng(svg, `${name}.png`, caption);
    } catch (error) {
      setExportError(errorMessage(error));
    }
  };

  return (
    <div className="throughput-results">
      <header className="panel-header">
        <h2>{caption}</h2>
        <span className="muted">{formatTime(report.startedAt)}</span>
        <span className="actions">
          <button type="button" onClick={() => downloadText(reportCsv(report), `${name}.csv`, 'text/csv')} disabled={report.measurements.length === 0}>
            Export CSV
          </button>
          <button type="button" onClick={() => void exportPng()} disabled={report.measurements.length === 0}>
            Export PNG
          </button>
        </span>
      </header>
      {report.error && <ErrorNotice title="The comparison did not finish." message={report.error} />}
      {exportError && <ErrorNotice title="Export failed." message={exportError} />}
      {report.measurements.length === 0 && report.finishedAt === null && (
        <p className="loading" role="status">Measuring… each model's results appear once its repeats are timed.</p>
      )}

      {report.ratios.length > 0 && (
        <table className="table ratios">
          <caption>FLOPs saved vs speed realised</caption>
          <thead>
            <tr>
              <th scope="col">Batch</th>
              <th scope="col">PiX</th>
              <th scope="col">Baseline</th>
              <th scope="col" className="numeric">Speed-up (images/s)</th>
              <th scope="col" className="numeric">MAC ratio (promised)</th>
            </tr>
          </thead>
          <tbody>
            {report.ratios.map((r) => (
              <tr key={`${r.batchSize}${r.pix}${r.resnet}`}>
                <td>{r.batchSize}</td>
                <td>{r.pix}</td>
                <td>{r.resnet}</td>
                <td className={`numeric ${r.speedup >= 1 ? 'good' : 'bad'}`}>{r.speedup.toFixed(2)}×</td>
                <td className="numeric">{r.macRatio.toFixed(2)}×</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {report.measurements.length > 0 && (
        <div ref={chartBox} className="chart" aria-label="Images per second">
          <ResponsiveContainer width="100%" height={Math.max(160, 34 * bars.length + 40)}>
            <BarChart data={bars} layout="vertical" margin={{ top: 6, right: 24, bottom: 4, left: 8 }}>
              <CartesianGrid stroke="var(--grid)" strokeDasharray="3 3" horizontal={false} />
              <XAxis type="number" domain={axis.domain} ticks={axis.ticks} tickFormatter={axis.format} stroke="var(--text-muted)" fontSize={11} label={{ value: 'images/s (median, whiskers min–max)', position: 'insideBottomRight', offset: -2, fontSize: 10, fill: 'var(--text-muted)' }} />
              <YAxis type="category" dataKey="label" width={labelWidth(bars)} stroke="var(--text-muted)" fontSize={11} />
              <Tooltip contentStyle={{ background: 'var(--surface-raised)', border: '1px solid var(--border)', fontSize: 12 }} formatter={(v) => (v == null ? measuringLabel : formatMetric(Number(v)))} />
              <Bar dataKey="median" name="images/s" isAnimationActive={false}>
                {bars.map((b) => <Cell key={b.label} fill={b.pix ? pixColor : baselineColor} />)}
                <ErrorBar dataKey="spread" width={6} stroke="var(--text)" direction="x" />
              </Bar>
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}

      {batchSizes.map((b) => <PartsChart key={b} report={report} batchSize={b} pixModels={pixModels} />)}

      {report.measurements.length + measuring.length > 0 && (
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col" className="numeric">Batch</th>
                <th scope="col" className="numeric">Images/s (median)</th>
                <th scope="col" className="numeric">Min</th>
                <th scope="col" className="numeric">Max</th>
                <th scope="col" className="numeric">Latency (ms/batch)</th>
                <th scope="col" className="numeric">Parameters</th>
                <th scope="col" className="numeric">MACs</th>
              </tr>
            </thead>
            <tbody>
              {report.measurements.map((m) => (
                <tr key={`${m.model}${m.batchSize}`}>
                  <td>{m.model}</td>
                  <td className="numeric">{m.batchSize}</td>
                  <td className="numeric">{formatMetric(m.median)}</td>
                  <td className="numeric">{formatMetric(m.min)}</td>
                  <td className="numeric">{formatMetric(m.max)}</td>
                  <td className="numeric">{formatMetric(m.latencyMs)}</td>
                  <td className="numeric">{formatCount(m.parameters)}</td>
                  <td className="numeric">{formatMacs(m.macs)}</td>
                </tr>
              ))}
              {measuring.map((m) => (
                <tr key={`${m.model}${m.batchSize}`}>
                  <td>{m.model}</td>
                  <td className="numeric">{m.batchSize}</td>
                  <td colSpan={6} className="muted">{measuringLabel}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
