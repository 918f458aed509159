// The workbench shell: navigation between the pages, the connection state (a first call that
// failed is said plainly, titled by how it failed, with a Retry, once: the pages leave that failure
// out of their own notices), and the stores subscribed to the host's events for the app's life.
// Pages are switched, not routed: the hash only remembers which one is open.
import { useEffect } from 'react';
import { useStore } from 'zustand';
import { readCallFailure, type ShownFailureKind } from '../../shared/call_failure';
import { ErrorNotice, ShellFailure } from './components/Notice';
import { SystemMeter } from './components/monitor/SystemPanel';
import { formatPercent } from './format';
import { CheckpointsPage } from './pages/CheckpointsPage';
import { EnginePage } from './pages/EnginePage';
import { MonitorPage } from './pages/MonitorPage';
import { RunsPage } from './pages/RunsPage';
import { ThroughputPage } from './pages/ThroughputPage';
import { pages, type Page } from './store/navigation';
import { connectStores, StoresProvider, useStores, type Stores } from './store/stores';
import type { Connection } from './store/system';

const pageTitles: Record<Page, string> = {
  runs: 'Runs',
  monitor: 'Run monitor',
  checkpoints: 'Checkpoints',
  throughput: 'Throughput',
  engine: 'Engine',
};

/** The banner's title for each way the connection check can fail; the failure's detail follows it. */
const failureTitles: Record<ShownFailureKind, string> = {
  unreachable: 'Cannot reach the workbench host.',
  host: 'The workbench host failed.',
  // A refused access token, or none given: the host answers, but not to this page.
  request: 'Cannot use the workbench host.',
};

const connectionLabels: Record<Connection['status'], string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  failed: 'Disconnected',
};

export function App({ stores }: { stores: Stores }) {
  useEffect(() => connectStores(stores), [stores]);
  useEffect(() => {
    void stores.system.getState().probe();
  }, [stores]);
  return (
    <StoresProvider stores={stores}>
      <Shell />
    </StoresProvider>
  );
}

function Shell() {
  const stores = useStores();
  const page = useStore(stores.navigation, (s) => s.page);
  const go = useStore(stores.navigation, (s) => s.go);
  const connection = useStore(stores.system, (s) => s.connection);
  const stats = useStore(stores.system, (s) => s.stats);

  // Alt+1…5 jump between pages from anywhere, focus on the page or not; the nav itself is plain
  // buttons in tab order.
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      const index = Number(event.key) - 1;
      if (event.altKey && !event.ctrlKey && !event.metaKey && index >= 0 && index < pages.length) {
        event.preventDefault();
        go(pages[index]);
      }
    };
    document.addEventListener('keydown', onKeyDown);
    return () => document.removeEventListener('keydown', onKeyDown);
  }, [go]);

  return (
    <div className="app">
      <aside className="sidebar">
        <div className="sidebar-inner">
          <div className="app-title">PiX Workbench</div>
          <nav aria-label="Pages">
            <ul>
              {pages.map((name, i) => (
                <li key={name}>
                  <button
                    type="button"
                    className="nav-item"
                    aria-current={page === name ? 'page' : undefined}
                    title={`${pageTitles[name]} (Alt+${i + 1})`}
                    onClick={() => go(name)}
                  >
                    {pageTitles[name]}
                  </button>
                </li>
              ))}
            </ul>
          </nav>
          <div className="sidebar-footer" aria-label="Host">
            <span className={`dot dot-${connection.status}`} aria-hidden="true" />
            {connectionLabels[connection.status]}
            {stats && (
              <div className="sidebar-stats">
                <SystemMeter label="CPU" percent={stats.cpuPercent} />
                <SystemMeter label="RAM" percent={(100 * stats.memoryUsedBytes) / stats.memoryTotalBytes} />
                {stats.gpus.map((gpu) => (
                  <SystemMeter key={gpu.index} label={`GPU${gpu.index}`} percent={gpu.utilizationPercent} title={`${gpu.name}: ${formatPercent(gpu.utilizationPercent, 0)}`} />
                ))}
              </div>
            )}
          </div>
        </div>
      </aside>
      <main className="app-main">
        {connection.status === 'failed' && <ConnectionFailure message={connection.message} />}
        <ShellFailure.Provider value={connection.status === 'failed' ? connection.message : null}>
          {page === 'runs' && <RunsPage />}
          {page === 'monitor' && <MonitorPage />}
          {page === 'checkpoints' && <CheckpointsPage />}
          {page === 'throughput' && <ThroughputPage />}
          {page === 'engine' && <EnginePage />}
        </ShellFailure.Provider>
      </main>
    </div>
  );
}

/** The banner for a failed connection check: titled by the failure's kind, the title not said again below it. */
function ConnectionFailure({ message }: { message: string }) {
  const stores = useStores();
  const { kind, detail } = readCallFailure(message);
  return (
    <ErrorNotice title={failureTitles[kind]} message={detail}>
      <button type="button" onClick={() => void stores.system.getState().probe()}>
        Retry
      </button>
    </ErrorNotice>
  );
}
