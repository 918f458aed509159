// The precision that the CPU networks' matrix products (convolutions and the classifier, forward
// and backward) compute in: one switch for the whole process, set by `pix bench --precision` through
// the addon's setCpuPrecision(). BF16 rounds the two operands of each product to bf16 and sums in
// f32 (ops/gemm.h); weights, gradients, activations and every other op (BatchNorm, PiX, pooling, the
// optimizer) stay f32. Not here: per-layer or per-model precision, f16.
#pragma once

#include <string>

namespace pix {

enum class ComputePrecision { F32, BF16 };

// Atomic: read by layers running on worker threads while the JS thread may set it.
void set_cpu_compute_precision(ComputePrecision precision);
ComputePrecision cpu_compute_precision();  // F32 until set

const char* compute_precision_name(ComputePrecision precision);  // "fp32", "bf16"
// The precision a name gives; throws pix::Error naming the valid ones for anything else.
ComputePrecision parse_compute_precision(const std::string& name, const char* fn);

}  // namespace pix
