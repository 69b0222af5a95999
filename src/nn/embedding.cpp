#include "nn/embedding.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace dtrain::nn {

Embedding::Embedding(std::string name, int vocab, int units)
    : Layer(std::move(name)), vocab_(vocab), units_(units) {}

Shape Embedding::setup(const Shape& input, ParamArena& arena) {
  if (vocab_ <= 0) {
    throw shape_error("vocab (the number of distinct tokens) must be positive, got " +
                      std::to_string(vocab_));
  }
  if (units_ <= 0) {
    throw shape_error("units (the embedding size) must be positive, got " + std::to_string(units_));
  }
  bool ids_only = input.rank() >= 1 && input[0] > 0;
  for (std::size_t d = 1; d < input.rank(); ++d) ids_only = ids_only && input[d] == 1;
  if (!ids_only) {
    throw shape_error("expects one token id per time step, [T] or [T, 1, ...], got " +
                      input.to_string());
  }
  arena_ = &arena;
  weight_slot_ = arena.declare(name() + ".weight", Shape{std::size_t(vocab_), std::size_t(units_)});
  return Shape{input[0], std::size_t(units_)};
}

void Embedding::init_params(Rng& rng) {
  for (float& w : arena_->param(weight_slot_)) w = rng.uniform(-0.05f, 0.05f);
}

std::size_t Embedding::token_at(const Tensor& x, std::size_t i) const {
  const float id = x[i];
  // Written so that NaN fails too.
  if (!(id >= 0.0f && id < static_cast<float>(vocab_) && std::floor(id) == id)) {
    std::ostringstream msg;  // shortest form: "4", "1.5", "nan", not "4.000000"
    msg << "layer '" << name() << "': token id " << id << " at position " << i
        << " of the batch is not an integer in [0, " << vocab_ << ") (vocab " << vocab_ << ")";
    throw std::invalid_argument(msg.str());
  }
  return static_cast<std::size_t>(id);
}

void Embedding::forward(const Tensor& x, Tensor& y, const ForwardContext&) {
  const std::size_t positions = x.numel();  // B*T: one id per position
  const std::size_t d = std::size_t(units_);
  y.resize(Shape{x.shape()[0], x.shape()[1], d});  // x: [B, T, 1...]
  const float* w = arena_->param(weight_slot_).data();
  for (std::size_t i = 0; i < positions; ++i) {
    std::copy_n(w + token_at(x, i) * d, d, y.data() + i * d);
  }
}

void Embedding::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  const std::size_t positions = x.numel();
  const std::size_t d = std::size_t(units_);
  float* dw = arena_->grad(weight_slot_).data();
  for (std::size_t i = 0; i < positions; ++i) {
    float* row = dw + token_at(x, i) * d;
    const float* g = dy.data() + i * d;
    for (std::size_t j = 0; j < d; ++j) row[j] += g[j];
  }
  if (dx) {
    dx->resize(x.shape());
    dx->fill(0.0f);
  }
}

}  // namespace dtrain::nn
