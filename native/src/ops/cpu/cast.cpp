// Element-wise dtype conversion on the CPU.
#include <type_traits>

#include "core/thread_pool.h"
#include "ops/cast.h"

namespace pix::cpu {
namespace {

template <typename T>
float load(const T* data, int64_t i) { return static_cast<float>(data[i]); }
template <>
float load<bf16>(const bf16* data, int64_t i) { return bf16_to_float(data[i]); }

template <typename T>
void store(T* data, int64_t i, double value) { data[i] = static_cast<T>(value); }
template <>
void store<bf16>(bf16* data, int64_t i, double value) { data[i] = float_to_bf16(static_cast<float>(value)); }

template <typename From, typename To>
void convert(const From* x, To* y, int64_t numel) {
  constexpr int64_t kGrain = 1 << 16;
  parallel_for(numel, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      if constexpr (std::is_same_v<From, double>)
        store(y, i, x[i]);  // keep f64 -> f32 a single rounding
      else
        store(y, i, load(x, i));
    }
  });
}

template <typename From>
void convert_to(const From* x, Tensor& y) {
  switch (y.dtype()) {
    case DType::F32: return convert(x, y.data<float>(), y.numel());
    case DType::F64: return convert(x, y.data<double>(), y.numel());
    case DType::BF16: return convert(x, y.data<bf16>(), y.numel());
    case DType::I64:
    case DType::U8: break;  // refused by cast() before this
  }
}

}  // namespace

void cast(const Tensor& x, Tensor& y) {
  switch (x.dtype()) {
    case DType::F32: return convert_to(x.data<float>(), y);
    case DType::F64: return convert_to(x.data<double>(), y);
    case DType::BF16: return convert_to(x.data<bf16>(), y);
    case DType::I64:
    case DType::U8: break;  // refused by cast() before this
  }
}

}  // namespace pix::cpu
