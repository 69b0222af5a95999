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
  Tensor(Tensor&& other) noexcept { *this = std::move(other); }
  Tensor& operator=(Tensor&& other) noexcept;

  // Changes the shape; contents are unspecified afterwards unless the size is unchanged.
  // A view gets storage of its own again.
  void resize(const Shape& shape);
  // Makes this tensor a non-owning view of other's data with another shape of the same
  // size (Flatten uses it to avoid copying activations). The view must not outlive other.
  void view_of(const Tensor& other, const Shape& shape);
  // Makes this tensor a non-owning, writable view of memory someone else owns (the
  // gradient arena in a communicator's shared array). The memory must outlive the view.
  void wrap(std::span<float> memory, const Shape& shape);
  void fill(float value);

  const Shape& shape() const { return shape_; }
  std::size_t numel() const { return numel_; }
  std::size_t capacity() const { return capacity_; }
  float* data() { return data_; }
  const float* data() const { return data_; }
  std::span<float> span() { return {data_, numel_}; }
  std::span<const float> span() const { return {data_, numel_}; }
  float& operator[](std::size_t i) { return data_[i]; }
  float operator[](std::size_t i) const { return data_[i]; }

 private:
  struct FreeDeleter {
    void operator()(float* p) const;
  };
  Shape shape_;
  std::size_t numel_ = 0;
  std::size_t capacity_ = 0;  // of storage_; 0 for a view
  std::unique_ptr<float[], FreeDeleter> storage_;
  float* data_ = nullptr;  // storage_ or the viewed tensor's data
};

}  // namespace dtrain::tensor
