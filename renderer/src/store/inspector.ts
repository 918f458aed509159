// The checkpoint inspector: the open checkpoint's metadata and tensor statistics, and the requests
// made about it (histogram of one tensor, diff against another file, evaluation, conversion, gate
// statistics, one image classified). Each request keeps its own result, so one failing does not
// hide the others. Changing the checkpoint clears every result that was about the old one.
import { createStore } from 'zustand/vanilla';
import type {
  CheckpointDiff,
  CheckpointInfo,
  EvalSummary,
  GateBlockStats,
  Histogram,
  ImageClassification,
  TensorStats,
  WorkbenchClient,
} from '../../../shared/api';
import { idle, track, type AsyncResult } from './asyncResult';

export type TensorSortKey = 'name' | 'elements' | 'min' | 'max' | 'mean' | 'std';

/** Tensors whose name contains the filter, sorted by a column (empty statistics last). */
export function tensorRows(
  tensors: readonly TensorStats[],
  filter: string,
  sortKey: TensorSortKey,
  descending: boolean,
): TensorStats[] {
  const needle = filter.trim().toLowerCase();
  const rows = needle ? tensors.filter((t) => t.name.toLowerCase().includes(needle)) : tensors.slice();
  const sign = descending ? -1 : 1;
  return rows.sort((a, b) => {
    if (sortKey === 'name') return sign * a.name.localeCompare(b.name);
    const x = a[sortKey];
    const y = b[sortKey];
    if (x === null) return y === null ? 0 : 1;
    if (y === null) return -1;
    return sign * (x - y);
  });
}

export interface InspectorState {
  path: string;
  info: AsyncResult<CheckpointInfo>;
  selectedTensor: string | null;
  histogram: AsyncResult<Histogram>;
  diff: AsyncResult<CheckpointDiff>;
  evaluation: AsyncResult<EvalSummary>;
  conversion: AsyncResult<{ path: string; bytes: number }>;
  gates: AsyncResult<{ blocks: GateBlockStats[]; images: number }>;
  classification: AsyncResult<ImageClassification>;
  setPath: (path: string) => void;
  open: (path: string) => Promise<void>;
  selectTensor: (name: string) => Promise<void>;
  compareWith: (other: string) => Promise<void>;
  evaluate: (request: { dataPath: string; model?: string; inputSize?: number; batchSize?: number }) => Promise<void>;
  convert: (to: string) => Promise<void>;
  gateStatistics: (request: { dataPath: string; images: number; model?: string; inputSize?: number }) => Promise<void>;
  classify: (base64: string, request: { model?: string; inputSize?: number }) => Promise<void>;
}

export function createInspectorStore(client: WorkbenchClient) {
  return createStore<InspectorState>()((set, get) => {
    // Answers about a checkpoint that is no longer the open one are dropped.
    const about = (path: string) => () => get().path === path;
    return {
      path: '',
      info: idle,
      selectedTensor: null,
      histogram: idle,
      diff: idle,
      evaluation: idle,
      conversion: idle,
      gates: idle,
      classification: idle,
      setPath: (path) => set({ path }),
      open: async (path) => {
        set({
          path, selectedTensor: null, histogram: idle, diff: idle, evaluation: idle, conversion: idle, gates: idle, classification: idle,
        });
        await track(() => client.api.inspectCheckpoint({ path }), (info) => set({ info }), about(path));
      },
      selectTensor: async (name) => {
        const { path } = get();
        set({ selectedTensor: name });
        await track(
          () => client.api.tensorHistogram({ path, name, bins: 60 }),
          (histogram) => set({ histogram }),
          () => get().path === path && get().selectedTensor === name,
        );
      },
      compareWith: async (other) => {
        const { path } = get();
        await track(() => client.api.diffCheckpoints({ a: path, b: other }), (diff) => set({ diff }), about(path));
      },
      evaluate: async (request) => {
        const { path } = get();
        await track(() => client.api.evaluateCheckpoint({ path, ...request }), (evaluation) => set({ evaluation }), about(path));
      },
      convert: async (to) => {
        const { path } = get();
        await track(() => client.api.convertCheckpoint({ from: path, to }), (conversion) => set({ conversion }), about(path));
      },
      gateStatistics: async (request) => {
        const { path } = get();
        await track(() => client.api.gateStatistics({ path, ...request }), (gates) => set({ gates }), about(path));
      },
      classify: async (base64, request) => {
        const { path } = get();
        await track(
          () => client.api.classifyImage({ path, image: { base64 }, ...request }),
          (classification) => set({ classification }),
          about(path),
        );
      },
    };
  });
}
