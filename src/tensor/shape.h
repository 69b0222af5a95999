#pragma once
// Tensor shapes. Activations are batch-major and channels-last (NHWC): the batch of a conv
// layer is then one GEMM and max-pooling walks contiguous channels.
#include <cstddef>
#include <initializer_list>
#include <string>
#include <vector>

namespace dtrain::tensor {

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<std::size_t> dims) : dims_(dims) {}
  explicit Shape(std::vector<std::size_t> dims) : dims_(std::move(dims)) {}

  std::size_t rank() const { return dims_.size(); }
  std::size_t operator[](std::size_t i) const { return dims_[i]; }
  std::size_t& operator[](std::size_t i) { return dims_[i]; }
  const std::vector<std::size_t>& dims() const { return dims_; }

  std::size_t numel() const {
    std::size_t n = 1;
    for (std::size_t d : dims_) n *= d;
    return n;
  }
  // The same dimensions behind a leading batch dimension.
  Shape with_batch(std::size_t batch) const {
    std::vector<std::size_t> d{batch};
    d.insert(d.end(), dims_.begin(), dims_.end());
    return Shape(std::move(d));
  }
  // Everything but the leading (batch) dimension.
  Shape sample() const {
    return Shape(std::vector<std::size_t>(dims_.begin() + (dims_.empty() ? 0 : 1), dims_.end()));
  }
  std::string to_string() const;

  friend bool operator==(const Shape&, const Shape&) = default;

 private:
  std::vector<std::size_t> dims_;
};

}  // namespace dtrain::tensor
