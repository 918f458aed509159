// Element types of engine tensors. f32 is the master type; bf16 is the GPU compute type; f64 exists
// for gradient checks in tests; i64 for labels and BatchNorm's num_batches_tracked; u8 for 8-bit
// image batches on their way to normalisation on the training device (ops/normalize_erase_batch.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace pix {

enum class DType : uint8_t { F32, F64, BF16, I64, U8 };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);  // "f32", "f64", "bf16", "i64", "u8"
DType parse_dtype(const std::string& name);  // throws pix::Error naming the valid choices

// bfloat16 stored as its 16 raw bits; conversions round to nearest even like PyTorch.
struct bf16 {
  uint16_t bits;
};

inline float bf16_to_float(bf16 value) {
  uint32_t word = static_cast<uint32_t>(value.bits) << 16;
  float out;
  std::memcpy(&out, &word, sizeof out);
  return out;
}

inline bf16 float_to_bf16(float value) {
  uint32_t word;
  std::memcpy(&word, &value, sizeof word);
  if ((word & 0x7fffffffu) > 0x7f800000u) return bf16{static_cast<uint16_t>((word >> 16) | 0x40)};  // quiet NaN
  uint32_t rounding = 0x7fffu + ((word >> 16) & 1u);
  return bf16{static_cast<uint16_t>((word + rounding) >> 16)};
}

}  // namespace pix
