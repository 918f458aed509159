// The typed mirror of the native engine (native/src/binding) and the only module that loads the
// `.node` file. Everything else in the host, the CLI and the tests imports the engine from here.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EngineInfo } from '../../../shared/engine';

export type DType = 'f32' | 'f64' | 'bf16' | 'i64';
/** 'cpu', 'cuda' (= 'cuda:0') or 'cuda:N'. */
export type DeviceName = string;
export type Layout = 'nhwc' | 'nchw';

/** A tensor owned by the engine. Shapes are plain arrays; data crosses only through toArray(). */
export interface Tensor {
  readonly shape: number[];
  readonly dtype: DType;
  readonly device: DeviceName;
  readonly numel: number;
  /** f32 and bf16 read back as Float32Array, f64 as Float64Array, i64 as BigInt64Array. */
  toArray(): Float32Array | Float64Array | BigInt64Array;
  to(device: DeviceName): Tensor;
  cast(dtype: DType): Tensor;
  /** Shares memory with this tensor. */
  reshape(shape: number[]): Tensor;
  /** Frees the memory now instead of at garbage collection; later use throws. */
  dispose(): void;
}

export interface TensorStatics {
  fromArray(data: Float32Array | Float64Array | BigInt64Array, shape: number[], dtype?: DType, device?: DeviceName): Tensor;
  zeros(shape: number[], dtype?: DType, device?: DeviceName): Tensor;
}

export interface PixParams {
  /** Channels per subset (>= 1). */
  zeta: number;
  /** Pick below, mix at or above. Default 0.5. */
  tau?: number;
  /** Layout of x and y. Default 'nhwc'. */
  layout?: Layout;
  /** 'reference' runs the plain CPU loop that the fast paths are tested against. */
  kernel?: 'fast' | 'reference';
}

export interface CudaMemoryStats {
  allocatedBytes: number;
  reservedBytes: number;
  peakAllocatedBytes: number;
  /** cudaMalloc calls so far: flat across steps once the cache is warm. */
  driverAllocations: number;
}

export interface NativeEngine {
  Tensor: TensorStatics;
  pixForward(x: Tensor, p: Tensor, params: PixParams): Tensor;
  pixBackward(x: Tensor, p: Tensor, dy: Tensor, params: PixParams & { dx?: boolean; dp?: boolean }): { dx?: Tensor; dp?: Tensor };
  engineInfo(): Omit<EngineInfo, 'addonPath'>;
  cudaMemoryStats(device: number): CudaMemoryStats;
  /** Waits until the device's queued engine work is done. */
  cudaSynchronize(device: number): void;
}

const ADDON_RELATIVE_PATH = join('native', 'build', 'Release', 'pix_engine.node');

/** The project root: the nearest folder above this file that holds the built addon's tree. */
function projectRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native', 'CMakeLists.txt'))) return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the PiX Workbench project root above ${__dirname}`);
  }
}

let loaded: { engine: NativeEngine; path: string } | undefined;

function load(): { engine: NativeEngine; path: string } {
  if (loaded) return loaded;
  const path = process.env.PIX_ENGINE_PATH ?? join(projectRoot(), ADDON_RELATIVE_PATH);
  if (!existsSync(path)) {
    throw new Error(`the native engine is not built (${path} is missing): run \`npm run build:native\``);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a .node file can only be require()d
  const engine = require(path) as NativeEngine;
  loaded = { engine, path };
  return loaded;
}

export function loadEngine(): NativeEngine {
  return load().engine;
}

export function engineInfo(): EngineInfo {
  const { engine, path } = load();
  return { ...engine.engineInfo(), addonPath: path };
}
