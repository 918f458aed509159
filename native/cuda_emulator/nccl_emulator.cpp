// The CUDA emulator's NCCL: a libnccl.so.2 that the emulated engine opens in place of NVIDIA's
// (distributed/nccl_library.cpp), so that the engine's NCCL path (nccl_comm.cu, the NCCL process
// group, the trainer on several ranks) runs and is tested without a GPU. It exports the part of
// NCCL 2's C ABI the engine uses, with NCCL's signatures, result codes and error strings, and the
// marker pixCudaEmulatorNccl by which the emulated engine tells it from a real NCCL (which it
// refuses: that one would be handed host pointers).
//
// Ranks are processes of this machine, or threads of one process. ncclGetUniqueId names a POSIX
// shared-memory segment (random, so runs never meet); ncclCommInitRank maps it. The segment holds a
// header (a barrier, flags) and one slot of kSlotBytes per rank. A collective goes chunk by chunk:
// each rank copies its chunk into its slot, all wait, each reads the slots, all wait again (so no
// slot is overwritten while a peer still reads it). The all-reduce sums the slots in rank order,
// bf16 in f32 and rounded once, so every rank gets the same bits, run after run. "Device" memory is
// host memory and the emulator's work is synchronous, so the stream is ignored: what was queued on
// it before the collective has already run.
//
// Not here: reductions other than sum, data types other than f32 and bf16, the other collectives,
// several nodes, group calls, and NCCL's check that no two ranks share a GPU.
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <new>
#include <string>

#include "core/dtype.h"
#include "distributed/nccl_library.h"

namespace {

// NCCL's result codes, data types, reduction and unique id: the copy of its ABI the engine loads
// NCCL with (distributed/nccl_library.h), so the two sides agree by construction.
using pix::nccl::Result;
using pix::nccl::UniqueId;
using pix::nccl::kSuccess;
using pix::nccl::kSystemError;
using pix::nccl::kInternalError;
using pix::nccl::kInvalidArgument;
using pix::nccl::kInvalidUsage;
using pix::nccl::kRemoteError;
using pix::nccl::kFloat32;
using pix::nccl::kBfloat16;
using pix::nccl::kSum;

constexpr int kVersionCode = 22703;      // the NCCL whose ABI nccl_library.h copies (2.27.3)
constexpr size_t kSlotBytes = 256 << 10;  // per rank; small enough that the tests cross chunk boundaries
constexpr size_t kHeaderBytes = 4096;     // the header's page, so the slots start page-aligned
constexpr uint64_t kMagic = 0x70697863636c3031;  // "pixccl01": the segment is ours and initialised
constexpr char kIdPrefix[] = "/pix-nccl-emulator-";

// How long a rank waits for its peers (to join, or at a collective's barrier) before failing with
// ncclSystemError, instead of hanging for ever when a peer died: PIX_NCCL_EMULATOR_TIMEOUT_S,
// default 30 minutes, since on the emulator a collective may wait out a peer's whole evaluation.
int timeout_seconds() {
  const char* text = std::getenv("PIX_NCCL_EMULATOR_TIMEOUT_S");
  const int value = text ? std::atoi(text) : 0;
  return value > 0 ? value : 1800;
}

// The segment's first page. A mutex and condition variable make the barrier rather than a
// pthread_barrier_t: a barrier wait cannot time out nor be woken by an abort, so a dead peer would
// hang the survivors for good.
struct Header {
  std::atomic<uint64_t> ready;  // kMagic once rank 0 has initialised the rest
  int nranks;
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  int waiting;            // ranks at the barrier now
  uint64_t generation;    // barriers passed; a waiter leaves when it changes
  int aborted_by;         // -1, or the rank whose ncclCommAbort ended the communicator
};
// After the header, in its page: per rank, 1 once that rank has joined (a rank joining twice is refused).
std::atomic<int>* joined(Header* h) { return reinterpret_cast<std::atomic<int>*>(h + 1); }
static_assert(std::atomic<uint64_t>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "the flags are shared between processes, so they must be plain memory, not a lock");

}  // namespace

// ncclComm_t points at one of these: this rank's view of the segment.
struct ncclComm {
  int rank, nranks;
  void* base;
  size_t bytes;
  Header* header;
  char* slots;  // nranks * kSlotBytes
  std::string last_error;
  char* slot(int r) const { return slots + size_t(r) * kSlotBytes; }
};

namespace {
using Comm = ncclComm;

size_t segment_bytes(int nranks) { return kHeaderBytes + size_t(nranks) * kSlotBytes; }

thread_local std::string t_last_error;  // for a failure without a communicator (ncclGetLastError(NULL))

template <typename... Args>
Result fail(Comm* comm, Result result, const char* format, Args... args) {
  char text[512];
  std::snprintf(text, sizeof text, format, args...);
  (comm ? comm->last_error : t_last_error) = text;
  return result;
}

timespec deadline_after(int seconds) {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  t.tv_sec += seconds;
  return t;
}

// All ranks meet. Fails when a peer aborted or did not come within the timeout. A rank that got
// through (the last one arrived) succeeds even if a peer aborts right after.
Result barrier(Comm* comm, const char* what) {
  Header* h = comm->header;
  const timespec deadline = deadline_after(timeout_seconds());
  pthread_mutex_lock(&h->mutex);
  bool passed = false;
  if (h->aborted_by < 0) {
    const uint64_t generation = h->generation;
    if (++h->waiting == h->nranks) {
      h->waiting = 0;
      ++h->generation;
      pthread_cond_broadcast(&h->cond);
      passed = true;
    } else {
      int waited = 0;
      while (h->generation == generation && h->aborted_by < 0 && waited != ETIMEDOUT)
        waited = pthread_cond_timedwait(&h->cond, &h->mutex, &deadline);
      passed = h->generation != generation;
      if (!passed) --h->waiting;  // leaves the count as it was before this rank came
    }
  }
  const int aborted_by = h->aborted_by;
  pthread_mutex_unlock(&h->mutex);
  if (passed) return kSuccess;
  if (aborted_by >= 0) return fail(comm, kRemoteError, "%s: rank %d aborted the communicator", what, aborted_by);
  return fail(comm, kSystemError, "%s: rank %d waited %d s for the other ranks (PIX_NCCL_EMULATOR_TIMEOUT_S)", what,
              comm->rank, timeout_seconds());
}

// Rank 0 makes the header's mutex and condition variable, shared between processes.
void initialise(Header* h, int nranks) {
  h->nranks = nranks;
  h->waiting = 0;
  h->generation = 0;
  h->aborted_by = -1;
  pthread_mutexattr_t mutex_attr;
  pthread_mutexattr_init(&mutex_attr);
  pthread_mutexattr_setpshared(&mutex_attr, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(&h->mutex, &mutex_attr);
  pthread_mutexattr_destroy(&mutex_attr);
  pthread_condattr_t cond_attr;
  pthread_condattr_init(&cond_attr);
  pthread_condattr_setpshared(&cond_attr, PTHREAD_PROCESS_SHARED);
  pthread_condattr_setclock(&cond_attr, CLOCK_MONOTONIC);
  pthread_cond_init(&h->cond, &cond_attr);
  pthread_condattr_destroy(&cond_attr);
  h->ready.store(kMagic, std::memory_order_release);
}

// recv[i] = slot 0's [i] + slot 1's [i] + ... in rank order, for `count` elements of the chunk.
void sum_slots(const Comm* comm, int type, size_t count, void* recv) {
  if (type == kFloat32) {
    float* out = static_cast<float*>(recv);
    for (size_t i = 0; i < count; ++i) {
      float acc = reinterpret_cast<const float*>(comm->slot(0))[i];
      for (int r = 1; r < comm->nranks; ++r) acc += reinterpret_cast<const float*>(comm->slot(r))[i];
      out[i] = acc;
    }
  } else {
    // bf16 summed in f32 and rounded once, to nearest even (the engine's own conversions).
    pix::bf16* out = static_cast<pix::bf16*>(recv);
    for (size_t i = 0; i < count; ++i) {
      float acc = pix::bf16_to_float(reinterpret_cast<const pix::bf16*>(comm->slot(0))[i]);
      for (int r = 1; r < comm->nranks; ++r) acc += pix::bf16_to_float(reinterpret_cast<const pix::bf16*>(comm->slot(r))[i]);
      out[i] = pix::float_to_bf16(acc);
    }
  }
}

// `send` is null-checked only where it is read (on every rank of an all-reduce, the root of a broadcast).
Result check_buffers(Comm* comm, bool reads_send, const void* send, void* recv, size_t count, int type, const char* what) {
  if (!comm) return fail(nullptr, kInvalidArgument, "%s: the communicator is null", what);
  if (type != kFloat32 && type != kBfloat16)
    return fail(comm, kInvalidArgument, "%s: data type %d is not supported (f32 = 7 and bf16 = 9 are)", what, type);
  if (count > 0 && ((reads_send && !send) || !recv)) return fail(comm, kInvalidArgument, "%s: a null buffer", what);
  return kSuccess;
}

size_t element_bytes(int type) { return type == kBfloat16 ? 2 : 4; }

}  // namespace

extern "C" {

// What the emulated engine looks for before it uses a libnccl.so.2: only this one takes host memory.
__attribute__((visibility("default"))) int pixCudaEmulatorNccl = 1;

Result ncclGetVersion(int* version) {
  if (!version) return fail(nullptr, kInvalidArgument, "ncclGetVersion: version is null");
  *version = kVersionCode;
  return kSuccess;
}

const char* ncclGetErrorString(Result result) {
  switch (result) {
    case kSuccess: return "no error";
    case 1: return "unhandled cuda error (run with NCCL_DEBUG=INFO for details)";
    case kSystemError: return "unhandled system error (run with NCCL_DEBUG=INFO for details)";
    case kInternalError: return "internal error - please report this issue to the NCCL developers";
    case kInvalidArgument: return "invalid argument (run with NCCL_DEBUG=WARN for details)";
    case kInvalidUsage: return "invalid usage (run with NCCL_DEBUG=WARN for details)";
    case kRemoteError: return "remote process exited or there was a network error";
    case 7: return "NCCL operation in progress";
    default: return "unknown result code";
  }
}

const char* ncclGetLastError(Comm* comm) { return comm ? comm->last_error.c_str() : t_last_error.c_str(); }

// The id is the segment's name, NUL-terminated, in the 128 bytes.
Result ncclGetUniqueId(UniqueId* id) {
  if (!id) return fail(nullptr, kInvalidArgument, "ncclGetUniqueId: id is null");
  unsigned char random[16];
  if (getrandom(random, sizeof random, 0) != sizeof random)
    return fail(nullptr, kSystemError, "ncclGetUniqueId: getrandom failed: %s", std::strerror(errno));
  std::memset(id->internal, 0, sizeof id->internal);
  std::string name = kIdPrefix;
  for (unsigned char byte : random) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", byte);
    name += hex;
  }
  std::memcpy(id->internal, name.data(), name.size());
  return kSuccess;
}

Result ncclCommInitRank(Comm** out, int nranks, UniqueId id, int rank) {
  if (!out) return fail(nullptr, kInvalidArgument, "ncclCommInitRank: comm is null");
  *out = nullptr;
  if (nranks < 1) return fail(nullptr, kInvalidArgument, "ncclCommInitRank: nranks %d is below 1", nranks);
  if (rank < 0 || rank >= nranks) return fail(nullptr, kInvalidArgument, "ncclCommInitRank: rank %d is not in [0, %d]", rank, nranks - 1);
  if (sizeof(Header) + size_t(nranks) * sizeof(std::atomic<int>) > kHeaderBytes)
    return fail(nullptr, kInvalidArgument, "ncclCommInitRank: %d ranks are more than the emulator's header holds", nranks);
  const std::string name(id.internal, strnlen(id.internal, sizeof id.internal));
  if (name.compare(0, sizeof kIdPrefix - 1, kIdPrefix) != 0 || name.size() == pix::nccl::kUniqueIdBytes)
    return fail(nullptr, kInvalidArgument, "ncclCommInitRank: the id was not made by this library's ncclGetUniqueId");

  // Every rank creates-or-opens and sizes the segment (the same size), so none depends on
  // another having been first; rank 0 alone initialises the header, the others wait for its flag.
  const int fd = shm_open(name.c_str(), O_RDWR | O_CREAT, 0600);
  if (fd < 0) return fail(nullptr, kSystemError, "ncclCommInitRank: shm_open(%s): %s", name.c_str(), std::strerror(errno));
  const size_t bytes = segment_bytes(nranks);
  void* base = MAP_FAILED;
  if (ftruncate(fd, off_t(bytes)) == 0) base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int map_errno = errno;
  close(fd);
  if (base == MAP_FAILED) {
    shm_unlink(name.c_str());
    return fail(nullptr, kSystemError, "ncclCommInitRank: mapping %s: %s", name.c_str(), std::strerror(map_errno));
  }
  Comm* comm = new (std::nothrow) Comm{rank, nranks, base, bytes, static_cast<Header*>(base),
                                       static_cast<char*>(base) + kHeaderBytes, {}};
  if (!comm) {
    munmap(base, bytes);
    return fail(nullptr, kSystemError, "ncclCommInitRank: out of host memory");
  }
  Header* h = comm->header;
  if (rank == 0) initialise(h, nranks);
  const timespec deadline = deadline_after(timeout_seconds());
  Result result = kSuccess;
  while (h->ready.load(std::memory_order_acquire) != kMagic) {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec >= deadline.tv_sec) {
      result = fail(nullptr, kSystemError, "ncclCommInitRank: rank %d waited %d s for rank 0 to join", rank, timeout_seconds());
      break;
    }
    usleep(1000);
  }
  if (result == kSuccess && h->nranks != nranks)
    result = fail(nullptr, kInvalidUsage, "ncclCommInitRank: rank %d was told of %d ranks, rank 0 of %d", rank, nranks, h->nranks);
  if (result == kSuccess && joined(h)[rank].exchange(1) != 0)
    result = fail(nullptr, kInvalidUsage, "ncclCommInitRank: rank %d joined twice", rank);
  if (result == kSuccess) {
    result = barrier(comm, "ncclCommInitRank");  // blocks until every rank has joined, as NCCL's does
    if (result != kSuccess) t_last_error = comm->last_error;
  }
  // Every rank has the segment mapped now (or this one gives up): the name goes, so that no run,
  // however it ends, leaves a segment behind in /dev/shm. The mappings keep the memory alive.
  shm_unlink(name.c_str());
  if (result != kSuccess) {
    munmap(base, bytes);
    delete comm;
    return result;
  }
  *out = comm;
  return kSuccess;
}

Result ncclAllReduce(const void* send, void* recv, size_t count, int type, int op, Comm* comm, void* /*stream*/) {
  if (Result r = check_buffers(comm, true, send, recv, count, type, "ncclAllReduce"); r != kSuccess) return r;
  if (op != kSum) return fail(comm, kInvalidArgument, "ncclAllReduce: reduction %d is not supported (sum = 0 is)", op);
  // Chunk by chunk; count is the same on every rank, so all run the same chunks (and none for 0, as NCCL).
  const size_t size = element_bytes(type), chunk = kSlotBytes / size;
  for (size_t start = 0; start < count; start += chunk) {
    const size_t n = std::min(chunk, count - start);
    std::memcpy(comm->slot(comm->rank), static_cast<const char*>(send) + start * size, n * size);
    if (Result r = barrier(comm, "ncclAllReduce"); r != kSuccess) return r;
    sum_slots(comm, type, n, static_cast<char*>(recv) + start * size);
    if (Result r = barrier(comm, "ncclAllReduce"); r != kSuccess) return r;
  }
  return kSuccess;
}

Result ncclBroadcast(const void* send, void* recv, size_t count, int type, int root, Comm* comm, void* /*stream*/) {
  const bool is_root = comm && comm->rank == root;
  if (Result r = check_buffers(comm, is_root, send, recv, count, type, "ncclBroadcast"); r != kSuccess) return r;
  if (root < 0 || root >= comm->nranks)
    return fail(comm, kInvalidArgument, "ncclBroadcast: root %d is not in [0, %d]", root, comm->nranks - 1);
  const size_t size = element_bytes(type), chunk = kSlotBytes / size;
  for (size_t start = 0; start < count; start += chunk) {
    const size_t n = std::min(chunk, count - start), offset = start * size;
    if (is_root) std::memcpy(comm->slot(root), static_cast<const char*>(send) + offset, n * size);
    if (Result r = barrier(comm, "ncclBroadcast"); r != kSuccess) return r;
    std::memcpy(static_cast<char*>(recv) + offset, comm->slot(root), n * size);  // from the slot: send may be recv
    if (Result r = barrier(comm, "ncclBroadcast"); r != kSuccess) return r;
  }
  return kSuccess;
}

Result ncclCommGetAsyncError(Comm* comm, Result* async_error) {
  if (!comm || !async_error) return fail(comm, kInvalidArgument, "ncclCommGetAsyncError: a null argument");
  *async_error = kSuccess;  // every call is synchronous: its error was its return value
  return kSuccess;
}

// Unmaps this rank's view; the peers keep theirs (the name is already gone, see ncclCommInitRank).
Result ncclCommDestroy(Comm* comm) {
  if (!comm) return fail(nullptr, kInvalidArgument, "ncclCommDestroy: the communicator is null");
  munmap(comm->base, comm->bytes);
  delete comm;
  return kSuccess;
}

// As destroy, and a peer waiting at a barrier (now or later) fails with ncclRemoteError instead of
// waiting out the timeout.
Result ncclCommAbort(Comm* comm) {
  if (!comm) return fail(nullptr, kInvalidArgument, "ncclCommAbort: the communicator is null");
  Header* h = comm->header;
  pthread_mutex_lock(&h->mutex);
  if (h->aborted_by < 0) h->aborted_by = comm->rank;
  pthread_cond_broadcast(&h->cond);
  pthread_mutex_unlock(&h->mutex);
  return ncclCommDestroy(comm);
}

}  // extern "C"
