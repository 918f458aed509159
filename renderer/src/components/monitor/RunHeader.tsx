// The watched run at a glance: status, model, data, device, epoch, best top-1, speed, the progress
// bar with its ETA, and Stop or Resume; the run's error and the files its loader skipped.
import type { RunDetail } from '../../../../shared/api';
import { formatCount, formatDuration, formatMetric, formatPercent, formatTime } from '../../format';
import { useStores } from '../../store/stores';
import { ErrorNotice } from '../Notice';
import { stopLabel } from '../runs/RunTable';

export function RunHeader({ run }: { run: RunDetail }) {
  const stores = useStores();
  const active = run.status === 'running' || run.status === 'queued' || run.status === 'stopping';
  const progress = run.totalSteps > 0 ? Math.min(1, run.step / run.totalSteps) : 0;
  return (
    <div className="run-header panel">
      <div className="run-header-facts">
        <span className={`pill status-${run.status}`}>{run.status}</span>
        {run.queuePosition !== null && <span className="muted">#{run.queuePosition} in queue</span>}
        <span>{run.model}</span>
        <span className="muted">{run.dataset || 'demo digits'}</span>
        <span className="muted">{run.device}{run.gpus > 1 ? ` × ${run.gpus}` : ''}</span>
        {/* run.epoch counts finished epochs: during the second of two this reads 1/2, so it says so. */}
        <span title="epochs finished / epochs in the run">{run.epoch}/{run.epochs} epochs done</span>
        <span>best acc1 {formatPercent(run.bestAcc1)}</span>
        <span>{formatMetric(run.imagesPerSecond)} img/s</span>
        <span className="muted">{run.startedAt === null ? `queued ${formatTime(run.createdAt)}` : `started ${formatTime(run.startedAt)}`}</span>
        <span className="actions">
          {active ? (
            <button type="button" onClick={() => void stores.runs.getState().stop(run.id)} disabled={run.status === 'stopping'}>
              {stopLabel(run.status)}
            </button>
          ) : run.status !== 'completed' ? (
            <button type="button" onClick={() => void stores.runs.getState().resume(run.id)}>
              Resume
            </button>
          ) : null}
        </span>
      </div>
      <div className="progress-row">
        <progress max={1} value={progress} aria-label="Progress" />
        <span>
          {/* Before its first step a run has no step count yet: 'step 0 / 0 (0.0%)' said nothing. */}
          {run.totalSteps > 0
            ? `step ${formatCount(run.step)} / ${formatCount(run.totalSteps)} (${(progress * 100).toFixed(1)}%)`
            : run.status === 'queued' ? 'waiting for its device' : 'not started'}
        </span>
        <span>{timing(run)}</span>
      </div>
      {run.error && <ErrorNotice title="The run reported a problem." message={run.error} />}
      {run.badFiles.length > 0 && (
        <details>
          <summary>{run.badFiles.length} files skipped by the loader</summary>
          <ul className="bad-files">
            {run.badFiles.map((f) => (
              <li key={f.path}>
                <code>{f.path}</code>: {f.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

/** A running run's ETA; a finished one's wall time ('ETA —' said nothing once it had ended). */
function timing(run: RunDetail): string {
  if (run.status === 'running') return `ETA ${formatDuration(run.etaSeconds)}`;
  if (run.startedAt !== null && run.finishedAt !== null) return `took ${formatDuration((run.finishedAt - run.startedAt) / 1000)}`;
  return '';
}
