#include "tensor/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <utility>

namespace dtrain::tensor {

std::string Shape::to_string() const {
  std::string s = "[";
  for (std::size_t i = 0; i < dims_.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(dims_[i]);
  }
  return s + "]";
}

void Tensor::FreeDeleter::operator()(float* p) const {
  std::free(p);
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) {
    resize(other.shape_);
    std::copy_n(other.data(), numel_, data());
  }
  return *this;
}

Tensor& Tensor::operator=(Tensor&& other) noexcept {
  shape_ = std::move(other.shape_);
  numel_ = std::exchange(other.numel_, 0);
  capacity_ = std::exchange(other.capacity_, 0);
  storage_ = std::move(other.storage_);
  data_ = std::exchange(other.data_, nullptr);
  return *this;
}

void Tensor::resize(const Shape& shape) {
  std::size_t n = shape.numel();
  if (n > capacity_ || data_ != storage_.get()) {
    if (n > capacity_) {
      // Round up to whole cache lines; aligned_alloc requires a multiple of the alignment.
      std::size_t bytes = ((std::max<std::size_t>(n, 1) * sizeof(float) + 63) / 64) * 64;
      auto* p = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!p) throw std::bad_alloc();
      storage_.reset(p);
      capacity_ = n;
    }
    data_ = storage_.get();
  }
  shape_ = shape;
  numel_ = n;
}

void Tensor::view_of(const Tensor& other, const Shape& shape) {
  if (shape.numel() != other.numel()) {
    throw std::invalid_argument("Tensor::view_of: " + shape.to_string() + " does not match " +
                                other.shape().to_string());
  }
  // Views only ever feed reads (Flatten's output is read by the next layer), so handing out
  // a mutable pointer to const data is safe by construction in Sequential.
  data_ = const_cast<float*>(other.data());
  shape_ = shape;
  numel_ = other.numel();
}

void Tensor::wrap(std::span<float> memory, const Shape& shape) {
  if (shape.numel() != memory.size()) {
    throw std::invalid_argument("Tensor::wrap: " + shape.to_string() + " does not match " +
                                std::to_string(memory.size()) + " floats");
  }
  storage_.reset();
  capacity_ = 0;
  data_ = memory.data();
  shape_ = shape;
  numel_ = memory.size();
}

void Tensor::fill(float value) {
  std::fill_n(data(), numel_, value);
}

}  // namespace dtrain::tensor
