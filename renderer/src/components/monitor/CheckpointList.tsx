// The watched run's saved checkpoints, each one click from the inspector.
import type { RunDetail } from '../../../../shared/api';
import { formatBytes } from '../../format';
import { useStores } from '../../store/stores';

export function CheckpointList({ run }: { run: RunDetail }) {
  const stores = useStores();
  if (run.checkpoints.length === 0) return <p className="muted">No checkpoints saved yet.</p>;
  const inspect = (path: string) => {
    void stores.inspector.getState().open(path);
    stores.navigation.getState().go('checkpoints');
  };
  return (
    <ul className="checkpoint-list">
      {run.checkpoints.map((c) => (
        <li key={c.path}>
          <button type="button" className="link" onClick={() => inspect(c.path)} title={c.path} aria-label={`Inspect ${c.name}`}>
            {c.name}
          </button>
          <span className="muted">
            {c.epoch !== null ? `epoch ${c.epoch} · ` : ''}
            {formatBytes(c.bytes)}
          </span>
        </li>
      ))}
    </ul>
  );
}
