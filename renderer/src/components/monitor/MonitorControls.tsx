// How the monitor's charts draw: the x axis (step, epoch, time), the smoothing (none, debiased EMA
// with its weight, moving average with its window) and the zoom reset.
import { useStore } from 'zustand';
import type { SeriesAxis } from '../../../../shared/api';
import type { Smoothing } from '../../charts/smoothing';
import { useStores } from '../../store/stores';

export function MonitorControls() {
  const monitor = useStores().monitor;
  const axis = useStore(monitor, (s) => s.axis);
  const smoothing = useStore(monitor, (s) => s.smoothing);
  const window = useStore(monitor, (s) => s.window);
  const { setAxis, setSmoothing, zoom } = monitor.getState();
  const zoomed = window.from !== undefined || window.to !== undefined;

  const setKind = (kind: Smoothing['kind']) =>
    setSmoothing(kind === 'none' ? { kind } : kind === 'ema' ? { kind, weight: 0.6 } : { kind, window: 20 });

  return (
    <div className="toolbar" role="group" aria-label="Chart options">
      <label htmlFor="monitor-axis">X axis</label>
      <select id="monitor-axis" value={axis} onChange={(e) => setAxis(e.target.value as SeriesAxis)}>
        <option value="step">step</option>
        <option value="epoch">epoch</option>
        <option value="time">time</option>
      </select>
      <label htmlFor="monitor-smoothing">Smoothing</label>
      <select id="monitor-smoothing" value={smoothing.kind} onChange={(e) => setKind(e.target.value as Smoothing['kind'])}>
        <option value="none">none</option>
        <option value="ema">debiased EMA</option>
        <option value="moving-average">moving average</option>
      </select>
      {smoothing.kind === 'ema' && (
        <label>
          Weight{' '}
          <input
            type="range" min={0} max={0.99} step={0.01} value={smoothing.weight}
            onChange={(e) => setSmoothing({ kind: 'ema', weight: Number(e.target.value) })}
          />{' '}
          <output>{smoothing.weight.toFixed(2)}</output>
        </label>
      )}
      {smoothing.kind === 'moving-average' && (
        <label>
          Window{' '}
          <input
            type="range" min={1} max={200} step={1} value={smoothing.window}
            onChange={(e) => setSmoothing({ kind: 'moving-average', window: Number(e.target.value) })}
          />{' '}
          <output>{smoothing.window} pts</output>
        </label>
      )}
      <button type="button" onClick={() => zoom({})} disabled={!zoomed}>
        Reset zoom
      </button>
      <span className="muted">Drag across a chart to zoom.</span>
    </div>
  );
}
