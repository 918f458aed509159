// The engine's CPU thread pool: one persistent worker per core (PIX_NUM_THREADS overrides), and
// parallel_for, which splits an index range into chunks that the caller and the workers take from
// a shared counter. Nested parallel_for calls run serially on the calling thread, so an op may use
// parallel_for without knowing whether its caller already does.
#pragma once

#include <cstdint>
#include <functional>

namespace pix {

// Number of threads parallel_for uses (the caller included). Read once, at first use.
int cpu_threads();

// Runs body(begin, end) over [0, n) in chunks of at least `grain` indices (grain >= 1).
// Exceptions thrown by body are rethrown on the calling thread (the first one wins).
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body);

}  // namespace pix
