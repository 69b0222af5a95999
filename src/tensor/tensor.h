#pragma once
// A dense float tensor that owns 64-byte aligned storage. resize() only reallocates when
// the new size exceeds the capacity, so buffers sized by the first training step are
// reused by every later step (no allocation inside the step).
#include <cstddef>
#include <memory>
#include <span>

#include "tensor/shape.h"

namespace dtrain::tensor {

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(const Shape& shape) { resize(shape); }
  Tensor(const Tensor& other) { *this = other; }
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;

  // Changes the shape; contents are unspecified afterwards unless the size is unchanged.
  void resize(const Shape& shape);
  void fill(float value);

  const Shape& shape() const { return shape_; }
  std::size_t numel() const { return numel_; }
  std::size_t capacity() const { return capacity_; }
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  std::span<float> span() { return {data_.get(), numel_}; }
  std::span<const float> span() const { return {data_.get(), numel_}; }
  float& operator[](std::size_t i) { return data_[i]; }
  float operator[](std::size_t i) const { return data_[i]; }

 private:
  struct FreeDeleter {
    void operator()(float* p) const;
  };
  Shape shape_;
  std::size_t numel_ = 0;
  std::size_t capacity_ = 0;
  std::unique_ptr<float[], FreeDeleter> data_;
};

}  // namespace dtrain::tensor
