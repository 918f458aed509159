// The New-run form: every run flag, grouped, generated from the run-config table (formModel.ts);
// presets as one-click buttons; the dataset checked live by the host; effective batch and
// iterations per epoch shown as the fields change; the Start button enabled only when the whole
// config passes runConfigSchema and the dataset exists. The host's refusal is shown as it said it.
// --data_set CIFAR on a folder without CIFAR-100 offers to fetch it there (CifarFetch), and the
// folder is checked again once that fetch is done.
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useStore } from 'zustand';
import type { RunSummary } from '../../../../shared/api';
import { runFlags, type RunConfig, type RunFlagName } from '../../../../shared/config';
import { runPresets } from '../../../../shared/presets';
import { errorMessage, formatCount } from '../../format';
import { fetchInto } from '../../store/cifarFetch';
import { useStores } from '../../store/stores';
import { ErrorNotice } from '../Notice';
import { PathField } from '../PathField';
import { CifarFetch } from './CifarFetch';
import { FlagField } from './FlagField';
import {
  effectiveBatch,
  flagControlId,
  formGroups,
  formValuesOf,
  iterationsPerEpoch,
  parseField,
  validateForm,
  type FieldValue,
  type FormValues,
} from './formModel';
import { datasetUse, useDatasetCheck, type DatasetUse } from './useDatasetCheck';

/** Groups shown open at first; the rest are one click away (their errors are listed at the bottom). */
const openGroups = new Set(['model', 'optimization', 'schedule', 'data', 'runtime']);

export interface NewRunFormProps {
  initial: { name: string; config: Partial<RunConfig> };
  onStarted: (run: RunSummary) => void;
  onCancel: () => void;
}

export function NewRunForm({ initial, onStarted, onCancel }: NewRunFormProps) {
  const stores = useStores();
  const models = useStore(stores.runs, (s) => s.models);
  const engine = useStore(stores.engine, (s) => s.engine);
  const [name, setName] = useState(initial.name);
  const [values, setValues] = useState<FormValues>(() => formValuesOf(initial.config));
  const [starting, setStarting] = useState(false);
  const [startError, setStartError] = useState<string | null>(null);

  useEffect(() => {
    if (stores.engine.getState().engine.status === 'idle') void stores.engine.getState().load();
  }, [stores.engine]);

  const groups = useMemo(() => formGroups(), []);
  const { config, errors } = useMemo(() => validateForm(values), [values]);
  const dataPath = typeof values.data_path === 'string' ? values.data_path : '';
  // A fetch into the folder that is done (its end time) asks for the check again: the form turns valid by itself.
  const fetchedAt = useStore(stores.cifarFetch, (s) => {
    const fetch = fetchInto(s, dataPath);
    return fetch?.phase === 'done' ? fetch.finishedAt : null;
  });
  const dataset = useDatasetCheck(dataPath, fetchedAt);
  const use = datasetUse(dataset, datasetFlagsOf(values));
  const allErrors = { ...use.problems, ...errors };
  const ready = config !== null && dataset.status === 'checked' && dataset.check.ok && Object.keys(use.problems).length === 0;

  // A preset or clone may name a model by alias (PiXResNet50_cs); the select shows the model it means.
  const modelValue = (value: FieldValue) => {
    const text = String(value).toLowerCase();
    return models.find((m) => m.name.toLowerCase() === text || m.aliases.some((a) => a.toLowerCase() === text))?.name ?? value;
  };
  const set = (flag: RunFlagName, value: FieldValue) => setValues((old) => ({ ...old, [flag]: value }));

  const modelOptions = models.map((m) => ({ value: m.name, label: `${m.name} · ${(m.parameters / 1e6).toFixed(2)} M params` }));
  const deviceOptions = [
    { value: 'cpu', label: 'cpu' },
    ...(engine.status === 'loaded' ? engine.info.backends.cuda.devices.map((d) => ({ value: `cuda:${d.index}`, label: `cuda:${d.index} · ${d.name}` })) : []),
  ];

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!config || !ready) return;
    setStarting(true);
    setStartError(null);
    try {
      onStarted(await stores.runs.getState().start(name, config));
    } catch (error) {
      setStartError(errorMessage(error));
    } finally {
      setStarting(false);
    }
  };

  return (
    <form className="run-form" onSubmit={(event) => void submit(event)} aria-labelledby="new-run-title" noValidate>
      <header className="panel-header">
        <h2 id="new-run-title">New run</h2>
        <div className="presets" role="group" aria-label="Presets">
          {runPresets.map((preset) => (
            <button key={preset.id} type="button" title={preset.description} onClick={() => setValues(formValuesOf(preset.values))}>
              {preset.label}
            </button>
          ))}
          <button type="button" onClick={() => setValues(formValuesOf({}))}>
            Official defaults
          </button>
        </div>
      </header>

      <div className="field field-wide">
        <label htmlFor="run-name">Run name</label>
        <input id="run-name" type="text" value={name} placeholder="(named by the host)" onChange={(e) => setName(e.target.value)} />
      </div>

      {groups.map(({ group, title, fields }) => (
        <details key={group} className="flag-group" open={openGroups.has(group)}>
          <summary>
            {title}
            {fields.some((f) => allErrors[f.name]) && <span className="pill pill-error">needs attention</span>}
          </summary>
          <div className="flag-grid">
            {fields.map((field) =>
              field.name === 'data_path' ? (
                <PathField key={field.name} id={flagControlId(field.name)} label={field.label} value={dataPath} onChange={(v) => set('data_path', v)} pick={{ folder: true }}
                  placeholder="(embedded demo digits)" error={allErrors.data_path} hint={use.hint} note={field.note}>
                  {use.cifarFetch !== undefined && <CifarFetch dataPath={use.cifarFetch} />}
                </PathField>
              ) : (
                <FlagField
                  key={field.name}
                  field={field}
                  value={field.name === 'model' ? modelValue(values.model) : values[field.name]}
                  error={allErrors[field.name]}
                  onChange={(v) => set(field.name, v)}
                  options={field.name === 'model' && models.length > 0 ? modelOptions : field.name === 'device' ? deviceOptions : undefined}
                />
              ),
            )}
          </div>
        </details>
      ))}

      <footer className="run-form-footer">
        <Derived values={values} dataset={use} />
        {Object.keys(allErrors).length > 0 && (
          <ul className="form-errors" aria-label="Problems">
            {Object.entries(allErrors).map(([flag, message]) => (
              <li key={flag}>
                <button type="button" className="link" onClick={() => showFlag(flag as RunFlagName)}>
                  <code>--{flag}</code>
                </button>
                : {message}
              </li>
            ))}
          </ul>
        )}
        {startError && <ErrorNotice title="The host refused to start the run." message={startError} />}
        <div className="actions">
          <button type="submit" className="primary" disabled={!ready || starting}>
            Start run
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </footer>
    </form>
  );
}

/**
 * Opens the group holding a flag and puts the cursor in it: a wrong value in a closed group
 * (Augmentation, EMA…) is only listed at the bottom, and finding it by hand meant opening groups.
 */
function showFlag(flag: RunFlagName) {
  const control = document.getElementById(flagControlId(flag));
  const group = control?.closest('details');
  if (group) group.open = true;
  control?.focus();
}

/** The form's dataset flags as datasetUse reads them. */
function datasetFlagsOf(values: FormValues) {
  const nbClasses = parseField(runFlags.nb_classes, values.nb_classes);
  return {
    data_set: String(values.data_set),
    eval_data_path: typeof values.eval_data_path === 'string' ? values.eval_data_path : '',
    nb_classes: nbClasses.ok && typeof nbClasses.value === 'number' ? nbClasses.value : null,
    evaluates: values.eval === true || values.disable_eval !== true,
  };
}

/** Effective batch and iterations per epoch from whatever of their fields parse now. */
function Derived({ values, dataset }: { values: FormValues; dataset: DatasetUse }) {
  const number = (flag: 'batch_size' | 'update_freq' | 'nproc_per_node') => {
    const parsed = parseField(runFlags[flag], values[flag]);
    return parsed.ok && typeof parsed.value === 'number' && parsed.value > 0 ? parsed.value : null;
  };
  const parts = { batch_size: number('batch_size'), update_freq: number('update_freq'), nproc_per_node: number('nproc_per_node') };
  const batch = parts.batch_size && parts.update_freq && parts.nproc_per_node ? effectiveBatch(parts as { batch_size: number; update_freq: number; nproc_per_node: number }) : null;
  const train = dataset.trainImages;
  return (
    <dl className="derived">
      <div>
        <dt>Effective batch</dt>
        <dd data-testid="effective-batch">
          {batch === null ? '—' : `${formatCount(batch)} = ${parts.batch_size} × ${parts.update_freq} × ${parts.nproc_per_node}`}
        </dd>
      </div>
      <div>
        <dt>Iterations per epoch</dt>
        <dd data-testid="iterations-per-epoch">{batch !== null && train !== null ? formatCount(iterationsPerEpoch(train, batch)) : '—'}</dd>
      </div>
    </dl>
  );
}
