// "Fetch CIFAR-100" under the data path when --data_set CIFAR meets a folder without its files: the
// host downloads the published archive into that folder (fetchCifar, what `pix data fetch-cifar`
// does), with a progress bar while it downloads, the step after it, Cancel, and the host's reason
// when it fails. The form re-checks the folder when a fetch into it is done (NewRunForm).
import { useStore } from 'zustand';
import type { CifarFetchState } from '../../../../shared/api';
import { formatBytes } from '../../format';
import { fetchInto, isRunning } from '../../store/cifarFetch';
import { useStores } from '../../store/stores';
import { ErrorNotice } from '../Notice';

/** torchvision's cifar-100-python.tar.gz: 169,001,437 bytes. */
const ARCHIVE_SIZE = '≈170 MB';

/** What the running fetch is doing, in words. */
export function fetchProgressText(fetch: CifarFetchState): string {
  if (fetch.phase === 'verifying') return 'Checking the MD5…';
  if (fetch.phase === 'unpacking') return 'Unpacking…';
  if (fetch.totalBytes === null) return `Downloading… ${formatBytes(fetch.receivedBytes)}`;
  return `Downloading… ${fetchPercent(fetch)}% (${formatBytes(fetch.receivedBytes)} of ${formatBytes(fetch.totalBytes)})`;
}

function fetchPercent(fetch: CifarFetchState): number {
  return fetch.totalBytes ? Math.floor((100 * fetch.receivedBytes) / fetch.totalBytes) : 0;
}

export function CifarFetch({ dataPath }: { dataPath: string }) {
  const { cifarFetch } = useStores();
  const fetch = useStore(cifarFetch, (s) => fetchInto(s, dataPath));
  const starting = useStore(cifarFetch, (s) => s.starting[dataPath] === true);
  const refused = useStore(cifarFetch, (s) => s.refused[dataPath] ?? null);
  const running = isRunning(fetch);

  return (
    <div className="cifar-fetch" role="group" aria-label="Fetch CIFAR-100">
      {running ? (
        <div className="progress-row" role="status">
          {fetch!.phase === 'downloading' && fetch!.totalBytes !== null ? (
            <progress max={100} value={fetchPercent(fetch!)} aria-label="CIFAR-100 download" />
          ) : (
            <progress aria-label="CIFAR-100 download" />
          )}
          <span>{fetchProgressText(fetch!)}</span>
          {fetch!.phase === 'downloading' && (
            <button type="button" onClick={() => void cifarFetch.getState().cancel(dataPath)}>
              Cancel
            </button>
          )}
        </div>
      ) : (
        <button type="button" disabled={starting} onClick={() => void cifarFetch.getState().start(dataPath)}>
          {starting ? 'Starting…' : `Fetch CIFAR-100 (${ARCHIVE_SIZE})`}
        </button>
      )}
      {fetch?.phase === 'failed' && <ErrorNotice title="Fetching CIFAR-100 failed." message={fetch.error ?? 'no reason given'} />}
      {fetch?.phase === 'cancelled' && <p className="field-note">The fetch was cancelled; nothing half-downloaded was kept.</p>}
      {refused && <ErrorNotice title="The host refused to fetch CIFAR-100." message={refused} />}
      <p className="field-note">
        The host downloads torchvision&apos;s archive into {dataPath}, checks its MD5 and unpacks cifar-100-python/ there.
      </p>
    </div>
  );
}
