// What the native engine reports about itself: the payload of `pix info --json` and of the
// workbench API's engineInfo(). Shared by the host (which reads it from the addon) and the renderer.

export type CpuSimdLevel = 'avx512' | 'avx2' | 'portable';

export interface CpuBackendInfo {
  /** Worker threads of the engine's CPU pool (PIX_NUM_THREADS overrides the core count). */
  threads: number;
  /** Best instruction set this CPU supports among those the engine dispatches to. */
  simd: CpuSimdLevel;
  /** Extra CPU features the engine can use when present (e.g. avx512_bf16, amx_bf16). */
  features: string[];
}

export interface CudaDeviceInfo {
  index: number;
  name: string;
  /** Compute capability, e.g. "9.0". */
  capability: string;
  totalMemoryBytes: number;
  multiprocessors: number;
}

export interface CudaBackendInfo {
  /** The CUDA sources were compiled into this build of the addon. */
  compiled: boolean;
  /** The CUDA backend runs on the CPU (the CUDA emulator, a test build): its results are CUDA's, its speed is not. */
  emulated: boolean;
  /** CUDA runtime version the addon was built against, e.g. "13.0"; null when not compiled. */
  runtimeVersion: string | null;
  /** Installed driver's CUDA version, null when no driver answered. */
  driverVersion: string | null;
  devices: CudaDeviceInfo[];
  /** Why no device is usable, when `devices` is empty (driver missing, no GPU, not compiled). */
  unavailableReason: string | null;
  /** Architectures the kernels were compiled for, e.g. ["90"]. */
  architectures: string[];
  /** cuDNN loaded at run time (opened with dlopen, never linked). */
  cudnn: boolean;
  /** What CUDA convolutions run on: "cudnn 9.19.0 (heuristic algorithms, ...)", or "own im2col + gemm (why)"; null when not compiled. */
  conv: string | null;
  cudnnPath: string | null;
  /** cuBLAS loaded at run time (it is opened with dlopen, never linked). */
  cublas: boolean;
  /** What CUDA matrix products run on: "cublas 13.0.2", or "own kernel (why)"; null when not compiled. */
  gemm: string | null;
  /** f32 products may use TF32 tensor cores (PIX_TF32=1). */
  gemmTf32: boolean;
  cublasPath: string | null;
  /** NCCL loaded at run time (multi-GPU training). */
  nccl: boolean;
  /** "NCCL 2.27.3 (path)", or why it does not load; null when not compiled. */
  ncclLibrary: string | null;
}

export interface EngineInfo {
  version: string;
  addonPath: string;
  backends: {
    cpu: CpuBackendInfo;
    cuda: CudaBackendInfo;
  };
}
