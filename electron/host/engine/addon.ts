// The typed mirror of the native engine (native/src/binding) and the only module that loads the
// `.node` file. Everything else in the host, the CLI and the tests imports the engine from here.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EngineInfo } from '../../../shared/engine';

/** u8: 8-bit image batches on their way to normalizeEraseBatch; no op computes in it. */
export type DType = 'f32' | 'f64' | 'bf16' | 'i64' | 'u8';
/** 'cpu', 'cuda' (= 'cuda:0') or 'cuda:N'. */
export type DeviceName = string;
export type Layout = 'nhwc' | 'nchw';
/**
 * The precision of matrix products on the CPU: 'bf16' rounds both operands to bf16 and sums in f32
 * (vdpbf16ps where the CPU has avx512_bf16, else the f32 kernels over the rounded values).
 */
export type CpuPrecision = 'fp32' | 'bf16';

/** A tensor owned by the engine. Shapes are plain arrays; data crosses only through toArray(). */
export interface Tensor {
  readonly shape: number[];
  readonly dtype: DType;
  readonly device: DeviceName;
  readonly numel: number;
  /** f32 and bf16 read back as Float32Array, f64 as Float64Array, i64 as BigInt64Array, u8 as Uint8Array. */
  toArray(): Float32Array | Float64Array | BigInt64Array | Uint8Array;
  to(device: DeviceName): Tensor;
  cast(dtype: DType): Tensor;
  /** Shares memory with this tensor. */
  reshape(shape: number[]): Tensor;
  /** Frees the memory now instead of at garbage collection; later use throws. */
  dispose(): void;
}

export interface TensorStatics {
  /** Uint8Array gives u8, BigInt64Array i64 (neither converts); the float arrays their dtype, or another float one. */
  fromArray(data: Float32Array | Float64Array | BigInt64Array | Uint8Array, shape: number[], dtype?: DType, device?: DeviceName): Tensor;
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
  /** Default 'fp32', whatever setCpuPrecision() says (that switch is the networks'). */
  precision?: CpuPrecision;
  /**
   * Sizes of C (m,n) and the inner dimension k: all three or none. Without them they come from the
   * shapes, which must then match exactly; with them each matrix sits in the top-left corner of its
   * tensor, whose row length is the leading dimension.
   */
  m?: number;
  n?: number;
  k?: number;
  /** Epilogue, applied after the product: + bias[j] ((N) f32), + residual ((M,N), apart from c), then ReLU. */
  bias?: Tensor;
  residual?: Tensor;
  relu?: boolean;
  /** Epilogue: column sums of the finished C per groupRows rows, added into sums (ceil(M / groupRows), N). */
  sums?: Tensor;
  groupRows?: number;
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
  /**
   * Evaluation on the CPU runs each conv -> BatchNorm as one convolution with BatchNorm folded in.
   * Default true; false keeps BatchNorm a layer of its own (the reference, for tests and benchmarks).
   */
  foldBatchNorm?: boolean;
}

/** A network of the engine. Tensors crossing getState/setState/getGrad use PyTorch layouts (OIHW). */
export interface Model {
  readonly name: string;
  readonly numClasses: number;
  readonly family: 'pix' | 'resnet';
  readonly parameterCount: number;
  /** Where the model lives: 'cpu' or 'cuda:N'. */
  readonly device: string;
  /** The dtype its activations compute in: 'f32', or 'bf16' (CUDA only, over f32 master weights). */
  readonly activations: 'f32' | 'bf16';
  /** Multiply-accumulates of convolutions and the classifier for one square image. */
  macs(inputSize?: number): number;
  stateEntries(): StateEntryInfo[];
  getState(key: string): Tensor;
  setState(key: string, value: Tensor): void;
  getGrad(key: string): Tensor;
  /** Sets a parameter's accumulated gradient (PyTorch layout). */
  setGrad(key: string, grad: Tensor): void;
  zeroGrad(): void;
  /** Logits (N, classes); runs off the JS thread. */
  forward(x: Tensor, options?: ForwardOptions): Promise<Tensor>;
  /** Backward of the last training forward: accumulates parameter gradients. */
  backward(dlogits: Tensor): Promise<void>;
  /** Each PiX block's gate values p (N,K) from the last forward, under its state-dict prefix; [] for ResNet. */
  lastGates(): GateRecord[];
  /** Starts (true) or stops timing each part of the network; either clears the times. */
  setProfiling(on: boolean): void;
  /** Stem, blocks and head in network order with the wall time summed in each while profiling; [] when off. */
  profile(): PartTime[];
  /**
   * Gives the model's memory (weights, gradients, saved activations) back now instead of at garbage
   * collection; later calls throw "Model.<method>: the model was disposed". Idempotent. An optimizer
   * made for the model shares its parameters and keeps them (and stepping them) until it is disposed
   * too; a forward or backward in flight keeps them until it settles. Tensors already returned stay valid.
   */
  dispose(): void;
}

/**
 * One part of a network, timed while profiling: the stem (with its max-pool), a block under its
 * state-dict prefix, or the head (pooling, dropout, classifier). On CUDA each part ends with the
 * device synchronised, so the parts add up to a slower step than an unprofiled one.
 */
export interface PartTime {
  name: string;
  forwardSeconds: number;
  backwardSeconds: number;
  forwards: number;
  backwards: number;
}

/** One PiX block's gates: p = sigmoid(W_sqz · GAP(x)), picking (max) where p < tau, mixing otherwise. */
export interface GateRecord {
  /** State-dict prefix, e.g. 'layer2.blocks.1'. */
  block: string;
  tau: number;
  /** (N,K) f32. */
  values: Tensor;
}

export interface ModelOptions {
  /** Default: the model's own (1000 for the official models). */
  numClasses?: number;
  /** Head dropout probability. Default 0. */
  drop?: number;
  /** Seed of the Xavier-uniform initialisation. Default 0. */
  seed?: number;
  /** 'cpu' (default), 'cuda' or 'cuda:N': the model is built on the CPU and moved there. */
  device?: string;
  /** Activation dtype, default 'f32'; 'bf16' needs a CUDA device. Weights, their gradients and BN statistics stay f32. */
  activations?: 'f32' | 'bf16';
}

export interface ConvOpParams {
  kernel?: number;
  stride?: number;
  pad?: number;
  /** The CPU's direct loop instead of the fast path (CPU only). */
  reference?: boolean;
  /**
   * The CPU's fast path: 'auto' (default) the engine's pick; 'gemm' the implicit GEMM; 'winograd'
   * Winograd F(4x4,3x3), for 3x3 stride-1 pad-1 convolutions only (forward, and dx and dw in the backward).
   */
  algorithm?: 'auto' | 'gemm' | 'winograd';
}

/** conv2dForward's epilogue: y = relu?(conv(x) + bias[o] (+ residual)), and mean = y's average per image. */
export interface ConvEpilogueParams {
  /** (O) f32; on CUDA also in x's dtype (cuDNN's fused call takes it so). */
  bias?: Tensor;
  /** Shaped like the output (N,P,Q,O). */
  residual?: Tensor;
  relu?: boolean;
  /** (N,O) f32, overwritten in place with the output's average over each image's pixels. */
  mean?: Tensor;
}

export interface BatchNormOpParams {
  /** Batch statistics (and running-statistics update, in place). Default true. */
  train?: boolean;
  relu?: boolean;
  eps?: number;
  momentum?: number;
  /** A residual join fused in: y = relu(bn(x) + residual) (relu must then be false). */
  residual?: Tensor;
  /** With residual: also y's global average pool (N,C), as `pooled`. */
  pooled?: boolean;
}

export interface PoolOpParams {
  kernel?: number;
  stride?: number;
  pad?: number;
}

export interface RegisteredModel {
  name: string;
  aliases: string[];
  description: string;
}

export type OptimizerType = 'sgd' | 'momentum' | 'adamw' | 'lamb';

/** Options that do not apply to the type are ignored (as timm's create_optimizer does). */
export interface OptimizerOptions {
  /** 'sgd' and 'momentum': torch.optim.SGD; 'adamw': torch.optim.AdamW; 'lamb': timm's Lamb
   *  (global gradient norm clipped to 1 inside the step, trust ratio on the weight-decay group). */
  type: OptimizerType;
  /** SGD momentum. Default 0.9. */
  momentum?: number;
  /** Default true for 'sgd', false for 'momentum'. */
  nesterov?: boolean;
  /** AdamW and LAMB. Default [0.9, 0.999]. */
  betas?: [number, number];
  /** AdamW and LAMB. Default 1e-8. */
  eps?: number;
}

export interface OptimizerStepOptions {
  lr: number;
  /** For weights with 2+ dims; 1-D parameters and biases get none. Default 0. */
  weightDecay?: number;
  /** torch.nn.utils.clip_grad_norm_ to this global norm before the step; null or absent: none. */
  clipGrad?: number | null;
}

/** An optimizer bound to one model's parameters; it updates them in place from their gradients. */
export interface Optimizer {
  readonly type: OptimizerType;
  /** Optimizer steps taken (restored by loadStateDict). */
  readonly stepCount: number;
  /** gradNorm: the global gradient L2 norm before any clipping. */
  step(options: OptimizerStepOptions): { gradNorm: number };
  /** '<slot>.<param key>' (exp_avg, exp_avg_sq or momentum_buffer) in PyTorch layouts, and 'step' (i64). */
  stateDict(): Record<string, Tensor>;
  /** Exactly the names stateDict gives at the stored step; nothing changes when it throws. */
  loadStateDict(state: Record<string, Tensor>): void;
  /** Frees its slots now and lets go of the model's parameters (the model is unaffected); later calls throw. Idempotent. */
  dispose(): void;
}

/** timm's ModelEma: an average of every floating state entry, e = decay*e + (1-decay)*w. */
export interface ModelEma {
  readonly decay: number;
  /** After each optimizer step. */
  update(model: Model): void;
  /** Puts the average into a model of the same architecture (e.g. one kept for evaluation). */
  copyTo(model: Model): void;
  /** The averaged state dict under the model's keys, PyTorch layouts. */
  stateDict(): Record<string, Tensor>;
  loadStateDict(state: Record<string, Tensor>): void;
  /** Frees the averages now; later calls throw. Idempotent. */
  dispose(): void;
}

/**
 * A loss and its gradient d loss / d logits (N,K), a fresh tensor on the logits' device. The losses,
 * targets and Mixup run on the device of their tensors (all of one call on one device, CPU or CUDA).
 */
export interface LossResult {
  loss: number;
  dlogits: Tensor;
}

export interface BceOptions {
  /** timm's target_threshold (--bce_target_thresh): targets above it become 1, the others 0. Default null: none. */
  targetThreshold?: number | null;
}

/** timm Mixup in 'batch' mode; the defaults are its constructor's. */
export interface MixupConfig {
  /** Mixup is active when > 0. Default 1. */
  mixupAlpha?: number;
  /** CutMix is active when > 0. Default 0. */
  cutmixAlpha?: number;
  /** Box sides as fractions [min, max) of the image sides instead of lam's square (cutmix alpha becomes 1). Default null. */
  cutmixMinmax?: [number, number] | null;
  /** Probability that a batch is mixed at all. Default 1. */
  prob?: number;
  /** Probability of CutMix rather than Mixup when both are active. Default 0.5. */
  switchProb?: number;
  /** CutMix lam = 1 - box area / image area. Default true. */
  correctLam?: boolean;
}

/** One batch's Mixup/CutMix parameters; lam = 1 leaves the batch as it is. */
export interface MixupParams {
  lam: number;
  cutmix: boolean;
  /** Rows [y0, y1) and columns [x0, x1) swapped between partners; read only when cutmix. */
  box: { y0: number; y1: number; x0: number; x1: number };
}

/** One augmentation op on an 8-bit RGB image (native/src/image), PIL's arithmetic exactly. */
export type ImageOp =
  /** Image.transform(AFFINE): output pixel centre (x+.5, y+.5) samples the input at (a x + b y + c, d x + e y + f). */
  | { op: 'affine'; matrix: [number, number, number, number, number, number]; resample: 'nearest' | 'bilinear' | 'bicubic'; fill: [number, number, number] }
  | { op: 'autocontrast' | 'equalize' | 'invert' }
  | { op: 'posterize'; bits: number }
  | { op: 'solarize'; threshold: number }
  | { op: 'solarize_add'; add: number; threshold: number }
  | { op: 'color' | 'contrast' | 'brightness' | 'sharpness'; factor: number };

/** Rows [top, top + height) and columns [left, left + width). */
export interface EraseBox { top: number; left: number; height: number; width: number }

export interface ResizeImageParams {
  /** PIL's box (left, top, right, bottom) in source pixels; default the whole source. */
  box?: [number, number, number, number];
  /** The full resize size when out is only a window of it (at outLeft, outTop). */
  resizeWidth?: number;
  resizeHeight?: number;
  outLeft?: number;
  outTop?: number;
  resample: 'bilinear' | 'bicubic';
  flip?: boolean;
}

export interface JpegResizedCropParams {
  /** The source region (full-size pixels) the filter is clipped to. */
  left: number;
  top: number;
  width: number;
  height: number;
  resizeWidth?: number;
  resizeHeight?: number;
  outLeft?: number;
  outTop?: number;
  resample: 'bilinear' | 'bicubic';
  flip?: boolean;
  /** Decode at 1/2, 1/4 or 1/8 size when the region is that much larger than its resize (default true). */
  dctScaling?: boolean;
}

export interface NormalizeEraseParams {
  /** Default: the ImageNet mean and std. */
  mean?: [number, number, number];
  std?: [number, number, number];
  /** timm RandomErasing boxes, filled in order. Default none. */
  boxes?: EraseBox[];
  /** 'pixel': N(0,1) per pixel and channel; 'rand': N(0,1) per box and channel; 'const': 0. Default 'pixel'. */
  mode?: 'pixel' | 'rand' | 'const';
  /** Seed of the erasing noise (an integer below 2^53). */
  seed?: number;
}

/** One sample's RandomErasing for normalizeEraseBatch: the arguments normalizeErase takes. */
export interface SampleErase {
  boxes: EraseBox[];
  mode: 'pixel' | 'rand' | 'const';
  seed: number;
}

export interface NormalizeEraseBatchParams {
  /** Default: the ImageNet mean and std. */
  mean?: [number, number, number];
  std?: [number, number, number];
  /** One entry per sample (null: not erased), or absent: none erased. */
  erase?: (SampleErase | null)[];
}

/** Whether NCCL (libnccl.so.2, opened at run time) can be loaded on this machine. */
export interface NcclLibraryStatus {
  available: boolean;
  /** The loaded file, when available. */
  path: string | null;
  /** '2.27.3', when available. */
  version: string | null;
  /** What is missing and where it was sought, when not available. */
  reason: string | null;
}

/**
 * One rank's NCCL communicator (CUDA builds). Its collectives are queued on the engine's stream of
 * its device, so they follow the kernels queued before them and precede those queued after; errors
 * carry NCCL's message. A model-level call marks the model busy until its promise settles, and the
 * communicator takes no other call meanwhile.
 */
/** cuda::gemm's parameters for cudaGemm (row-major, ops/gemm.h); sizes default to the tensors'. */
export interface CudaGemmParams {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
  m?: number;
  n?: number;
  k?: number;
}

/** The process-wide choice of cuda::gemm's implementation and its TF32 switch. */
export interface CudaGemmSettings {
  backend: 'auto' | 'own';
  tf32: boolean;
}

/** One direction's choice: cuDNN's algorithm, 'own' for the im2col + gemm path, null before its first call. */
export type CudaConvChoice = { algo: number; workspaceBytes: number; mathType: number } | 'own' | null;
/** Evaluation's fused forward (cudnnConvolutionBiasActivationForward): its algorithm, or why cuDNN refused it. */
export type CudaFusedChoice = { algo: number; workspaceBytes: number; mathType: number } | { refused: string } | null;

export interface CudaConvPlan {
  device: string;
  shape: { n: number; h: number; w: number; c: number; o: number; kernel: number; stride: number; pad: number };
  dtype: 'f32' | 'bf16';
  tf32: boolean;
  forward: CudaConvChoice;
  backwardData: CudaConvChoice;
  backwardFilter: CudaConvChoice;
  /** Folded BatchNorm's convolution with its bias and ReLU (and residual join) in one call. */
  fusedRelu: CudaFusedChoice;
  /** The same without ReLU (a projection shortcut's). */
  fusedIdentity: CudaFusedChoice;
}

/** The CUDA convolutions' cuDNN path (ops/cuda/conv2d_cudnn.h); the environment gives the first values. */
export interface CudaConvSettings {
  /** 'auto': cuDNN wherever it is loaded and has an algorithm; 'own': im2col + cuda::gemm always. */
  backend: 'auto' | 'own';
  /** Time every algorithm on a shape's first call (PIX_CUDNN_BENCHMARK=1) instead of cuDNN's heuristics. */
  benchmark: boolean;
  /** Only algorithms that give the same bits every run (PIX_CUDNN_DETERMINISTIC=0 clears it). */
  deterministic: boolean;
  /** Largest cuDNN workspace per call (PIX_CUDNN_WORKSPACE_MIB, default 1024). */
  workspaceMib: number;
  /** Evaluation's convolutions end in cuDNN's fused bias (+ residual) + ReLU call where it runs (PIX_CUDNN_FUSED=0 clears it). */
  fused: boolean;
}

export interface NcclComm {
  readonly rank: number;
  readonly worldSize: number;
  /** 'cuda:N'. */
  readonly device: string;
  /** Sums an f32 or bf16 tensor of the comm's device over the ranks, in place; returns once queued. */
  allReduceSum(tensor: Tensor): void;
  /** Overwrites the tensor with rank root's (default 0), in place; returns once queued. */
  broadcast(tensor: Tensor, root?: number): void;
  /**
   * Each bucket of parameter keys: their gradients summed over the ranks with one collective, then
   * multiplied by scale. extras (at most 16) ride in the last bucket and come back summed (f32).
   */
  allReduceGradients(model: Model, buckets: string[][], options: { scale: number; extras?: number[] }): Promise<number[]>;
  /**
   * model.backward(dlogits) with allReduceGradients' averaging overlapped (PyTorch DDP's): each
   * bucket's collective starts, on a stream of the communicator's own, as soon as the backward has
   * finished its gradients. The same gradients and extras, bit for bit.
   */
  backwardAllReduce(model: Model, dlogits: Tensor, buckets: string[][], options: { scale: number; extras?: number[] }): Promise<number[]>;
  /**
   * SyncBatchNorm: the model's training forwards and backwards combine every BatchNorm's statistics
   * over this communicator's ranks (PyTorch's nn.SyncBatchNorm); on = false goes back to
   * per-process statistics. The model must be on this communicator's device.
   */
  syncBatchNorm(model: Model, on?: boolean): void;
  /** Of the last settled backwardAllReduce: its buckets, and how many went out while its backward still ran. */
  readonly lastOverlap: { buckets: number; sentDuringBackward: number };
  /** Rank root's values (default 0) of each bucket of f32 state keys to every rank, one collective per bucket. */
  broadcastState(model: Model, buckets: string[][], root?: number): Promise<void>;
  /** Waits for the queued collectives and frees the communicator; later calls throw. */
  destroy(): void;
  /** Frees the communicator without waiting (ncclCommAbort), e.g. after a peer failed; later calls throw. */
  abort(): void;
}

export interface NativeEngine {
  Tensor: TensorStatics;
  Model: new (name: string, options?: ModelOptions) => Model;
  Optimizer: new (model: Model, options: OptimizerOptions) => Optimizer;
  /** Starts as a copy of the model's state. Default decay 0.9999. */
  ModelEma: new (model: Model, options?: { decay?: number }) => ModelEma;
  /** timm SoftTargetCrossEntropy: mean over N of -sum_k targets * log_softmax(logits); logits and targets (N,K) f32. */
  crossEntropy(logits: Tensor, targets: Tensor): LossResult;
  /** timm LabelSmoothingCrossEntropy (plain cross-entropy at smoothing 0); labels (N) i64. */
  labelSmoothingCrossEntropy(logits: Tensor, labels: Tensor, smoothing: number): LossResult;
  /** torch binary_cross_entropy_with_logits against soft targets (N,K), mean over all N*K elements. */
  binaryCrossEntropy(logits: Tensor, targets: Tensor, options?: BceOptions): LossResult;
  /** Targets (N,K) f32: 1 - s + s/K on each label's class, s/K elsewhere (timm's one_hot with smoothing s). */
  smoothOneHot(labels: Tensor, numClasses: number, smoothing: number): Tensor;
  /** One batch's Mixup/CutMix parameters, a pure function of (config, image size, seed, step). */
  mixupDraw(config: MixupConfig, at: { height: number; width: number; seed: number; step: number }): MixupParams;
  /** Mixes images x (N,H,W,C) f32 in place with the flipped batch (sample n with N-1-n); N even. */
  mixupApply(x: Tensor, params: MixupParams): void;
  /** lam * smoothOneHot(labels) + (1 - lam) * smoothOneHot(labels flipped), (N,K) f32. */
  mixupTargets(labels: Tensor, numClasses: number, options: { lam: number; smoothing?: number }): Tensor;
  modelRegistry(): RegisteredModel[];
  pixForward(x: Tensor, p: Tensor, params: PixParams): Tensor;
  pixBackward(x: Tensor, p: Tensor, dy: Tensor, params: PixParams & { dx?: boolean; dp?: boolean }): { dx?: Tensor; dp?: Tensor };
  // The layer ops on NHWC tensors of any one device (binding/js_layer_ops.cc); backward calls return fresh gradients.
  conv2dForward(x: Tensor, w: Tensor, params?: ConvOpParams & ConvEpilogueParams): Tensor;
  conv2dBackward(x: Tensor, w: Tensor, dy: Tensor, params?: ConvOpParams & { dx?: boolean }): { dx?: Tensor; dw: Tensor };
  batchnormForward(x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor,
    params?: BatchNormOpParams): { y: Tensor; mean?: Tensor; invstd?: Tensor; pooled?: Tensor };
  /** join: the forward had a residual join; its gradient for the shortcut comes back as dresidual. */
  batchnormBackward(x: Tensor, y: Tensor, dy: Tensor, gamma: Tensor, mean: Tensor, invstd: Tensor,
    params?: { relu?: boolean; join?: boolean }): { dx: Tensor; dgamma: Tensor; dbeta: Tensor; dresidual?: Tensor };
  maxpoolForward(x: Tensor, params?: PoolOpParams): Tensor;
  maxpoolBackward(x: Tensor, dy: Tensor, params?: PoolOpParams): Tensor;
  globalAvgPoolForward(x: Tensor): Tensor;
  globalAvgPoolBackward(x: Tensor, dy: Tensor): Tensor;
  addReluForward(a: Tensor, b: Tensor): Tensor;
  /** With mean: also y's global average pool (N,C) f32, taken in the same pass (NHWC a and b). */
  addReluForward(a: Tensor, b: Tensor, options: { mean: true }): { y: Tensor; mean: Tensor };
  addReluBackward(y: Tensor, dy: Tensor): { da: Tensor; db: Tensor };
  linearForward(x: Tensor, w: Tensor, b?: Tensor): Tensor;
  linearBackward(x: Tensor, w: Tensor, dy: Tensor, params?: { bias?: boolean }): { dx: Tensor; dw: Tensor; db?: Tensor };
  dropoutForward(x: Tensor, p: number, seed: number): { y: Tensor; mask: Tensor };
  dropoutBackward(dy: Tensor, mask: Tensor): Tensor;
  nchwToNhwc(x: Tensor): Tensor;
  nhwcToNchw(x: Tensor): Tensor;
  /** c = alpha * op(a) * op(b) + beta * c on the CPU, in place; a, b, c are 2-D f32 CPU tensors. */
  gemm(a: Tensor, b: Tensor, c: Tensor, params?: GemmParams): void;
  /** Applies the ops in order to pixels (H,W,3) uint8, in place; synchronous, callable from worker threads. */
  augmentImage(pixels: Uint8Array, width: number, height: number, ops: ImageOp[]): void;
  /** (v/255 - mean)/std in float32 into out[offset, offset + H*W*3) (HWC), then the erasing boxes. */
  normalizeErase(pixels: Uint8Array, width: number, height: number, out: Float32Array, offset: number, params: NormalizeEraseParams): void;
  /** normalizeErase on a batch x (N,H,W,3) u8: a fresh (N,H,W,3) f32 tensor on x's device, each sample erased by its entry. */
  normalizeEraseBatch(x: Tensor, params: NormalizeEraseBatchParams): Tensor;
  /** PIL's Image.resize (bilinear/bicubic, box) of src (H,W,3) into out, optionally a window of it, mirrored (binding/js_jpeg.cc). */
  resizeImage(src: Uint8Array, srcWidth: number, srcHeight: number, out: Uint8Array, outWidth: number, outHeight: number, params: ResizeImageParams): void;
  /** The JPEG functions exist only in an engine built with libjpeg; the loader falls back to sharp without them. */
  jpegInfo?(file: Uint8Array): { width: number; height: number; rgb: boolean };
  /** A region of a JPEG (at 1/scaleDenom size), decoded as PIL does, (H,W,3) RGB. */
  decodeJpeg?(file: Uint8Array, region?: { left?: number; top?: number; width?: number; height?: number; scaleDenom?: 1 | 2 | 4 | 8 }): Uint8Array;
  /** Decodes what a resize of a region needs and resizes it into out (outHeight,outWidth,3). */
  jpegResizedCrop?(file: Uint8Array, out: Uint8Array, outWidth: number, outHeight: number, params: JpegResizedCropParams): void;
  /** Never throws: tries to open libnccl.so.2 ($NCCL_ROOT/lib first, then the loader's path). */
  ncclLibraryStatus(): NcclLibraryStatus;
  /** c = alpha * op(a) op(b) + beta * c on the CUDA device, through cuBLAS or the own kernel (tests, benchmarks). */
  cudaGemm(a: Tensor, b: Tensor, c: Tensor, params?: CudaGemmParams): void;
  /** Sets cuda::gemm's implementation and TF32 switch; returns the settings before the call. */
  setCudaGemm(options: Partial<CudaGemmSettings>): CudaGemmSettings;
  /** Sets the convolutions' cuDNN settings, forgetting chosen algorithms; returns the settings before the call. */
  setCudaConv(options: Partial<CudaConvSettings>): CudaConvSettings;
  /** The convolution shapes run on CUDA so far, with each direction's cuDNN algorithm ('own': the own path). */
  cudaConvPlans(): CudaConvPlan[];
  /** Whether CUDA evaluation forwards replay as CUDA graphs (default on; PIX_CUDA_GRAPHS=0); returns the setting before. */
  setCudaGraphs(options: { enabled?: boolean }): { enabled: boolean };
  /** CUDA graphs made and replayed in this process, and captures that failed (the forward then ran without one). */
  cudaGraphStats(): { captures: number; replays: number; failures: number; lastFailure: string | null };
  /** A fresh ncclUniqueId (128 bytes), made by rank 0 and handed to the others; CUDA builds with NCCL only. */
  ncclUniqueId(): Buffer;
  /** Joins the communicator named by id as rank on cuda:deviceIndex; blocks until every rank has joined. */
  NcclComm: new (id: Uint8Array, worldSize: number, rank: number, deviceIndex: number) => NcclComm;
  engineInfo(): Omit<EngineInfo, 'addonPath'>;
  cudaMemoryStats(device: number): CudaMemoryStats;
  /** Waits until the device's queued engine work is done. */
  cudaSynchronize(device: number): void;
  /** The precision of the CPU networks' convolutions and classifier (forward and backward), process-wide. */
  setCpuPrecision(precision: CpuPrecision): void;
  /** 'fp32' until setCpuPrecision() says otherwise. */
  cpuPrecision(): CpuPrecision;
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
  const info = engine.engineInfo();
  return { ...info, addonPath: path };
}
