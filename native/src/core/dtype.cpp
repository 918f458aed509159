#include "core/dtype.h"

#include "core/error.h"

namespace pix {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::BF16: return 2;
    case DType::I64: return 8;
    case DType::U8: return 1;
  }
  throw Error("unknown dtype");
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "f32";
    case DType::F64: return "f64";
    case DType::BF16: return "bf16";
    case DType::I64: return "i64";
    case DType::U8: return "u8";
  }
  return "?";
}

DType parse_dtype(const std::string& name) {
  if (name == "f32" || name == "float32") return DType::F32;
  if (name == "f64" || name == "float64") return DType::F64;
  if (name == "bf16" || name == "bfloat16") return DType::BF16;
  if (name == "i64" || name == "int64") return DType::I64;
  if (name == "u8" || name == "uint8") return DType::U8;
  throw Error(concat("unknown dtype '", name, "' (expected f32, f64, bf16, i64 or u8)"));
}

}  // namespace pix
