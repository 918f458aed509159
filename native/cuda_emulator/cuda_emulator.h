// The CUDA emulator's device side: what a .cu file needs beyond the toolkit's host headers so that
// g++ compiles it as plain C++ and its kernels run on the CPU. It is force-included (-include)
// into every translated CUDA source of the emulated build (CMake option PIX_CUDA_EMULATOR), after
// translate_launches.cmake has rewritten each `kernel<<<grid, block, shared, stream>>>(args)` into
// `::pix_emu::launch(kernel, grid, block, shared, stream)(args)`.
//
// Why: the CUDA backend has to be right before a GPU is at hand, and most GPU bugs are index, bounds
// and barrier mistakes that do not need a GPU to show. Every CUDA thread runs as a fiber
// (scheduler.cpp), so __syncthreads and warp shuffles have their real meaning; blocks run one after
// another; built with PIX_CUDA_EMULATOR_ASAN, every access a kernel makes is bounds-checked. What it
// cannot show: timing, races between blocks, and a host pointer handed to a kernel (device memory
// is host memory here; copies, though, check their pointers against their kind).
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <math.h>  // device code calls sqrt, exp, fmax... unqualified, as CUDA declares them

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

namespace pix_emu {

// The running CUDA thread's coordinates. Fibers of one block share an OS thread; the scheduler sets
// these before any fiber runs, so they are per OS thread, not per fiber.
extern thread_local uint3 t_thread_idx;
extern thread_local uint3 t_block_idx;
extern thread_local dim3 t_block_dim;
extern thread_local dim3 t_grid_dim;

// One launch: calls body(context) once per thread of every block. Checks the configuration the way
// the driver does; a bad one sets the calling thread's last error, as a failed <<<>>> launch would.
void run_grid(dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream, void (*body)(void*), void* context);

// Whether `stream` is capturing into a graph (graphs.cpp), and a launch recorded into its capture
// instead of run: the capture keeps `context` (the launch's copy of the arguments) for every replay.
// The configuration is checked at once, as for a launch run at once.
bool capturing(cudaStream_t stream);
void record_grid(dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream, void (*body)(void*),
                 std::shared_ptr<void> context);

// __syncthreads(), and a barrier of the calling thread's warp (for the shuffles).
void sync_block();
void sync_warp();

// A kernel did something the emulator does not model: prints why and aborts (it cannot unwind a
// half-run kernel).
[[noreturn]] void fail(const char* why);

// Per-block scratch where each thread leaves a shuffle value (indexed by thread within the block).
uint64_t* shuffle_slots();
unsigned linear_thread();

template <typename... Params>
struct Launch {
  void (*kernel)(Params...);
  dim3 grid, block;
  size_t shared_bytes;
  cudaStream_t stream;

  template <typename... Args>
  void operator()(Args&&... args) const {
    static_assert(sizeof...(Args) == sizeof...(Params), "a kernel launch passes one argument per parameter");
    // The arguments are converted to the parameter types once, as the driver copies them once.
    struct Context {
      void (*kernel)(Params...);
      std::tuple<std::decay_t<Params>...> args;
    } context{kernel, std::tuple<std::decay_t<Params>...>(std::forward<Args>(args)...)};
    void (*body)(void*) = [](void* raw) {
      auto* c = static_cast<Context*>(raw);
      std::apply(c->kernel, c->args);  // each thread gets its own copies of the parameters
    };
    if (capturing(stream)) {
      record_grid(grid, block, shared_bytes, stream, body, std::make_shared<Context>(std::move(context)));
    } else {
      run_grid(grid, block, shared_bytes, stream, body, &context);
    }
  }
};

template <typename... Params>
Launch<Params...> launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes = 0,
                         cudaStream_t stream = nullptr) {
  return {kernel, grid, block, shared_bytes, stream};
}

}  // namespace pix_emu

// ---- CUDA's built-in variables and qualifiers ----------------------------------------------------
#define threadIdx (::pix_emu::t_thread_idx)
#define blockIdx (::pix_emu::t_block_idx)
#define blockDim (::pix_emu::t_block_dim)
#define gridDim (::pix_emu::t_grid_dim)
#define warpSize 32
// Block-shared memory: one copy per OS thread, and an OS thread runs one block at a time.
#undef __shared__
#define __shared__ static thread_local
#define __launch_bounds__(...)

// ---- intrinsics ----------------------------------------------------------------------------------
inline void __syncthreads() { ::pix_emu::sync_block(); }

// Only full-warp shuffles: the kernels use no other mask, and a partial one would change the meaning.
template <typename T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta, int width = 32) {
  static_assert(sizeof(T) <= sizeof(uint64_t) && std::is_trivially_copyable_v<T>, "shuffle of a register value");
  if (mask != 0xffffffffu || width != 32) ::pix_emu::fail("__shfl_down_sync: only full-warp shuffles are emulated");
  uint64_t* slots = ::pix_emu::shuffle_slots();
  const unsigned self = ::pix_emu::linear_thread(), lane = self % 32;
  std::memcpy(&slots[self], &value, sizeof(T));
  ::pix_emu::sync_warp();
  T result = value;
  if (lane + delta < 32) std::memcpy(&result, &slots[self + delta], sizeof(T));
  ::pix_emu::sync_warp();  // nobody overwrites its slot before every lane has read
  return result;
}

// Atomics are real atomics (GCC builtins), so a kernel that relies on them stays right should the
// scheduler ever run blocks on several OS threads.
template <typename T>
T pix_emu_atomic_add(T* address, T value) {
  if constexpr (std::is_integral_v<T>) {
    return __atomic_fetch_add(address, value, __ATOMIC_RELAXED);
  } else {
    T old = *address, sum;
    do {
      sum = old + value;
    } while (!__atomic_compare_exchange(address, &old, &sum, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return old;
  }
}
inline float atomicAdd(float* address, float value) { return pix_emu_atomic_add(address, value); }
inline double atomicAdd(double* address, double value) { return pix_emu_atomic_add(address, value); }
inline int atomicAdd(int* address, int value) { return pix_emu_atomic_add(address, value); }
inline unsigned atomicAdd(unsigned* address, unsigned value) { return pix_emu_atomic_add(address, value); }
inline unsigned long long atomicAdd(unsigned long long* address, unsigned long long value) {
  return pix_emu_atomic_add(address, value);
}

// CUDA's global min and max for arithmetic types, with the usual arithmetic conversions.
template <typename A, typename B, typename = std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<B>>>
std::common_type_t<A, B> min(A a, B b) {
  return b < a ? b : a;
}
template <typename A, typename B, typename = std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<B>>>
std::common_type_t<A, B> max(A a, B b) {
  return a < b ? b : a;
}

// Round-to-nearest products and sums that the compiler may not contract into a fused multiply-add;
// the emulated build compiles with -ffp-contract=off, so the plain operators are exactly these.
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
