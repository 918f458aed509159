// NCCL, loaded at run time: the engine is compiled without NCCL's headers or libraries (CI has
// neither) and opens libnccl.so.2 with dlopen the first time a communicator is asked for, searching
// $NCCL_ROOT/lib (and lib64) first, then the dynamic loader's own path (LD_LIBRARY_PATH, rpath,
// ldconfig). A machine without NCCL gets a message saying what is missing and where it was sought.
// The CUDA emulator's build opens only the emulator's own stand-in (cuda_emulator/nccl_emulator.cpp).
//
// The declarations below are our own copy of the part of NCCL 2's public C ABI the engine uses,
// checked against nccl.h (src/nccl.h.in upstream); they are stable across NCCL 2.x: the unique id
// is a 128-byte struct passed by value, a communicator an opaque pointer, the enums plain ints, and
// a cudaStream_t a pointer, so this header needs no CUDA header either.
#pragma once

#include <string>

namespace pix::nccl {

constexpr int kUniqueIdBytes = 128;  // NCCL_UNIQUE_ID_BYTES
struct UniqueId {
  char internal[kUniqueIdBytes];
};
static_assert(sizeof(UniqueId) == kUniqueIdBytes, "ncclUniqueId is 128 bytes");

struct CommOpaque;                // NCCL's struct ncclComm
using Comm = CommOpaque*;         // ncclComm_t
using Stream = void*;             // cudaStream_t (struct CUstream_st*)

// ncclResult_t
enum Result : int {
  kSuccess = 0,
  kUnhandledCudaError = 1,
  kSystemError = 2,
  kInternalError = 3,
  kInvalidArgument = 4,
  kInvalidUsage = 5,
  kRemoteError = 6,
  kInProgress = 7,
};
// ncclDataType_t: the two the engine's floating tensors use.
enum DataType : int { kFloat32 = 7, kBfloat16 = 9 };
// ncclRedOp_t
enum RedOp : int { kSum = 0 };

// The entry points, resolved from the loaded library. Those marked optional may be null (older
// NCCL); the others must all be present or loading fails naming the missing one.
struct Api {
  Result (*GetVersion)(int* version);
  Result (*GetUniqueId)(UniqueId* id);
  Result (*CommInitRank)(Comm* comm, int nranks, UniqueId id, int rank);
  Result (*AllReduce)(const void* send, void* recv, size_t count, DataType type, RedOp op, Comm comm, Stream stream);
  Result (*Broadcast)(const void* send, void* recv, size_t count, DataType type, int root, Comm comm, Stream stream);
  Result (*CommDestroy)(Comm comm);
  Result (*CommAbort)(Comm comm);
  const char* (*GetErrorString)(Result result);
  const char* (*GetLastError)(Comm comm);                       // optional (NCCL 2.13+)
  Result (*CommGetAsyncError)(Comm comm, Result* async_error);  // optional

  std::string path;      // the file that was loaded
  int version_code = 0;  // NCCL_VERSION_CODE of the loaded library
};

// What loading would give, without throwing: for `pix info`-style reports and for the trainer's
// upfront check. A failed load is tried again on the next call (the environment may change);
// a successful one stays for the life of the process.
struct LibraryStatus {
  bool available = false;
  std::string path;     // when available
  std::string version;  // "2.27.3" when available
  std::string reason;   // when not: what is missing and where it was sought
};
LibraryStatus library_status();

// The loaded library; throws pix::Error with library_status()'s reason when it cannot be loaded.
const Api& api();

// "2.27.3" from an NCCL_VERSION_CODE (2.9+: X*10000 + Y*100 + Z; before: X*1000 + Y*100 + Z).
std::string version_string(int code);

// Throws pix::Error for a failed NCCL call: "NCCL error in <what>: <NCCL's string> (<its last
// error>)". `comm` may be null.
void check(Result result, const char* what, Comm comm = nullptr);

}  // namespace pix::nccl
