#include "core/tensor.h"

#include <limits>

#include "core/error.h"

namespace pix {

std::string shape_str(const Shape& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ",";
    out += std::to_string(shape[i]);
  }
  return out + ")";
}

int64_t shape_numel(const Shape& shape) {
  int64_t numel = 1;
  for (int64_t dim : shape) {
    PIX_CHECK(dim >= 0, "shape ", shape_str(shape), " has a negative dimension");
    PIX_CHECK(dim == 0 || numel <= std::numeric_limits<int64_t>::max() / 8 / dim,
              "shape ", shape_str(shape), " is too large");
    numel *= dim;
  }
  return numel;
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  Tensor t;
  t.numel_ = shape_numel(shape);
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.storage_ = std::make_shared<Storage>(t.nbytes(), device);
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.zero_();
  return t;
}

int64_t Tensor::size(int axis) const {
  const int rank = dim();
  const int resolved = axis < 0 ? axis + rank : axis;
  PIX_CHECK(resolved >= 0 && resolved < rank, "axis ", axis, " is out of range for shape ", shape_str(shape_));
  return shape_[resolved];
}

Tensor Tensor::to(Device device) const {
  PIX_CHECK(defined(), "cannot move an undefined tensor");
  Tensor out = empty(shape_, dtype_, device);
  out.copy_from(*this);
  return out;
}

Tensor Tensor::reshape(const Shape& shape) const {
  PIX_CHECK(shape_numel(shape) == numel_, "cannot reshape ", shape_str(shape_), " to ", shape_str(shape));
  Tensor out = *this;
  out.shape_ = shape;
  return out;
}

void Tensor::copy_from(const Tensor& src) {
  PIX_CHECK(src.shape_ == shape_ && src.dtype_ == dtype_, "copy_from: source ", shape_str(src.shape_), " ",
            dtype_name(src.dtype_), " does not match destination ", shape_str(shape_), " ", dtype_name(dtype_));
  copy_bytes(raw_data(), device(), src.raw_data(), src.device(), nbytes());
}

void Tensor::zero_() { zero_bytes(raw_data(), device(), nbytes()); }

}  // namespace pix
