// Live validation of a dataset path: asks the host (checkDataset) once typing pauses, and keeps
// only the answer for the path currently typed. '' is the embedded demo digits, checked like any path.
import { useEffect, useState } from 'react';
import type { DatasetCheck } from '../../../../shared/api';
import { errorMessage } from '../../format';
import { useStores } from '../../store/stores';

export type DatasetCheckState =
  | { status: 'checking'; path: string }
  | { status: 'checked'; check: DatasetCheck }
  | { status: 'failed'; path: string; message: string };

/** Long enough that a typed path is not checked letter by letter. */
const datasetCheckDelayMs = 350;

export function useDatasetCheck(path: string): DatasetCheckState {
  const { client } = useStores();
  const [state, setState] = useState<DatasetCheckState>({ status: 'checking', path });
  useEffect(() => {
    let current = true;
    setState({ status: 'checking', path });
    const timer = setTimeout(() => {
      client.api.checkDataset({ path }).then(
        (check) => current && setState({ status: 'checked', check }),
        (error) => current && setState({ status: 'failed', path, message: errorMessage(error) }),
      );
    }, datasetCheckDelayMs);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [client, path]);
  return state;
}

/** Why the dataset cannot be used, or null when it can (or is still being checked). */
export function datasetProblem(state: DatasetCheckState): string | null {
  if (state.status === 'failed') return `Could not check the dataset: ${state.message}`;
  if (state.status === 'checked' && !state.check.ok) return state.check.problem;
  return null;
}
