#include "binding/gemm_args.h"

#include <cmath>

#include "binding/errors.h"
#include "core/error.h"

namespace pix::binding {
namespace {

// An optional size: -1 when the field is absent.
int64_t size_field(const Napi::Object& obj, const char* key, const char* fn) {
  if (obj.Get(key).IsUndefined()) return -1;
  const double value = number_field(obj, key, 0, fn);
  PIX_CHECK(value >= 0 && value == std::floor(value) && value < 9.0e15, fn, ": ", key,
            " must be a non-negative integer, got ", value);
  return static_cast<int64_t>(value);
}

}  // namespace

void check_stored(const Tensor& t, const char* name, const char* layout, int64_t rows, int64_t cols, bool exact,
                  const char* fn) {
  if (exact) {
    PIX_CHECK(t.size(0) == rows && t.size(1) == cols, fn, ": ", name, " has shape ", shape_str(t.shape()),
              " but must be ", layout, " = (", rows, ",", cols, ")");
    return;
  }
  // The row length (the leading dimension) is the product's own check (ops/gemm.h), with its words.
  PIX_CHECK(t.size(0) >= rows, fn, ": ", name, " has ", t.size(0), " rows but ", layout, " needs ", rows);
}

bool share_memory(const Tensor& x, const Tensor& y) {
  const char* xs = static_cast<const char*>(x.raw_data());
  const char* ys = static_cast<const char*>(y.raw_data());
  return x.nbytes() > 0 && y.nbytes() > 0 && xs < ys + y.nbytes() && ys < xs + x.nbytes();
}

GemmParams gemm_params(const Napi::Object& options, const Tensor& a, const Tensor& b, const Tensor& c, const char* fn) {
  GemmParams p;
  p.trans_a = bool_field(options, "transA", false, fn);
  p.trans_b = bool_field(options, "transB", false, fn);
  p.alpha = static_cast<float>(number_field(options, "alpha", 1, fn));
  p.beta = static_cast<float>(number_field(options, "beta", 0, fn));
  const int64_t m = size_field(options, "m", fn), n = size_field(options, "n", fn), k = size_field(options, "k", fn);
  const bool derived = m < 0 && n < 0 && k < 0;
  PIX_CHECK(derived || (m >= 0 && n >= 0 && k >= 0), fn, ": give all of m, n and k, or none");
  p.m = derived ? c.size(0) : m;
  p.n = derived ? c.size(1) : n;
  p.k = derived ? a.size(p.trans_a ? 0 : 1) : k;
  p.lda = a.size(1), p.ldb = b.size(1), p.ldc = c.size(1);
  if (p.trans_a)
    check_stored(a, "a", "A stored (K,M)", p.k, p.m, derived, fn);
  else
    check_stored(a, "a", "A stored (M,K)", p.m, p.k, derived, fn);
  if (p.trans_b)
    check_stored(b, "b", "B stored (N,K)", p.n, p.k, derived, fn);
  else
    check_stored(b, "b", "B stored (K,N)", p.k, p.n, derived, fn);
  check_stored(c, "c", "C (M,N)", p.m, p.n, derived, fn);
  return p;
}

}  // namespace pix::binding
