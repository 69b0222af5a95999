#include "tensor/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace dtrain::tensor {

std::string Shape::to_string() const {
  std::string s = "[";
  for (std::size_t i = 0; i < dims_.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(dims_[i]);
  }
  return s + "]";
}

void Tensor::FreeDeleter::operator()(float* p) const { std::free(p); }

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) {
    resize(other.shape_);
    std::copy_n(other.data(), numel_, data());
  }
  return *this;
}

void Tensor::resize(const Shape& shape) {
  std::size_t n = shape.numel();
  if (n > capacity_) {
    // Round up to whole cache lines; aligned_alloc requires a multiple of the alignment.
    std::size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
    auto* p = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!p) throw std::bad_alloc();
    data_.reset(p);
    capacity_ = n;
  }
  shape_ = shape;
  numel_ = n;
}

void Tensor::fill(float value) { std::fill_n(data(), numel_, value); }

}  // namespace dtrain::tensor
