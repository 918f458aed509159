// The CUDA emulator's kernel scheduler: runs a launch's blocks one after another on the calling OS
// thread, and each block's CUDA threads as fibers, so that __syncthreads and warp shuffles keep
// their meaning.
//
// Fibers switch with a few instructions of our own on x86-64, and with ucontext elsewhere:
// swapcontext saves the signal mask with a system call at every switch, and a tiny network's CUDA
// training run took 2.9x as long with it (47 s against 16 s; the tiled SGEMM waits at a barrier
// every 16 products).
//
// A fiber is not bound to one CUDA thread: it starts threads in order and runs each to its end, and
// only a thread that waits at a barrier keeps its fiber; the scheduler then starts the next threads
// on another fiber. A kernel without barriers thus runs every thread on one fiber with no switch at
// all, and one with barriers needs as many fibers as the block has threads. Once every thread has
// started, waiting threads are released: first any whole warp waiting in a shuffle, else the whole
// block when every live thread waits at __syncthreads. Threads that have returned count as arrived,
// as on current GPUs. Anything else (some threads at __syncthreads, others in a shuffle) would hang
// or be undefined on a GPU, and stops the process with a message here.
#include <sys/mman.h>
#include <ucontext.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "cuda_emulator.h"
#include "emulator_internal.h"

namespace pix_emu {

thread_local uint3 t_thread_idx;
thread_local uint3 t_block_idx;
thread_local dim3 t_block_dim;
thread_local dim3 t_grid_dim;

namespace {

constexpr unsigned kMaxBlockThreads = 1024;
constexpr size_t kStackBytes = 256u << 10;  // mapped lazily: a kernel touches a few pages

enum class State : uint8_t { NotStarted, Running, AtBlockBarrier, AtWarpBarrier, Done };

#if defined(__x86_64__)
// Saves the callee-saved registers on the current stack, stores its pointer in *save, and resumes
// the stack `resume` points at (one saved by an earlier switch, or prepared by start_fresh).
extern "C" void pix_emu_switch(void** save, void* resume);
asm(R"(
  .text
  .globl pix_emu_switch
  .type pix_emu_switch, @function
pix_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size pix_emu_switch, .-pix_emu_switch
  .section .note.GNU-stack,"",@progbits
  .text
)");
struct Context {
  void* sp = nullptr;
};
void switch_to(Context& save, Context& resume) { pix_emu_switch(&save.sp, resume.sp); }
#else
struct Context {
  ucontext_t uc;
};
void switch_to(Context& save, Context& resume) { swapcontext(&save.uc, &resume.uc); }
#endif

struct Fiber {
  Context context;
  void* stack = nullptr;
  int thread = -1;  // the CUDA thread (linear index in the block) it runs; -1 while idle
  ~Fiber() {
    if (stack) munmap(stack, kStackBytes);
  }
};

// The block being run, and the fibers, of one OS thread.
struct Executor {
  Context scheduler;
  std::vector<std::unique_ptr<Fiber>> fibers;
  std::vector<Fiber*> idle;
  Fiber* running = nullptr;
  void (*body)(void*) = nullptr;
  void* context = nullptr;
  unsigned threads = 0, next_thread = 0;
  State state[kMaxBlockThreads];
  uint64_t slots[kMaxBlockThreads];
};

thread_local Executor* executor = nullptr;

Executor& this_executor() {
  if (!executor) executor = new Executor();  // lives as long as its OS thread may launch
  return *executor;
}

void set_thread(unsigned linear) {
  const unsigned x = t_block_dim.x, xy = t_block_dim.x * t_block_dim.y;
  t_thread_idx = {linear % x, (linear / x) % t_block_dim.y, linear / xy};
}

// A fiber's whole life: start the block's next thread and run it, until none is left; then idle.
void fiber_main() {
  Executor& e = *executor;
  for (;;) {
    Fiber* self = e.running;
    while (e.next_thread < e.threads) {
      const unsigned t = e.next_thread++;
      self->thread = static_cast<int>(t);
      e.state[t] = State::Running;
      set_thread(t);
      e.body(e.context);
      e.state[t] = State::Done;
    }
    self->thread = -1;
    switch_to(self->context, e.scheduler);
  }
}

// fiber_main never returns, so neither start leaves a way back.
void start_fresh(Fiber& f) {
#if defined(__x86_64__)
  // The stack as pix_emu_switch leaves it: six registers to pop, then fiber_main as the return
  // address, above it a null return address for fiber_main, which so starts with rsp = 8 (mod 16)
  // as after a call.
  auto* top = reinterpret_cast<void**>(static_cast<char*>(f.stack) + kStackBytes);
  top[-1] = nullptr;
  top[-2] = reinterpret_cast<void*>(&fiber_main);
  for (int i = 3; i <= 8; ++i) top[-i] = nullptr;
  f.context.sp = &top[-8];
#else
  getcontext(&f.context.uc);
  f.context.uc.uc_stack.ss_sp = f.stack;
  f.context.uc.uc_stack.ss_size = kStackBytes;
  f.context.uc.uc_link = nullptr;
  makecontext(&f.context.uc, fiber_main, 0);
#endif
  f.thread = -1;
}

Fiber* take_idle(Executor& e) {
  if (!e.idle.empty()) {
    Fiber* f = e.idle.back();
    e.idle.pop_back();
    return f;
  }
  auto f = std::make_unique<Fiber>();
  f->stack = mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (f->stack == MAP_FAILED) fail("no memory for a fiber's stack");
  start_fresh(*f);
  e.fibers.push_back(std::move(f));
  return e.fibers.back().get();
}

// Runs `f` until its thread waits at a barrier (returned in `waiting`) or it runs out of threads.
void resume(Executor& e, Fiber* f, std::vector<Fiber*>& waiting) {
  e.running = f;
  switch_to(e.scheduler, f->context);
  e.running = nullptr;
  if (f->thread < 0) {
    e.idle.push_back(f);
  } else {
    waiting.push_back(f);
  }
}

bool warp_all_waiting(const Executor& e, unsigned warp) {
  const unsigned end = std::min(e.threads, (warp + 1) * 32);
  for (unsigned t = warp * 32; t < end; ++t)
    if (e.state[t] != State::AtWarpBarrier && e.state[t] != State::Done) return false;
  return true;
}

void run_block(Executor& e) {
  e.next_thread = 0;
  std::fill(e.state, e.state + e.threads, State::NotStarted);
  std::vector<Fiber*> waiting;
  for (;;) {
    if (e.next_thread < e.threads) {
      resume(e, take_idle(e), waiting);
      continue;
    }
    if (waiting.empty()) return;
    // Every live thread waits: decide which barrier opens.
    std::vector<Fiber*> parked, release;
    parked.swap(waiting);
    std::sort(parked.begin(), parked.end(), [](const Fiber* a, const Fiber* b) { return a->thread < b->thread; });
    for (Fiber* f : parked) {
      const bool warp_opens = e.state[f->thread] == State::AtWarpBarrier && warp_all_waiting(e, f->thread / 32);
      (warp_opens ? release : waiting).push_back(f);
    }
    if (release.empty()) {
      for (Fiber* f : parked) {
        if (e.state[f->thread] != State::AtBlockBarrier) {
          std::fprintf(stderr,
                       "pix CUDA emulator: block (%u,%u,%u) deadlocks: thread %d waits in a warp shuffle while others "
                       "wait at __syncthreads or in another warp's shuffle\n",
                       t_block_idx.x, t_block_idx.y, t_block_idx.z, f->thread);
          std::abort();
        }
      }
      release.swap(waiting);
    }
    for (Fiber* f : release) {
      e.state[f->thread] = State::Running;
      resume(e, f, waiting);
    }
  }
}

void wait(State why) {
  Executor* e = executor;
  Fiber* self = e ? e->running : nullptr;
  if (!self) fail("__syncthreads or a warp shuffle outside a kernel");
  e->state[self->thread] = why;
  switch_to(self->context, e->scheduler);
  set_thread(static_cast<unsigned>(self->thread));  // other threads of the block ran meanwhile
}

bool valid_configuration(dim3 grid, dim3 block, size_t shared_bytes) {
  const uint64_t threads = uint64_t{block.x} * block.y * block.z;
  return threads >= 1 && threads <= kMaxBlockThreads && block.z <= 64 && grid.x >= 1 && grid.y >= 1 &&
         grid.z >= 1 && grid.x <= 0x7fffffffu && grid.y <= 65535 && grid.z <= 65535 && shared_bytes == 0;
}

}  // namespace

void fail(const char* why) {
  std::fprintf(stderr, "pix CUDA emulator: %s\n", why);
  std::abort();
}

void run_grid(dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t, void (*body)(void*), void* context) {
  // Dynamic shared memory (the third launch parameter) is not emulated: no kernel of the engine uses
  // it, and a launch that asks for it is refused rather than run wrong.
  if (!valid_configuration(grid, block, shared_bytes)) {
    set_last_error(cudaErrorInvalidConfiguration);
    return;
  }
  Executor& e = this_executor();
  if (e.running) fail("a kernel launched another kernel (dynamic parallelism is not emulated)");
  t_grid_dim = grid;
  t_block_dim = block;
  e.body = body;
  e.context = context;
  e.threads = block.x * block.y * block.z;
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        t_block_idx = {x, y, z};
        run_block(e);
      }
}

void record_grid(dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream, void (*body)(void*),
                 std::shared_ptr<void> context) {
  const bool valid = valid_configuration(grid, block, shared_bytes);
  const cudaError_t checked = valid ? cudaSuccess : cudaErrorInvalidConfiguration;
  enqueue(stream, checked, [=] {
    run_grid(grid, block, shared_bytes, stream, body, context.get());
    return cudaSuccess;
  });
}

void sync_block() { wait(State::AtBlockBarrier); }
void sync_warp() { wait(State::AtWarpBarrier); }

uint64_t* shuffle_slots() { return this_executor().slots; }

unsigned linear_thread() {
  if (!executor || !executor->running) fail("a warp shuffle outside a kernel");
  return static_cast<unsigned>(executor->running->thread);
}

}  // namespace pix_emu
