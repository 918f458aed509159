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

export interface GemmParams {
  /** A is stored (K,M) instead of (M,K). */
  transA?: boolean;
  /** B is stored (N,K) instead of (K,N). */
  transB?: boolean;
  /** Default 1. */
  alpha?: number;
  /** Default 0: c is overwritten without being read. */
  beta?: number;
  /**
   * 'fast' runs the best kernel for this CPU; 'avx512', 'avx2' or 'portable' that kernel (the CPU
   * must have it); 'reference' the plain loop (double sums) the kernels are tested against.
   */
  kernel?: 'fast' | 'reference' | 'avx512' | 'avx2' | 'portable';
  /**
   * Sizes of C (m,n) and the inner dimension k: all three or none. Without them they come from the
   * shapes, which must then match exactly; with them each matrix sits in the top-left corner of its
   * tensor, whose row length is the leading dimension.
   */
  m?: number;
  n?: number;
  k?: number;
}

export interface CudaMemoryStats {
  allocatedBytes: number;
  reservedBytes: number;
  peakAllocatedBytes: number;
  /** cudaMalloc calls so far: flat across steps once the cache is warm. */
  driverAllocations: number;
}

export type StateEntryKind =
  | 'conv_weight' | 'linear_weight' | 'bias' | 'bn_weight' | 'bn_bias'
  | 'bn_running_mean' | 'bn_running_var' | 'bn_num_batches_tracked';

/** One entry of a model's state dict: official key, PyTorch shape and dtype. */
export interface StateEntryInfo {
  key: string;
  shape: number[];
  dtype: DType;
  kind: StateEntryKind;
  /** A trainable parameter (else a BatchNorm buffer). */
  parameter: boolean;
}

export interface ForwardOptions {
  /** BatchNorm uses and updates batch statistics (PyTorch's model.train()). Default false. */
  train?: boolean;
  /** Head dropout on (only with train). Default false. */
  dropout?: boolean;
  /** Seed of the dropout mask. */
  seed?: number;
  /** Layout of x. Default 'nchw' (as PyTorch takes images). */
  layout?: Layout;
}

/** A network of the engine. Tensors crossing getState/setState/getGrad use PyTorch layouts (OIHW). */
export interface Model {
  readonly name: string;
  readonly numClasses: number;
  readonly family: 'pix' | 'resnet';
  readonly parameterCount: number;
  /** Multiply-accumulates of convolutions and the classifier for one square image. */
  macs(inputSize?: number): number;
  stateEntries(): StateEntryInfo[];
  getState(key: string): Tensor;
  setState(key: string, value: Tensor): void;
  getGrad(key: string): Tensor;
  zeroGrad(): void;
  /** Logits (N, classes); runs off the JS thread. */
  forward(x: Tensor, options?: ForwardOptions): Promise<Tensor>;
  /** Backward of the last training forward: accumulates parameter gradients. */
  backward(dlogits: Tensor): Promise<void>;
}

export interface ModelOptions {
  /** Default: the model's own (1000 for the official models). */
  numClasses?: number;
  /** Head dropout probability. Default 0. */
  drop?: number;
  /** Seed of the Xavier-uniform initialisation. Default 0. */
  seed?: number;
}

export interface RegisteredModel {
  name: string;
  aliases: string[];
  description: string;
}

/** SGD with momentum (torch.optim.SGD semantics) over one model's parameters. */
export interface SgdOptimizer {
  /** Updates the parameters in place from their accumulated gradients. */
  step(options: { lr: number; weightDecay?: number }): void;
}

export interface NativeEngine {
  Tensor: TensorStatics;
  Model: new (name: string, options?: ModelOptions) => Model;
  SgdOptimizer: new (model: Model, options?: { momentum?: number; nesterov?: boolean }) => SgdOptimizer;
  /** Mean softmax cross-entropy against soft targets (N,K), and dloss/dlogits. */
  crossEntropy(logits: Tensor, targets: Tensor): { loss: number; dlogits: Tensor };
  modelRegistry(): RegisteredModel[];
  pixForward(x: Tensor, p: Tensor, params: PixParams): Tensor;
  pixBackward(x: Tensor, p: Tensor, dy: Tensor, params: PixParams & { dx?: boolean; dp?: boolean }): { dx?: Tensor; dp?: Tensor };
  /** c = alpha * op(a) * op(b) + beta * c on the CPU, in place; a, b, c are 2-D f32 CPU tensors. */
  gemm(a: Tensor, b: Tensor, c: Tensor, params?: GemmParams): void;
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
