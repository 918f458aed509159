// The run list as a table: status (with queue position), model, dataset, best top-1, images/s,
// start and duration, and the actions a run's status allows. Filtering happens in the store's
// pure filterRuns; this file only lays rows out. Columns marked `optional` (then `optional-narrow`)
// give way when the table is narrow (styles.css, .runs-scroll), so that the actions stay on screen.
import { useState } from 'react';
import type { RunSummary } from '../../../../shared/api';
import { formatDuration, formatMetric, formatPercent, formatTime } from '../../format';

export interface RunActions {
  open: (id: string) => void;
  stop: (id: string) => void;
  resume: (id: string) => void;
  clone: (id: string) => void;
  remove: (id: string) => void;
}

export function RunTable({ runs, actions, now }: { runs: RunSummary[]; actions: RunActions; now: number }) {
  return (
    <table className="table runs-table">
      <thead>
        <tr>
          <th scope="col">Run</th>
          <th scope="col">Status</th>
          <th scope="col">Model</th>
          <th scope="col">Dataset</th>
          <th scope="col" className="numeric" title="epochs finished / epochs in the run">Epochs</th>
          <th scope="col" className="numeric">Best acc1</th>
          <th scope="col" className="numeric optional">Images/s</th>
          <th scope="col" className="optional">Started</th>
          <th scope="col" className="numeric optional-narrow">Duration</th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <RunRow key={run.id} run={run} actions={actions} now={now} />
        ))}
      </tbody>
    </table>
  );
}

function RunRow({ run, actions, now }: { run: RunSummary; actions: RunActions; now: number }) {
  const [confirming, setConfirming] = useState(false);
  const active = run.status === 'running' || run.status === 'queued' || run.status === 'stopping';
  const duration = run.startedAt === null ? null : ((run.finishedAt ?? now) - run.startedAt) / 1000;
  return (
    <tr aria-label={`Run ${run.name}`}>
      <td>
        <button type="button" className="link" onClick={() => actions.open(run.id)} title={run.outputDir}>
          {run.name}
        </button>
        {run.error && <div className="cell-error">{run.error}</div>}
      </td>
      <td>
        <span className={`pill status-${run.status}`}>{run.status}</span>
        {run.queuePosition !== null && <span className="muted"> #{run.queuePosition} in queue</span>}
      </td>
      <td className="model">{run.model}</td>
      <td className="path">{run.dataset || 'demo digits'}</td>
      <td className="numeric">
        {run.epoch}/{run.epochs}
      </td>
      <td className="numeric">{formatPercent(run.bestAcc1)}</td>
      <td className="numeric optional">{formatMetric(run.imagesPerSecond)}</td>
      <td className="optional">{formatTime(run.startedAt)}</td>
      {/* The start time rides along here too, for when its own column has given way. */}
      <td className="numeric optional-narrow" title={run.startedAt === null ? undefined : `started ${formatTime(run.startedAt)}`}>{formatDuration(duration)}</td>
      <td>
        <div className="row-actions">
        {active ? (
          <button type="button" onClick={() => actions.stop(run.id)} disabled={run.status === 'stopping'}>
            {stopLabel(run.status)}
          </button>
        ) : run.status !== 'completed' ? (
          <button type="button" onClick={() => actions.resume(run.id)}>
            Resume
          </button>
        ) : null}
        <button type="button" onClick={() => actions.clone(run.id)}>
          Clone
        </button>
        {confirming ? (
          <button type="button" className="danger" onClick={() => actions.remove(run.id)} onBlur={() => setConfirming(false)} autoFocus>
            Confirm delete
          </button>
        ) : (
          <button type="button" onClick={() => setConfirming(true)} disabled={active}>
            Delete
          </button>
        )}
        </div>
      </td>
    </tr>
  );
}

/** A queued run has nothing to stop: the host takes it off the queue, so the button says Cancel. */
export function stopLabel(status: RunSummary['status']): string {
  return status === 'queued' ? 'Cancel' : 'Stop';
}
