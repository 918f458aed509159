// Grow-only, 64-byte-aligned scratch memory for the CPU kernels' packed panels and transforms.
// Each use keeps one per thread (thread_local), since a kernel may run on several threads at once
// and the pool's workers fill their buffers concurrently; a buffer is never zeroed or shrunk.
// Included by baseline-compiled files only (gemm.cpp, conv2d_winograd.cpp), so its inline code is
// never built for a wider instruction set than every caller has.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

namespace pix::cpu {

class Scratch {
 public:
  template <typename T>
  T* get(int64_t count) {
    const int64_t bytes = (count * static_cast<int64_t>(sizeof(T)) + 63) / 64 * 64;
    if (bytes > capacity_) {
      data_.reset(static_cast<char*>(std::aligned_alloc(64, static_cast<size_t>(bytes))));
      capacity_ = data_ ? bytes : 0;
      if (!data_) throw std::bad_alloc();
    }
    return reinterpret_cast<T*>(data_.get());
  }

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> data_;
  int64_t capacity_ = 0;
};

}  // namespace pix::cpu
