// Tensor: a shape, a dtype and a shared, contiguous block of memory on one device.
// Deliberately small: no strides, no views other than reshape, no autograd. Layers own their
// saved activations and call forward/backward explicitly (Caffe/llm.c style).
//
// Dimension letters used across the engine: N batch, C channels, H height, W width,
// K = ceil(C / zeta) PiX subsets (output channels of PiX). Activations are NHWC: (N,H,W,C).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/storage.h"

namespace pix {

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& shape);  // "(2,3,4)"
int64_t shape_numel(const Shape& shape);      // throws pix::Error on negative dims or overflow

class Tensor {
 public:
  Tensor() = default;  // undefined tensor: defined() is false

  static Tensor empty(const Shape& shape, DType dtype, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype, Device device = Device::cpu());

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int dim() const { return static_cast<int>(shape_.size()); }
  int64_t size(int axis) const;  // negative axes count from the end
  int64_t numel() const { return numel_; }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_ ? storage_->device() : Device::cpu(); }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }

  void* raw_data() const { return storage_ ? storage_->data() : nullptr; }
  template <typename T>
  T* data() const { return static_cast<T*>(raw_data()); }

  Tensor to(Device device) const;              // copy to another device (a no-op copy if the same)
  Tensor reshape(const Shape& shape) const;    // shares memory; numel must match
  void copy_from(const Tensor& src);           // same shape and dtype, any devices
  void zero_();

 private:
  std::shared_ptr<Storage> storage_;
  Shape shape_;
  int64_t numel_ = 0;
  DType dtype_ = DType::F32;
};

}  // namespace pix
