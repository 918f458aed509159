// What can be done with the open checkpoint besides reading it: diff against another file,
// evaluate on a dataset, convert to .pth or .safetensors. Each is a small form whose result (or
// the host's refusal) shows under it.
import { useState } from 'react';
import { useStore } from 'zustand';
import { formatBytes, formatCount, formatDuration, formatMetric, formatPercent } from '../../format';
import { useStores } from '../../store/stores';
import { ResultStatus } from '../Notice';
import { PathField } from '../PathField';

/** '' → undefined (let the host decide); otherwise the whole number typed, or NaN to refuse. */
export function optionalInt(text: string): number | undefined {
  return text.trim() === '' ? undefined : Number(text);
}

export function DiffTool() {
  const store = useStores().inspector;
  const diff = useStore(store, (s) => s.diff);
  const [other, setOther] = useState('');
  return (
    <section className="tool" aria-labelledby="diff-title">
      <h3 id="diff-title">Diff with another checkpoint</h3>
      <form className="tool-form" onSubmit={(e) => { e.preventDefault(); void store.getState().compareWith(other); }}>
        <PathField label="Other checkpoint" value={other} onChange={setOther} pick={{ extensions: ['safetensors', 'pth'] }} />
        <button type="submit" disabled={other.trim() === ''}>Compare</button>
      </form>
      <ResultStatus result={diff} busy="Comparing…" failed="Could not compare." />
      {diff.status === 'done' && (
        <div className="tool-result">
          <p>
            {diff.value.identical} identical · {diff.value.changed.length} changed · {diff.value.onlyInA.length} only here ·{' '}
            {diff.value.onlyInB.length} only there · {diff.value.shapeMismatch.length} shape mismatches
          </p>
          {diff.value.changed.length > 0 && (
            <div className="table-scroll table-short">
              <table className="table">
                <thead>
                  <tr><th scope="col">Tensor</th><th scope="col" className="numeric">Max |Δ|</th><th scope="col" className="numeric">Relative L2</th></tr>
                </thead>
                <tbody>
                  {diff.value.changed.slice(0, 200).map((c) => (
                    <tr key={c.name}><td className="mono">{c.name}</td><td className="numeric">{formatMetric(c.maxAbsDiff)}</td><td className="numeric">{formatMetric(c.relativeL2)}</td></tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {diff.value.shapeMismatch.map((m) => (
            <p key={m.name} className="mono">{m.name}: ({m.shapeA.join(', ')}) vs ({m.shapeB.join(', ')})</p>
          ))}
          {[...diff.value.onlyInA.map((n) => `only here: ${n}`), ...diff.value.onlyInB.map((n) => `only there: ${n}`)].slice(0, 50).map((line) => (
            <p key={line} className="mono muted">{line}</p>
          ))}
        </div>
      )}
    </section>
  );
}

export function EvaluateTool({ model, inputSize }: { model: string; inputSize: string }) {
  const store = useStores().inspector;
  const evaluation = useStore(store, (s) => s.evaluation);
  const [dataPath, setDataPath] = useState('');
  const [batchSize, setBatchSize] = useState('');
  const batch = optionalInt(batchSize);
  const size = optionalInt(inputSize);
  const bad = [batch, size].some((n) => n !== undefined && !(Number.isInteger(n) && n > 0));
  return (
    <section className="tool" aria-labelledby="eval-title">
      <h3 id="eval-title">Evaluate</h3>
      <form
        className="tool-form"
        onSubmit={(e) => {
          e.preventDefault();
          void store.getState().evaluate({ dataPath, model: model.trim() || undefined, inputSize: size, batchSize: batch });
        }}
      >
        <PathField label="Dataset (train/ and val/, evaluated on val/; or class folders; empty: demo digits)" value={dataPath} onChange={setDataPath} pick={{ folder: true }} placeholder="(embedded demo digits)" />
        <div className="field">
          <label htmlFor="eval-batch">Batch size</label>
          <input id="eval-batch" type="text" inputMode="numeric" value={batchSize} placeholder="host default" onChange={(e) => setBatchSize(e.target.value)} />
        </div>
        <button type="submit" disabled={bad}>Evaluate</button>
      </form>
      {bad && <p className="field-error">Input size and batch size must be whole numbers above 0.</p>}
      <ResultStatus result={evaluation} busy="Evaluating…" failed="Evaluation failed." />
      {evaluation.status === 'done' && (
        <p className="tool-result">
          top-1 <strong>{formatPercent(evaluation.value.acc1)}</strong> · top-5 <strong>{formatPercent(evaluation.value.acc5)}</strong> · loss{' '}
          {formatMetric(evaluation.value.loss)} · {formatCount(evaluation.value.images)} images in {formatDuration(evaluation.value.seconds)}
        </p>
      )}
    </section>
  );
}

export function ConvertTool({ path }: { path: string }) {
  const store = useStores().inspector;
  const conversion = useStore(store, (s) => s.conversion);
  const other = path.endsWith('.pth') ? path.replace(/\.pth$/, '.safetensors') : path.replace(/\.safetensors$/, '') + '.pth';
  const [to, setTo] = useState(other);
  const extensionOk = /\.(pth|safetensors)$/.test(to);
  return (
    <section className="tool" aria-labelledby="convert-title">
      <h3 id="convert-title">Convert / export</h3>
      <form className="tool-form" onSubmit={(e) => { e.preventDefault(); void store.getState().convert(to); }}>
        <div className="field field-wide">
          <label htmlFor="convert-to">Write to (.pth or .safetensors)</label>
          <input id="convert-to" type="text" value={to} spellCheck={false} onChange={(e) => setTo(e.target.value)} aria-invalid={!extensionOk || undefined} />
        </div>
        <button type="submit" disabled={!extensionOk}>Convert</button>
      </form>
      {!extensionOk && <p className="field-error">The file name must end in .pth or .safetensors.</p>}
      <ResultStatus result={conversion} busy="Converting…" failed="Conversion failed." />
      {conversion.status === 'done' && (
        <p className="tool-result">
          Wrote <code>{conversion.value.path}</code> ({formatBytes(conversion.value.bytes)}).
        </p>
      )}
    </section>
  );
}
