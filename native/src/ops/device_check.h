// Argument checks every op dispatcher shares: all tensors of a call on one device, and the
// activation dtypes each backend computes in (the CPU f32; CUDA f32 or bf16). Messages name the
// op and the argument, so a caller sees which tensor is wrong.
// Not here: shape checks, which are each op's own.
#pragma once

#include <initializer_list>
#include <utility>

#include "core/error.h"
#include "core/tensor.h"

namespace pix {

using NamedTensor = std::pair<const char*, const Tensor*>;

// Every defined tensor in `others` lives on `first`'s device.
inline void check_same_device(const char* op, NamedTensor first, std::initializer_list<NamedTensor> others) {
  const Device device = first.second->device();
  for (const NamedTensor& t : others)
    PIX_CHECK(!t.second->defined() || t.second->device() == device, op, ": ", t.first, " is on ",
              t.second->device().str(), " but ", first.first, " is on ", device.str());
}

// An activation (or its gradient): f32 on the CPU, f32 or bf16 on CUDA.
inline void check_activation_dtype(const char* op, const char* name, const Tensor& t) {
  if (t.device().is_cpu())
    PIX_CHECK(t.dtype() == DType::F32, op, ": on the cpu ", name, " must be f32, got ", dtype_name(t.dtype()));
  else
    PIX_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::BF16, op, ": on CUDA ", name,
              " must be f32 or bf16, got ", dtype_name(t.dtype()));
}

// A parameter, statistic or other f32-only tensor on either device.
inline void check_f32(const char* op, const char* name, const Tensor& t) {
  PIX_CHECK(t.defined(), op, ": ", name, " is undefined");
  PIX_CHECK(t.dtype() == DType::F32, op, ": ", name, " must be f32, got ", dtype_name(t.dtype()));
}

}  // namespace pix
