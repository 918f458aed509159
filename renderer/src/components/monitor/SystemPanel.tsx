// The machine's load from systemStats events: CPU and memory, and per GPU its utilisation and
// memory. Shows what the host reports; a GPU without a reading shows a dash, not zero.
import { useStore } from 'zustand';
import { formatBytes, formatPercent } from '../../format';
import { useStores } from '../../store/stores';

export function SystemMeter({ label, percent, title }: { label: string; percent: number | null; title?: string }) {
  const value = percent === null || !Number.isFinite(percent) ? null : Math.max(0, Math.min(100, percent));
  return (
    <div className="meter" title={title ?? `${label}: ${formatPercent(value, 0)}`}>
      <span className="meter-label">{label}</span>
      <meter min={0} max={100} value={value ?? 0} aria-label={label} />
      <span className="meter-value">{formatPercent(value, 0)}</span>
    </div>
  );
}

export function SystemPanel() {
  const stats = useStore(useStores().system, (s) => s.stats);
  if (!stats) return <p className="muted">No machine statistics yet.</p>;
  return (
    <div className="system-panel" aria-label="Machine">
      <SystemMeter label={`CPU (${stats.cores} cores)`} percent={stats.cpuPercent} />
      <SystemMeter
        label={`Memory ${formatBytes(stats.memoryUsedBytes)} / ${formatBytes(stats.memoryTotalBytes)}`}
        percent={(100 * stats.memoryUsedBytes) / stats.memoryTotalBytes}
      />
      {stats.gpus.map((gpu) => (
        <div key={gpu.index} className="gpu-stats">
          <SystemMeter label={`GPU ${gpu.index} ${gpu.name}`} percent={gpu.utilizationPercent} />
          <SystemMeter
            label={`GPU ${gpu.index} memory ${formatBytes(gpu.memoryUsedBytes)} / ${formatBytes(gpu.memoryTotalBytes)}`}
            percent={gpu.memoryUsedBytes !== null && gpu.memoryTotalBytes ? (100 * gpu.memoryUsedBytes) / gpu.memoryTotalBytes : null}
          />
        </div>
      ))}
    </div>
  );
}
