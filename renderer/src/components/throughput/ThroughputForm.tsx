// What to measure: models (the PiX and ResNet pair by default), device, precision, mode, batch
// sizes, input size, repeats, and whether to time each block. Each typed number is checked here
// against the contract's own limits and named beside its field, Compare waiting until all are
// right; the store checks the whole request against the schema again before sending it.
import { useEffect, useState, type FormEvent } from 'react';
import { useStore } from 'zustand';
import { requestSchemas, type ModelEntry } from '../../../../shared/api';
import { formatCount, formatMacs } from '../../format';
import { useStores } from '../../store/stores';
import type { ThroughputRequest } from '../../store/throughput';

/** The default pair: the published PiX network and its ResNet baseline, when the host has them. */
export function defaultModels(models: readonly ModelEntry[]): string[] {
  const wanted = ['pix_resnet50_cs', 'resnet50'];
  const found = wanted.filter((name) => models.some((m) => m.name === name));
  if (found.length === wanted.length) return found;
  const pix = models.find((m) => m.pix);
  const plain = models.find((m) => !m.pix);
  return [pix, plain].filter((m): m is ModelEntry => m !== undefined).map((m) => m.name);
}

export function parseBatchSizes(text: string): { sizes: number[]; problem: string | null } {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const bad = parts.find((p) => !/^\d+$/.test(p) || Number(p) < 1);
  if (bad !== undefined) return { sizes: [], problem: `"${bad}" is not a batch size (a whole number ≥ 1)` };
  if (parts.length === 0) return { sizes: [], problem: 'at least one batch size is needed' };
  return { sizes: parts.map(Number), problem: null };
}

const limits = requestSchemas.startThroughput.shape;

/** A whole number typed in a field, within its schema's bounds, or why it is not one. */
export function parseWhole(text: string, bounds: { minValue: number | null; maxValue: number | null }): { value: number; problem: string | null } {
  const min = bounds.minValue ?? 1;
  const max = bounds.maxValue ?? Number.MAX_SAFE_INTEGER;
  const value = Number(text.trim());
  const ok = /^\d+$/.test(text.trim()) && value >= min && value <= max;
  return { value, problem: ok ? null : `a whole number from ${formatCount(min)} to ${formatCount(max)}` };
}

export function ThroughputForm({ running }: { running: boolean }) {
  const stores = useStores();
  const models = useStore(stores.runs, (s) => s.models);
  const engine = useStore(stores.engine, (s) => s.engine);
  const [chosen, setChosen] = useState<string[] | null>(null);
  const [device, setDevice] = useState('cpu');
  const [precision, setPrecision] = useState<'fp32' | 'bf16'>('fp32');
  const [mode, setMode] = useState<'train' | 'infer'>('infer');
  const [batches, setBatches] = useState('16');
  const [inputSize, setInputSize] = useState('224');
  const [repeats, setRepeats] = useState('5');
  const [profile, setProfile] = useState(false);

  useEffect(() => {
    if (stores.runs.getState().list.status === 'idle') void stores.runs.getState().load();
    if (stores.engine.getState().engine.status === 'idle') void stores.engine.getState().load();
  }, [stores.runs, stores.engine]);

  const selected = chosen ?? defaultModels(models);
  const batch = parseBatchSizes(batches);
  const size = parseWhole(inputSize, limits.inputSize);
  const repeatCount = parseWhole(repeats, limits.repeats);
  const problems = batch.problem !== null || size.problem !== null || repeatCount.problem !== null;
  const devices = ['cpu', ...(engine.status === 'loaded' ? engine.info.backends.cuda.devices.map((d) => `cuda:${d.index}`) : [])];

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const request: ThroughputRequest = {
      models: selected, device, precision, mode, batchSizes: batch.sizes, inputSize: size.value, repeats: repeatCount.value,
      ...(profile ? { profile } : {}),
    };
    void stores.throughput.getState().compare(request);
  };
  const toggle = (name: string) => setChosen(selected.includes(name) ? selected.filter((n) => n !== name) : [...selected, name]);

  return (
    <form className="throughput-form" onSubmit={submit} aria-label="Throughput comparison">
      <fieldset className="model-choices">
        <legend>Models</legend>
        {models.length === 0 && <span className="muted">Loading the model catalog…</span>}
        {models.map((m) => (
          <label key={m.name} className="check" title={`${formatCount(m.parameters)} parameters · ${formatMacs(m.macs)} MACs at 224×224`}>
            <input type="checkbox" checked={selected.includes(m.name)} onChange={() => toggle(m.name)} />
            {m.name}
            {m.pix && <span className="tag">PiX</span>}
          </label>
        ))}
      </fieldset>
      <div className="flag-grid">
        <div className="field">
          <label htmlFor="tp-device">Device</label>
          <select id="tp-device" value={device} onChange={(e) => setDevice(e.target.value)}>
            {devices.map((d) => <option key={d} value={d}>{d}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="tp-precision">Precision</label>
          <select id="tp-precision" value={precision} onChange={(e) => setPrecision(e.target.value as 'fp32' | 'bf16')}>
            <option value="fp32">fp32</option>
            <option value="bf16">bf16</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="tp-mode">Mode</label>
          <select id="tp-mode" value={mode} onChange={(e) => setMode(e.target.value as 'train' | 'infer')}>
            <option value="infer">inference</option>
            <option value="train">training step</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="tp-batches">Batch sizes</label>
          <input id="tp-batches" type="text" value={batches} onChange={(e) => setBatches(e.target.value)}
            aria-invalid={batch.problem ? true : undefined} aria-describedby={batch.problem ? 'tp-batches-error' : undefined} />
          {batch.problem && <span id="tp-batches-error" className="field-error">{batch.problem}</span>}
        </div>
        <div className="field">
          <label htmlFor="tp-size">Input size (px)</label>
          <input id="tp-size" type="text" inputMode="numeric" value={inputSize} onChange={(e) => setInputSize(e.target.value)}
            aria-invalid={size.problem ? true : undefined} aria-describedby={size.problem ? 'tp-size-error' : undefined} />
          {size.problem && <span id="tp-size-error" className="field-error">{size.problem}</span>}
        </div>
        <div className="field">
          <label htmlFor="tp-repeats">Repeats</label>
          <input id="tp-repeats" type="text" inputMode="numeric" value={repeats} onChange={(e) => setRepeats(e.target.value)}
            aria-invalid={repeatCount.problem ? true : undefined} aria-describedby={repeatCount.problem ? 'tp-repeats-error' : undefined} />
          {repeatCount.problem && <span id="tp-repeats-error" className="field-error">{repeatCount.problem}</span>}
        </div>
        <label className="check" title="A few more steps per model with the stem, every block and the head timed; the images/s are measured without it">
          <input type="checkbox" checked={profile} onChange={(e) => setProfile(e.target.checked)} />
          Time each block
        </label>
      </div>
      <div className="actions">
        <button type="submit" className="primary" disabled={running || problems || selected.length === 0}>
          Compare throughput
        </button>
        {models.length > 0 && selected.length === 0 && <span className="muted">Choose at least one model.</span>}
        {running && (
          <button type="button" onClick={() => void stores.throughput.getState().cancel()}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
