#include "nn/recurrent.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "tensor/blas.h"

namespace dtrain::nn {

using tensor::gemm;
using tensor::Trans;

namespace {

// [B, T, F] <-> [T, B, F]: one copy per sample and step, F contiguous floats each.
void to_time_major(const float* in, int batch, int steps, int features, float* out) {
  for (int b = 0; b < batch; ++b) {
    for (int t = 0; t < steps; ++t) {
      std::copy_n(in + (std::size_t(b) * steps + t) * features, features,
                  out + (std::size_t(t) * batch + b) * features);
    }
  }
}

void to_batch_major(const float* in, int batch, int steps, int features, float* out) {
  for (int b = 0; b < batch; ++b) {
    for (int t = 0; t < steps; ++t) {
      std::copy_n(in + (std::size_t(t) * batch + b) * features, features,
                  out + (std::size_t(b) * steps + t) * features);
    }
  }
}

}  // namespace

Recurrent::Recurrent(std::string name, int units, int gates, InitScheme init, bool return_sequences,
                     RecurrentForm form)
    : Layer(std::move(name)),
      units_(units),
      gates_(gates),
      init_(init),
      return_sequences_(return_sequences),
      form_(form) {}

// Each cell implements the pair of hooks of its form; reaching another one is a bug here.
void Recurrent::cell_forward(int, int, float*, float*) {
  throw std::logic_error("layer '" + name() + "': no summed-form cell");
}
void Recurrent::cell_backward(int, int, const float*, float*) {
  throw std::logic_error("layer '" + name() + "': no summed-form cell");
}
void Recurrent::cell_forward_separate(int, int, float*, float*, float*) {
  throw std::logic_error("layer '" + name() + "': no separate-form cell");
}
void Recurrent::cell_backward_separate(int, int, const float*, float*, float*, float*) {
  throw std::logic_error("layer '" + name() + "': no separate-form cell");
}

Shape Recurrent::setup(const Shape& input, ParamArena& arena) {
  if (units_ <= 0) throw shape_error("units must be positive, got " + std::to_string(units_));
  if (input.rank() != 2 || input[0] == 0 || input[1] == 0) {
    throw shape_error(
        "expects a sequence [time steps, features] per sample (add a reshape "
        "layer before it), got " +
        input.to_string());
  }
  steps_ = static_cast<int>(input[0]);
  features_ = static_cast<int>(input[1]);
  arena_ = &arena;
  const std::size_t rows = std::size_t(gates_) * units_;
  wx_slot_ = arena.declare(name() + ".weight", Shape{rows, std::size_t(features_)});
  wh_slot_ = arena.declare(name() + ".recurrent_weight", Shape{rows, std::size_t(units_)});
  bias_slot_ = arena.declare(name() + ".bias", Shape{rows});
  if (form_ == RecurrentForm::kSeparate) {
    recurrent_bias_slot_ = arena.declare(name() + ".recurrent_bias", Shape{rows});
  }
  if (return_sequences_) return Shape{std::size_t(steps_), std::size_t(units_)};
  return Shape{std::size_t(units_)};
}

void Recurrent::init_params(Rng& rng) {
  const int rows = gates_ * units_;
  init_weights(init_, arena_->param(wx_slot_), features_, rows, rng);
  init_weights(init_, arena_->param(wh_slot_), units_, rows, rng);
  init_bias(arena_->param(bias_slot_));
  if (form_ == RecurrentForm::kSeparate) {
    auto bh = arena_->param(recurrent_bias_slot_);
    std::fill(bh.begin(), bh.end(), 0.0f);
  }
}

void Recurrent::init_bias(std::span<float> bias) {
  std::fill(bias.begin(), bias.end(), 0.0f);
}

// The GEMMs of forward(), forward_separate(), backward() and backward_separate() below:
// the input projection over all T*B rows, T-1 recurrence GEMMs (h_{-1} = 0 needs none), T-1
// GEMMs carrying dh back a step, then dW_x, dW_h (T > 1) and dx over all steps at once.
std::vector<MatrixProduct> Recurrent::matrix_products(std::size_t batch_size,
                                                      bool input_grad) const {
  const int batch = static_cast<int>(batch_size);
  const int rows = gates_ * units_;
  const int n = steps_ * batch;
  const bool separate = form_ == RecurrentForm::kSeparate;
  std::vector<MatrixProduct> products{
      {Pass::kForward, "input projection", {Trans::kNo, Trans::kYes, n, rows, features_, true}}};
  if (steps_ > 1) {
    products.push_back({Pass::kForward,
                        "recurrence",
                        {Trans::kNo, Trans::kYes, batch, rows, units_, true},
                        steps_ - 1});
    products.push_back({Pass::kBackward,
                        "recurrence grad",
                        {Trans::kNo, Trans::kNo, batch, units_, rows, separate},
                        steps_ - 1});
  }
  products.push_back(
      {Pass::kBackward, "weight grad", {Trans::kYes, Trans::kNo, rows, features_, n, true}});
  if (steps_ > 1) {
    products.push_back({Pass::kBackward,
                        "recurrent weight grad",
                        {Trans::kYes, Trans::kNo, rows, units_, n - batch, true}});
  }
  if (input_grad) {
    products.push_back(
        {Pass::kBackward, "input grad", {Trans::kNo, Trans::kNo, n, features_, rows, false}});
  }
  return products;
}

const float* Recurrent::pre_at(int t, int batch) const {
  return pre_.data() + std::size_t(t) * batch * gates_ * units_;
}

const float* Recurrent::hidden_at(int t, int batch) const {
  return h_.data() + std::size_t(t) * batch * units_;
}

const float* Recurrent::recurrent_at(int t, int batch) const {
  return rec_.data() + std::size_t(t) * batch * gates_ * units_;
}

void Recurrent::add_output_grad(const Tensor& dy, int t, int batch) {
  for (int b = 0; b < batch; ++b) {
    const float* g = dy.data() + (std::size_t(b) * steps_ + t) * units_;
    float* dh = dh_.data() + std::size_t(b) * units_;
    for (int j = 0; j < units_; ++j) dh[j] += g[j];
  }
}

void Recurrent::forward(const Tensor& x, Tensor& y, const ForwardContext&) {
  const int batch = static_cast<int>(x.shape()[0]);
  const int rows = gates_ * units_;
  const int n = steps_ * batch;  // time-major rows
  const std::size_t step_pre = std::size_t(batch) * rows;
  const std::size_t step_h = std::size_t(batch) * units_;
  x_tm_.resize(Shape{std::size_t(steps_), std::size_t(batch), std::size_t(features_)});
  pre_.resize(Shape{std::size_t(steps_), std::size_t(batch), std::size_t(rows)});
  h_.resize(Shape{std::size_t(steps_), std::size_t(batch), std::size_t(units_)});
  prepare(steps_, batch);
  to_time_major(x.data(), batch, steps_, features_, x_tm_.data());

  const float* wx = arena_->param(wx_slot_).data();
  const float* wh = arena_->param(wh_slot_).data();
  const float* b = arena_->param(bias_slot_).data();
  for (int r = 0; r < n; ++r) std::copy_n(b, rows, pre_.data() + std::size_t(r) * rows);
  gemm(Trans::kNo, Trans::kYes, n, rows, features_, 1.0f, x_tm_.data(), features_, wx, features_,
       1.0f, pre_.data(), rows);
  if (form_ == RecurrentForm::kSeparate) {
    forward_separate(batch);
  } else {
    for (int t = 0; t < steps_; ++t) {
      float* pre = pre_.data() + t * step_pre;
      float* h = h_.data() + t * step_h;
      if (t > 0) {  // h_{-1} = 0 adds nothing
        gemm(Trans::kNo, Trans::kYes, batch, rows, units_, 1.0f, h - step_h, units_, wh, units_,
             1.0f, pre, rows);
      }
      cell_forward(t, batch, pre, h);
    }
  }
  if (return_sequences_) {
    y.resize(Shape{std::size_t(batch), std::size_t(steps_), std::size_t(units_)});
    to_batch_major(h_.data(), batch, steps_, units_, y.data());
    return;
  }
  y.resize(Shape{std::size_t(batch), std::size_t(units_)});
  std::copy_n(h_.data() + (steps_ - 1) * step_h, step_h, y.data());
}

// q_t = b_h + h_{t-1} W_h^T, one GEMM per step as in the summed form, kept apart from p_t.
void Recurrent::forward_separate(int batch) {
  const int rows = gates_ * units_;
  const std::size_t step_pre = std::size_t(batch) * rows;
  const std::size_t step_h = std::size_t(batch) * units_;
  rec_.resize(pre_.shape());
  const float* wh = arena_->param(wh_slot_).data();
  const float* bh = arena_->param(recurrent_bias_slot_).data();
  for (int t = 0; t < steps_; ++t) {
    float* pre = pre_.data() + t * step_pre;
    float* rec = rec_.data() + t * step_pre;
    float* h = h_.data() + t * step_h;
    for (int r = 0; r < batch; ++r) std::copy_n(bh, rows, rec + std::size_t(r) * rows);
    if (t > 0) {
      gemm(Trans::kNo, Trans::kYes, batch, rows, units_, 1.0f, h - step_h, units_, wh, units_, 1.0f,
           rec, rows);
    }
    cell_forward_separate(t, batch, pre, rec, h);
  }
}

// The summed form's backward with dq kept apart: dh_{t-1} = dh_prev (the cell's direct
// part) + dq_t W_h; dW_h and db_h come from dq, dW_x, db and dx from dp as before.
void Recurrent::backward_separate(const Tensor& dy, int batch) {
  const int rows = gates_ * units_;
  const int n = steps_ * batch;
  const std::size_t step_pre = std::size_t(batch) * rows;
  drec_.resize(pre_.shape());
  dh_prev_.resize(dh_.shape());
  const float* wh = arena_->param(wh_slot_).data();
  for (int t = steps_ - 1; t >= 0; --t) {
    float* dpre = dpre_.data() + t * step_pre;
    float* drec = drec_.data() + t * step_pre;
    cell_backward_separate(t, batch, dh_.data(), dpre, drec, dh_prev_.data());
    if (t > 0) {
      gemm(Trans::kNo, Trans::kNo, batch, units_, rows, 1.0f, drec, rows, wh, units_, 1.0f,
           dh_prev_.data(), units_);
      std::swap(dh_, dh_prev_);
      if (return_sequences_) add_output_grad(dy, t - 1, batch);
    }
  }
  if (steps_ > 1) {
    gemm(Trans::kYes, Trans::kNo, rows, units_, n - batch, 1.0f, drec_.data() + step_pre, rows,
         h_.data(), units_, 1.0f, arena_->grad(wh_slot_).data(), units_);
  }
  float* dbh = arena_->grad(recurrent_bias_slot_).data();
  for (int r = 0; r < n; ++r) {
    const float* row = drec_.data() + std::size_t(r) * rows;
    for (int j = 0; j < rows; ++j) dbh[j] += row[j];
  }
}

void Recurrent::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  const int batch = static_cast<int>(x.shape()[0]);
  const int rows = gates_ * units_;
  const int n = steps_ * batch;
  const std::size_t step_pre = std::size_t(batch) * rows;
  const std::size_t step_h = std::size_t(batch) * units_;
  dpre_.resize(pre_.shape());
  dh_.resize(Shape{std::size_t(batch), std::size_t(units_)});
  const float* wx = arena_->param(wx_slot_).data();
  const float* wh = arena_->param(wh_slot_).data();

  // Without return_sequences only the last hidden state is an output, so dh starts as dy
  // and afterwards flows back through the recurrence alone; with it, every step's dy is
  // added to what flows back from the step after.
  if (return_sequences_) {
    dh_.fill(0.0f);
    add_output_grad(dy, steps_ - 1, batch);
  } else {
    std::copy_n(dy.data(), step_h, dh_.data());
  }
  if (form_ == RecurrentForm::kSeparate) {
    backward_separate(dy, batch);  // dpre, and the recurrent weight and bias gradients
  } else {
    for (int t = steps_ - 1; t >= 0; --t) {
      float* dpre = dpre_.data() + t * step_pre;
      cell_backward(t, batch, dh_.data(), dpre);
      if (t > 0) {
        gemm(Trans::kNo, Trans::kNo, batch, units_, rows, 1.0f, dpre, rows, wh, units_, 0.0f,
             dh_.data(), units_);
        if (return_sequences_) add_output_grad(dy, t - 1, batch);
      }
    }
  }

  gemm(Trans::kYes, Trans::kNo, rows, features_, n, 1.0f, dpre_.data(), rows, x_tm_.data(),
       features_, 1.0f, arena_->grad(wx_slot_).data(), features_);
  if (steps_ > 1 && form_ == RecurrentForm::kSummed) {
    // Step t's pre-activation gradients pair with h_{t-1}: drop the first block of dpre
    // and the last block of h.
    gemm(Trans::kYes, Trans::kNo, rows, units_, n - batch, 1.0f, dpre_.data() + step_pre, rows,
         h_.data(), units_, 1.0f, arena_->grad(wh_slot_).data(), units_);
  }
  float* db = arena_->grad(bias_slot_).data();
  for (int r = 0; r < n; ++r) {
    const float* row = dpre_.data() + std::size_t(r) * rows;
    for (int j = 0; j < rows; ++j) db[j] += row[j];
  }
  if (dx) {
    dx_tm_.resize(x_tm_.shape());
    gemm(Trans::kNo, Trans::kNo, n, features_, rows, 1.0f, dpre_.data(), rows, wx, features_, 0.0f,
         dx_tm_.data(), features_);
    dx->resize(x.shape());
    to_batch_major(dx_tm_.data(), batch, steps_, features_, dx->data());
  }
}

}  // namespace dtrain::nn
