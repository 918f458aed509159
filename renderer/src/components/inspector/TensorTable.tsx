// The checkpoint's tensors with their statistics: filter by name, sort by a column, pick one for
// its histogram. Sorting and filtering are the store's pure tensorRows.
import { useState } from 'react';
import type { TensorStats } from '../../../../shared/api';
import { formatCount, formatMetric } from '../../format';
import { tensorRows, type TensorSortKey } from '../../store/inspector';

const columns: { key: TensorSortKey | null; label: string; numeric: boolean }[] = [
  { key: 'name', label: 'Name', numeric: false },
  { key: null, label: 'Shape', numeric: false },
  { key: null, label: 'Dtype', numeric: false },
  { key: 'elements', label: 'Elements', numeric: true },
  { key: 'min', label: 'Min', numeric: true },
  { key: 'max', label: 'Max', numeric: true },
  { key: 'mean', label: 'Mean', numeric: true },
  { key: 'std', label: 'Std', numeric: true },
];

export function TensorTable({ tensors, selected, onSelect }: { tensors: TensorStats[]; selected: string | null; onSelect: (name: string) => void }) {
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<{ key: TensorSortKey; descending: boolean }>({ key: 'name', descending: false });
  const rows = tensorRows(tensors, filter, sort.key, sort.descending);
  const sortBy = (key: TensorSortKey) => setSort((old) => ({ key, descending: old.key === key ? !old.descending : key !== 'name' }));
  return (
    <div>
      <div className="toolbar">
        <input type="search" aria-label="Filter tensors" placeholder="Filter tensors by name…" value={filter} onChange={(e) => setFilter(e.target.value)} />
        <span className="muted">
          {rows.length} of {tensors.length} tensors
        </span>
      </div>
      <div className="table-scroll table-tall">
        <table className="table tensor-table">
          <thead>
            <tr>
              {columns.map((c) => (
                <th
                  key={c.label}
                  scope="col"
                  className={c.numeric ? 'numeric' : undefined}
                  aria-sort={c.key && sort.key === c.key ? (sort.descending ? 'descending' : 'ascending') : undefined}
                >
                  {c.key ? (
                    <button type="button" className="link" onClick={() => sortBy(c.key as TensorSortKey)}>
                      {c.label}
                      {sort.key === c.key ? (sort.descending ? ' ▼' : ' ▲') : ''}
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((t) => (
              <tr key={t.name} className={t.name === selected ? 'selected' : undefined} aria-selected={t.name === selected}>
                <td>
                  <button type="button" className="link mono" onClick={() => onSelect(t.name)}>
                    {t.name}
                  </button>
                </td>
                <td className="mono">({t.shape.join(', ')})</td>
                <td className="mono">{t.dtype}</td>
                <td className="numeric">{formatCount(t.elements)}</td>
                <td className="numeric">{formatMetric(t.min)}</td>
                <td className="numeric">{formatMetric(t.max)}</td>
                <td className="numeric">{formatMetric(t.mean)}</td>
                <td className="numeric">{formatMetric(t.std)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
