// Every network the engine builds, with aliases, parameter count, MACs at 224x224 and the shapes
// of its state dict; and which of them a checkpoint's state dict fits exactly. Building the
// catalog constructs each model once (seconds for the 152-layer ones), so the workbench builds it
// in a worker process and keeps it; `pix models` builds it in place.
import type { StoredTensor } from '../checkpoints/safetensors';
import { classCountOf } from '../checkpoints/model_state';
import { loadEngine } from './addon';

export interface CatalogEntry {
  name: string;
  aliases: string[];
  description: string;
  family: 'pix' | 'resnet';
  parameters: number;
  macs224: number;
  /** State-dict keys and PyTorch shapes at the model's default class count. */
  state: { key: string; shape: number[] }[];
}

/** The classifier's entries: their first dimension is the class count, which a checkpoint may change. */
const HEAD_KEYS = new Set(['classifier.weight', 'classifier.bias', 'fc.weight', 'fc.bias']);

export function buildModelCatalog(): CatalogEntry[] {
  const engine = loadEngine();
  return engine.modelRegistry().map((entry) => {
    const model = new engine.Model(entry.name);
    return { ...entry, family: model.family, parameters: model.parameterCount, macs224: model.macs(224),
      state: model.stateEntries().map((e) => ({ key: e.key, shape: e.shape })) };
  });
}

function fits(entry: CatalogEntry, tensors: Map<string, StoredTensor>, classes: number): boolean {
  if (entry.state.length !== tensors.size) return false;
  return entry.state.every(({ key, shape }) => {
    const stored = tensors.get(key);
    if (!stored || stored.shape.length !== shape.length) return false;
    return stored.shape.every((d, i) => d === (i === 0 && HEAD_KEYS.has(key) ? classes : shape[i]));
  });
}

/** The engine model whose state dict this is, key for key and shape for shape (any class count). */
export function matchModel(catalog: CatalogEntry[], tensors: Map<string, StoredTensor>): { model: string | null; classes: number | null } {
  const classes = classCountOf(tensors) ?? null;
  if (classes === null) return { model: null, classes };
  const match = catalog.find((entry) => fits(entry, tensors, classes));
  return { model: match?.name ?? null, classes };
}

/** An official name or alias, case-insensitively, as the engine resolves it; null when unknown. */
export function canonicalModelName(catalog: CatalogEntry[], name: string): string | null {
  const wanted = name.toLowerCase();
  return catalog.find((e) => e.name.toLowerCase() === wanted || e.aliases.some((a) => a.toLowerCase() === wanted))?.name ?? null;
}
