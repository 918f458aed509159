// PiX gates of the open checkpoint: statistics per block over a sample of a dataset (how often each
// block picks, and its gate values against τ), and one image classified with, per block, which
// channel subsets picked (max) and which mixed (average).
import { useState } from 'react';
import { useStore } from 'zustand';
import type { ImageClassification } from '../../../../shared/api';
import { formatPercent } from '../../format';
import { useStores } from '../../store/stores';
import { ResultStatus } from '../Notice';
import { PathField } from '../PathField';
import { optionalInt } from './CheckpointTools';
import { HistogramChart } from './HistogramChart';

export function GateStatisticsTool({ model, inputSize }: { model: string; inputSize: string }) {
  const store = useStores().inspector;
  const gates = useStore(store, (s) => s.gates);
  const [dataPath, setDataPath] = useState('');
  const [images, setImages] = useState('64');
  const count = Number(images);
  const countOk = Number.isInteger(count) && count >= 1 && count <= 512;
  return (
    <section className="tool" aria-labelledby="gates-title">
      <h3 id="gates-title">PiX gate statistics</h3>
      <form
        className="tool-form"
        onSubmit={(e) => {
          e.preventDefault();
          void store.getState().gateStatistics({ dataPath, images: count, model: model.trim() || undefined, inputSize: optionalInt(inputSize) });
        }}
      >
        <PathField label="Sample from dataset (empty: demo digits)" value={dataPath} onChange={setDataPath} pick={{ folder: true }} placeholder="(embedded demo digits)" />
        <div className="field">
          <label htmlFor="gate-images">Images (1–512)</label>
          <input id="gate-images" type="text" inputMode="numeric" value={images} onChange={(e) => setImages(e.target.value)} aria-invalid={!countOk || undefined} />
        </div>
        <button type="submit" disabled={!countOk}>Compute gate statistics</button>
      </form>
      {!countOk && <p className="field-error">Images must be a whole number from 1 to 512.</p>}
      <ResultStatus result={gates} busy="Running the sample…" failed="Gate statistics failed." />
      {gates.status === 'done' && <p className="muted">Over {gates.value.images} images; the dashed line is the threshold τ.</p>}
      {gates.status === 'done' && gates.value.blocks.length === 0 && <p className="muted">This network has no PiX blocks.</p>}
      {gates.status === 'done' && (
        <div className="gate-blocks">
          {gates.value.blocks.map((block) => (
            <div key={block.block} className="gate-block">
              <div className="gate-block-head">
                <code>{block.block}</code>
                <span>{block.subsets} subsets</span>
                <span>pick {formatPercent(100 * block.pickFraction, 1)}</span>
                <span className="bar" aria-hidden="true">
                  <span className="bar-fill" style={{ width: `${100 * block.pickFraction}%` }} />
                </span>
              </div>
              <HistogramChart histogram={block.histogram} markers={[{ x: block.tau, label: `τ ${block.tau}` }]} height={110} label={`Gate values of ${block.block}`} />
            </div>
          ))}
        </div>
      )}
    </section>
  );
}

/** The file's bytes as base64, without the data-URL prefix. */
function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error ?? new Error(`could not read ${file.name}`));
    reader.readAsDataURL(file);
  });
}

export function ClassifyTool({ model, inputSize }: { model: string; inputSize: string }) {
  const store = useStores().inspector;
  const classification = useStore(store, (s) => s.classification);
  const [preview, setPreview] = useState<string | null>(null);
  const classify = async (file: File) => {
    const base64 = await readBase64(file);
    setPreview(`data:${file.type || 'image/png'};base64,${base64}`);
    await store.getState().classify(base64, { model: model.trim() || undefined, inputSize: optionalInt(inputSize) });
  };
  return (
    <section className="tool" aria-labelledby="classify-title">
      <h3 id="classify-title">Classify an image</h3>
      <div className="tool-form">
        <div className="field">
          <label htmlFor="classify-file">Image file</label>
          <input id="classify-file" type="file" accept="image/*" onChange={(e) => e.target.files?.[0] && void classify(e.target.files[0])} />
        </div>
        {preview && <img className="classify-preview" src={preview} alt="The image classified" />}
      </div>
      <ResultStatus result={classification} busy="Classifying…" failed="Classification failed." />
      {classification.status === 'done' && <ClassificationView result={classification.value} />}
    </section>
  );
}

function ClassificationView({ result }: { result: ImageClassification }) {
  return (
    <div className="tool-result">
      <ol className="top5" aria-label="Top 5">
        {result.top5.map((p) => (
          <li key={p.classIndex}>
            <span className="top5-name">{p.className ?? `class ${p.classIndex}`}</span>
            <span className="bar" aria-hidden="true">
              <span className="bar-fill" style={{ width: `${100 * p.probability}%` }} />
            </span>
            <span className="numeric">{formatPercent(100 * p.probability, 1)}</span>
          </li>
        ))}
      </ol>
      {result.blocks.length > 0 && (
        <div className="gate-strips" aria-label="Pick or mix per block">
          <p className="muted">
            Per block, one cell per channel subset: <span className="legend legend-pick">pick (max)</span>{' '}
            <span className="legend legend-mix">mix (average)</span>
          </p>
          {result.blocks.map((block) => (
            <div key={block.block} className="gate-strip-row">
              <code>{block.block}</code>
              <GateStrip picked={block.picked} gate={block.gate} />
              <span className="muted">
                {block.picked.filter(Boolean).length}/{block.picked.length} picked
              </span>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

/** One SVG row of cells, one per subset, so a block of hundreds of subsets stays one element. */
function GateStrip({ picked, gate }: { picked: boolean[]; gate: number[] }) {
  const width = 400;
  const cell = width / Math.max(1, picked.length);
  return (
    <svg className="gate-strip" viewBox={`0 0 ${width} 10`} preserveAspectRatio="none" role="img" aria-label={`${picked.filter(Boolean).length} of ${picked.length} subsets picked`}>
      {picked.map((p, i) => (
        <rect key={i} x={i * cell} y={0} width={cell} height={10} className={p ? 'cell-pick' : 'cell-mix'}>
          <title>{`subset ${i}: gate ${gate[i]?.toFixed(3)} → ${p ? 'pick' : 'mix'}`}</title>
        </rect>
      ))}
    </svg>
  );
}
