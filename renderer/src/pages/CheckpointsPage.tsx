// The checkpoint inspector: open a .safetensors or .pth file on the host, read its metadata,
// totals and per-tensor statistics, see a tensor's histogram, and use it (diff, evaluate, convert,
// PiX gate statistics, classify one image).
import { useEffect, useState } from 'react';
import { useStore } from 'zustand';
import type { CheckpointInfo } from '../../../shared/api';
import { ConvertTool, DiffTool, EvaluateTool } from '../components/inspector/CheckpointTools';
import { ClassifyTool, GateStatisticsTool } from '../components/inspector/GateTools';
import { HistogramChart } from '../components/inspector/HistogramChart';
import { MetadataList } from '../components/inspector/MetadataList';
import { TensorTable } from '../components/inspector/TensorTable';
import { ResultStatus } from '../components/Notice';
import { PathField } from '../components/PathField';
import { formatBytes, formatCount } from '../format';
import { useStores } from '../store/stores';

export function CheckpointsPage() {
  const store = useStores().inspector;
  const state = useStore(store);
  const [typed, setTyped] = useState(state.path);
  // A checkpoint opened from elsewhere (the monitor's list) shows its path here too.
  useEffect(() => setTyped(state.path), [state.path]);

  return (
    <section className="page page-wide" aria-labelledby="ckpt-page-title">
      <h1 id="ckpt-page-title">Checkpoints</h1>
      <form className="tool-form panel" onSubmit={(e) => { e.preventDefault(); void state.open(typed.trim()); }}>
        <PathField label="Checkpoint file (.safetensors or .pth)" value={typed} onChange={setTyped} pick={{ extensions: ['safetensors', 'pth'] }} placeholder="/path/to/checkpoint-best.safetensors" />
        <button type="submit" className="primary" disabled={typed.trim() === ''}>
          Open checkpoint
        </button>
      </form>
      {state.info.status === 'idle' && (
        <p className="muted">A path on the host, or one click from a run's Checkpoints panel in the Run monitor.</p>
      )}
      <ResultStatus result={state.info} busy="Reading the checkpoint…" failed="Could not open the checkpoint." />
      {state.info.status === 'done' && <Inspection key={state.info.value.path} info={state.info.value} />}
    </section>
  );
}

/**
 * The image size the checkpoint's network was trained at: a .pth's flattened args give input_size
 * itself; a workbench checkpoint keeps its run config as JSON under config (the official args
 * under args). null when none is recorded (the host then evaluates at 224).
 */
export function trainedInputSize(metadata: Record<string, string>): number | null {
  const valid = (value: unknown) => (typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null);
  if (metadata.input_size !== undefined) return valid(Number(metadata.input_size));
  for (const key of ['config', 'args']) {
    if (metadata[key] === undefined) continue;
    try {
      const size = valid((JSON.parse(metadata[key]) as { input_size?: unknown } | null)?.input_size);
      if (size !== null) return size;
    } catch {
      // Not JSON: nothing recorded there.
    }
  }
  return null;
}

function Inspection({ info }: { info: CheckpointInfo }) {
  const store = useStores().inspector;
  const selected = useStore(store, (s) => s.selectedTensor);
  const histogram = useStore(store, (s) => s.histogram);
  // Model and input size for the tools: the checkpoint's own when it names them, editable.
  const [model, setModel] = useState(info.model ?? '');
  const trained = trainedInputSize(info.metadata);
  const [inputSize, setInputSize] = useState(trained === null ? '' : String(trained));
  const metadata = Object.entries(info.metadata);
  return (
    <>
      <div className="panels">
        <article className="panel" aria-labelledby="ckpt-summary-title">
          <h2 id="ckpt-summary-title">Summary</h2>
          <dl className="facts">
            <div className="fact"><dt>Path</dt><dd className="path">{info.path}</dd></div>
            <div className="fact"><dt>Format</dt><dd>{info.format}</dd></div>
            <div className="fact"><dt>Size</dt><dd>{formatBytes(info.bytes)}</dd></div>
            {/* checkpoint-best's name does not say which epoch it holds; its metadata (or a .pth's) does. */}
            {info.metadata.epoch !== undefined && <div className="fact"><dt>Epoch</dt><dd>{info.metadata.epoch}</dd></div>}
            <div className="fact"><dt>Model</dt><dd>{info.model ?? <span className="muted">no engine model matches exactly</span>}</dd></div>
            <div className="fact"><dt>Classes</dt><dd>{info.classes ?? '—'}</dd></div>
            <div className="fact"><dt>Tensors</dt><dd>{formatCount(info.totals.tensors)}</dd></div>
            <div className="fact"><dt>Elements</dt><dd>{formatCount(info.totals.elements)}</dd></div>
          </dl>
          {metadata.length > 0 && (
            <details>
              <summary>Metadata ({metadata.length})</summary>
              <MetadataList metadata={info.metadata} />
            </details>
          )}
        </article>
        <article className="panel" aria-labelledby="hist-title">
          <h2 id="hist-title">Histogram {selected && <code>{selected}</code>}</h2>
          {!selected && <p className="muted">Pick a tensor in the table below.</p>}
          <ResultStatus result={histogram} busy="Counting…" failed="Could not compute the histogram." />
          {histogram.status === 'done' && selected && <HistogramChart histogram={histogram.value} label={`Histogram of ${selected}`} />}
        </article>
      </div>

      <article className="panel" aria-labelledby="tensors-title">
        <h2 id="tensors-title">Tensors</h2>
        <TensorTable tensors={info.tensors} selected={selected} onSelect={(name) => void store.getState().selectTensor(name)} />
      </article>

      <article className="panel tools" aria-labelledby="tools-title">
        <header className="panel-header">
          <h2 id="tools-title">Use this checkpoint</h2>
          <div className="tool-form">
            <div className="field">
              <label htmlFor="tool-model">Model</label>
              <input id="tool-model" type="text" value={model} placeholder="from the checkpoint" onChange={(e) => setModel(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="tool-size">Input size</label>
              <input id="tool-size" type="text" inputMode="numeric" value={inputSize} placeholder="224 (none recorded)" onChange={(e) => setInputSize(e.target.value)} />
            </div>
          </div>
        </header>
        <div className="tool-grid">
          <EvaluateTool model={model} inputSize={inputSize} />
          <DiffTool />
          <ConvertTool path={info.path} />
          <ClassifyTool model={model} inputSize={inputSize} />
        </div>
        <GateStatisticsTool model={model} inputSize={inputSize} />
      </article>
    </>
  );
}
