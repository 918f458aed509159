// Host memory for tensors: 64-byte aligned (a cache line, the widest AVX-512 load), and cached.
// A training step allocates the same large activations every iteration; returning them to the OS
// and faulting fresh zeroed pages back in costs more than many of the kernels that use them, so
// freed blocks of 1 MiB or more are kept and reused for requests of a similar size. Blocks of 2 MiB
// or more ask for transparent huge pages (cpu_allocator.cpp).
#pragma once

#include <cstddef>

namespace pix {

constexpr size_t kCpuAlignment = 64;

void* cpu_alloc(size_t bytes);      // throws pix::Error when out of memory
void cpu_free(void* ptr, size_t bytes);
void cpu_empty_cache();             // gives every cached block back to the OS

}  // namespace pix
