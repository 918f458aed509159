// The Engine page: which native engine the host loaded and what it can run on (CPU, CUDA).
import { useEffect, type ReactNode } from 'react';
import type {
  CpuBackendInfo,
  CpuSimdLevel,
  CudaBackendInfo,
  CudaDeviceInfo,
  EngineInfo,
} from '../../../shared/engine';
import { useStore } from 'zustand';
import { ErrorNotice } from '../components/Notice';
import { useStores } from '../store/stores';
import { asSentence } from '../format';

export function EnginePage() {
  const store = useStores().engine;
  const engine = useStore(store, (state) => state.engine);
  const load = useStore(store, (state) => state.load);

  useEffect(() => {
    if (store.getState().engine.status === 'idle') void load();
  }, [store, load]);

  return (
    <section className="page" aria-labelledby="engine-title">
      <h1 id="engine-title">Engine</h1>
      {engine.status === 'loaded' ? (
        <EngineDetails info={engine.info} />
      ) : engine.status === 'failed' ? (
        <ErrorNotice title="Could not read the engine information." message={engine.message}>
          <button type="button" onClick={() => void load()}>
            Retry
          </button>
        </ErrorNotice>
      ) : (
        <p className="loading" role="status">
          Querying the engine…
        </p>
      )}
    </section>
  );
}

function EngineDetails({ info }: { info: EngineInfo }) {
  return (
    <>
      <dl className="facts">
        <Fact label="Version">{info.version}</Fact>
        <Fact label="Addon">
          <code className="path">{info.addonPath}</code>
        </Fact>
      </dl>
      <div className="panels">
        <CpuPanel cpu={info.backends.cpu} />
        <CudaPanel cuda={info.backends.cuda} />
      </div>
    </>
  );
}

const simdLabels: Record<CpuSimdLevel, string> = {
  avx512: 'AVX-512',
  avx2: 'AVX2',
  portable: 'Portable (no vector kernels)',
};

function CpuPanel({ cpu }: { cpu: CpuBackendInfo }) {
  return (
    <article className="panel" aria-labelledby="cpu-title">
      <header className="panel-header">
        <h2 id="cpu-title">CPU</h2>
        <span className="pill pill-ok">Available</span>
      </header>
      <dl className="facts">
        <Fact label="Threads">{cpu.threads}</Fact>
        <Fact label="SIMD">{simdLabels[cpu.simd]}</Fact>
        <Fact label="Features">
          <TagList tags={cpu.features} empty="None detected" />
        </Fact>
      </dl>
    </article>
  );
}

function CudaPanel({ cuda }: { cuda: CudaBackendInfo }) {
  const usable = cuda.compiled && cuda.devices.length > 0;
  return (
    <article className="panel panel-wide" aria-labelledby="cuda-title">
      <header className="panel-header">
        <h2 id="cuda-title">CUDA</h2>
        <span className={usable ? 'pill pill-ok' : 'pill pill-off'}>
          {usable ? 'Available' : cuda.compiled ? 'No usable device' : 'Not compiled'}
        </span>
      </header>
      {cuda.unavailableReason && <p className="notice">{asSentence(cuda.unavailableReason)}</p>}
      {cuda.emulated && (
        <p className="notice">This engine is the CUDA emulator, a test build: its CUDA backend runs on the CPU, for results, not speed.</p>
      )}
      <dl className="facts">
        <Fact label="Compiled in">{cuda.compiled ? 'Yes' : 'No'}</Fact>
        <Fact label="Runtime">{cuda.runtimeVersion ?? '—'}</Fact>
        <Fact label="Driver">{cuda.driverVersion ?? '—'}</Fact>
        <Fact label="Architectures">
          <TagList tags={cuda.architectures.map((arch) => `sm_${arch}`)} empty="—" />
        </Fact>
        <Fact label="Libraries">
          <span className="tags">
            <LibraryFlag name="cuDNN" present={cuda.cudnn} how="Loaded at run time" />
            <LibraryFlag name="cuBLAS" present={cuda.cublas} how="Loaded at run time" />
            <LibraryFlag name="NCCL" present={cuda.nccl} how="Loaded at run time" />
          </span>
        </Fact>
        {cuda.gemm && <Fact label="Matrix products">{cuda.gemm}{cuda.gemmTf32 ? ' (TF32 allowed)' : ''}</Fact>}
        {cuda.conv && <Fact label="Convolutions">{cuda.conv}</Fact>}
        {cuda.ncclLibrary && <Fact label="Multi-GPU (NCCL)">{cuda.ncclLibrary}</Fact>}
      </dl>
      {cuda.devices.length > 0 && <DeviceTable devices={cuda.devices} />}
    </article>
  );
}

function DeviceTable({ devices }: { devices: CudaDeviceInfo[] }) {
  return (
    <table className="devices">
      <caption>Devices</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Name</th>
          <th scope="col">Compute capability</th>
          <th scope="col" className="numeric">Memory</th>
          <th scope="col" className="numeric">SMs</th>
        </tr>
      </thead>
      <tbody>
        {devices.map((device) => (
          <tr key={device.index}>
            <td>{device.index}</td>
            <td>{device.name}</td>
            <td>{device.capability}</td>
            <td className="numeric">{formatGiB(device.totalMemoryBytes)}</td>
            <td className="numeric">{device.multiprocessors}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function TagList({ tags, empty }: { tags: string[]; empty: string }) {
  if (tags.length === 0) return <span className="muted">{empty}</span>;
  return (
    <span className="tags">
      {tags.map((tag) => (
        <span key={tag} className="tag">
          {tag}
        </span>
      ))}
    </span>
  );
}

/** A vendor library: `how` says what present means (cuDNN is linked at build time, the others opened at run time). */
function LibraryFlag({ name, present, how }: { name: string; present: boolean; how: string }) {
  return (
    <span className={present ? 'tag tag-on' : 'tag tag-off'} title={present ? how : `Not ${how.toLowerCase()}`}>
      {name} {present ? '✓' : '✗'}
    </span>
  );
}

function formatGiB(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}
