#include "core/precision.h"

#include <atomic>

#include "core/error.h"

namespace pix {
namespace {

std::atomic<ComputePrecision> g_cpu_precision{ComputePrecision::F32};

}  // namespace

void set_cpu_compute_precision(ComputePrecision precision) { g_cpu_precision.store(precision); }

ComputePrecision cpu_compute_precision() { return g_cpu_precision.load(std::memory_order_relaxed); }

const char* compute_precision_name(ComputePrecision precision) {
  return precision == ComputePrecision::BF16 ? "bf16" : "fp32";
}

ComputePrecision parse_compute_precision(const std::string& name, const char* fn) {
  for (ComputePrecision p : {ComputePrecision::F32, ComputePrecision::BF16})
    if (name == compute_precision_name(p)) return p;
  throw Error(concat(fn, ": precision must be 'fp32' or 'bf16', got '", name, "'"));
}

}  // namespace pix
