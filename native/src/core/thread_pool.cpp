#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace pix {
namespace {

thread_local bool inside_parallel_region = false;

int threads_from_environment() {
  if (const char* value = std::getenv("PIX_NUM_THREADS")) {
    int requested = std::atoi(value);
    if (requested >= 1) return std::min(requested, 1024);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

// One job at a time: parallel_for holds `run_mutex_` for its whole duration, so concurrent callers
// (e.g. two addon async workers) queue instead of interleaving chunks.
class Pool {
 public:
  explicit Pool(int threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& worker : workers_) worker.join();
  }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void run(int64_t chunks, const std::function<void(int64_t)>& chunk_body) {
    std::lock_guard<std::mutex> run_lock(run_mutex_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      body_ = &chunk_body;
      total_chunks_ = chunks;
      next_chunk_.store(0);
      pending_workers_ = static_cast<int>(workers_.size());
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    take_chunks();
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_workers_ == 0; });
    body_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void take_chunks() {
    inside_parallel_region = true;
    for (int64_t chunk = next_chunk_.fetch_add(1); chunk < total_chunks_; chunk = next_chunk_.fetch_add(1)) {
      try {
        (*body_)(chunk);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
        next_chunk_.store(total_chunks_);  // stop handing out work
      }
    }
    inside_parallel_region = false;
  }

  void worker_loop() {
    uint64_t seen_generation = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen_generation; });
        if (stopping_) return;
        seen_generation = generation_;
      }
      take_chunks();
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_workers_ == 0) done_.notify_one();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex run_mutex_, mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t)>* body_ = nullptr;
  int64_t total_chunks_ = 0;
  std::atomic<int64_t> next_chunk_{0};
  int pending_workers_ = 0;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
};

Pool& pool() {
  static Pool instance(threads_from_environment());
  return instance;
}

}  // namespace

int cpu_threads() { return pool().size(); }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int threads = cpu_threads();
  if (inside_parallel_region || threads == 1 || n <= grain) {
    body(0, n);
    return;
  }
  // A few chunks per thread balance uneven chunk costs without much counter traffic.
  const int64_t max_chunks = static_cast<int64_t>(threads) * 4;
  const int64_t chunks = std::min(max_chunks, (n + grain - 1) / grain);
  const int64_t chunk_size = (n + chunks - 1) / chunks;
  pool().run(chunks, [&](int64_t chunk) {
    const int64_t begin = chunk * chunk_size;
    const int64_t end = std::min(n, begin + chunk_size);
    if (begin < end) body(begin, end);
  });
}

}  // namespace pix
