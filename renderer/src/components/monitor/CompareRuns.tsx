// Which other runs are overlaid on the watched one's charts: one checkbox per run.
import { useStore } from 'zustand';
import { useStores } from '../../store/stores';

export function CompareRuns() {
  const stores = useStores();
  const runs = useStore(stores.runs, (s) => s.runs);
  const primaryId = useStore(stores.monitor, (s) => s.primaryId);
  const compareIds = useStore(stores.monitor, (s) => s.compareIds);
  const others = runs.filter((run) => run.id !== primaryId);
  if (others.length === 0) return null;
  return (
    <details className="compare">
      <summary>Overlay other runs ({compareIds.length} chosen)</summary>
      <div className="compare-list">
        {others.map((run) => (
          <label key={run.id} className="check">
            <input type="checkbox" checked={compareIds.includes(run.id)} onChange={() => void stores.monitor.getState().toggleCompare(run.id)} />
            {run.name} <span className="muted">{run.model} · {run.status}</span>
          </label>
        ))}
      </div>
    </details>
  );
}
