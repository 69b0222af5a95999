#include "nn/attention.h"

#include <algorithm>
#include <cmath>

#include "tensor/blas.h"

namespace dtrain::nn {

using tensor::gemm;
using tensor::Trans;

Attention::Attention(std::string name, int heads, InitScheme init)
    : Layer(std::move(name)), heads_(heads), init_(init) {}

Shape Attention::setup(const Shape& input, ParamArena& arena) {
  if (heads_ <= 0) throw shape_error("heads must be positive, got " + std::to_string(heads_));
  if (input.rank() != 2 || input.numel() == 0) {
    throw shape_error("expects a sequence [T, C] per sample, got " + input.to_string());
  }
  steps_ = static_cast<int>(input[0]);
  width_ = static_cast<int>(input[1]);
  if (width_ % heads_ != 0) {
    throw shape_error("heads " + std::to_string(heads_) + " must divide the width C = " +
                      std::to_string(width_) + " of its input " + input.to_string());
  }
  head_dim_ = width_ / heads_;
  // The scores of one sample, heads x T x T floats, are kept for backward: bounded like the
  // parameters (ParamArena::kMaxParams), so a long input_height fails here, not in malloc.
  if (double(heads_) * double(input[0]) * double(input[0]) > double(ParamArena::kMaxParams)) {
    throw shape_error("heads x T x T = " + std::to_string(heads_) + " x " +
                      std::to_string(input[0]) + "^2 attention scores per sample exceed " +
                      std::to_string(ParamArena::kMaxParams) + "; shorten the sequence");
  }
  const std::size_t c = std::size_t(width_);
  arena_ = &arena;
  qkv_w_ = arena.declare(name() + ".qkv.weight", Shape{3 * c, c});
  qkv_b_ = arena.declare(name() + ".qkv.bias", Shape{3 * c});
  proj_w_ = arena.declare(name() + ".proj.weight", Shape{c, c});
  proj_b_ = arena.declare(name() + ".proj.bias", Shape{c});
  return input;
}

// Each of the four C x C blocks (query, key, value, projection) as a C -> C dense layer.
void Attention::init_params(Rng& rng) {
  const std::size_t block = std::size_t(width_) * std::size_t(width_);
  auto qkv = arena_->param(qkv_w_);
  for (int i = 0; i < 3; ++i) {
    init_weights(init_, qkv.subspan(std::size_t(i) * block, block), width_, width_, rng);
  }
  init_weights(init_, arena_->param(proj_w_), width_, width_, rng);
}

std::vector<MatrixProduct> Attention::matrix_products(std::size_t batch, bool input_grad) const {
  const int rows = static_cast<int>(batch) * steps_, c = width_, t = steps_, d = head_dim_;
  const int per_head = static_cast<int>(batch) * heads_;
  std::vector<MatrixProduct> p{
      {Pass::kForward, "qkv", {Trans::kNo, Trans::kYes, rows, 3 * c, c, true}},
      {Pass::kForward, "scores", {Trans::kNo, Trans::kYes, t, t, d, false}, per_head},
      {Pass::kForward, "weighted sum", {Trans::kNo, Trans::kNo, t, d, t, false}, per_head},
      {Pass::kForward, "projection", {Trans::kNo, Trans::kYes, rows, c, c, true}},
      {Pass::kBackward, "projection weight grad", {Trans::kYes, Trans::kNo, c, c, rows, true}},
      {Pass::kBackward, "projection input grad", {Trans::kNo, Trans::kNo, rows, c, c, false}},
      {Pass::kBackward, "probs grad", {Trans::kNo, Trans::kYes, t, t, d, false}, per_head},
      {Pass::kBackward, "value grad", {Trans::kYes, Trans::kNo, t, d, t, false}, per_head},
      {Pass::kBackward, "query grad", {Trans::kNo, Trans::kNo, t, d, t, false}, per_head},
      {Pass::kBackward, "key grad", {Trans::kYes, Trans::kNo, t, d, t, false}, per_head},
      {Pass::kBackward, "qkv weight grad", {Trans::kYes, Trans::kNo, 3 * c, c, rows, true}}};
  if (input_grad) {
    p.push_back({Pass::kBackward, "input grad", {Trans::kNo, Trans::kNo, rows, c, 3 * c, false}});
  }
  return p;
}

void Attention::forward(const Tensor& x, Tensor& y, const ForwardContext&) {
  const std::size_t batch = x.shape()[0];
  const int rows = static_cast<int>(batch) * steps_, c = width_, t = steps_, d = head_dim_;
  const std::size_t tt = std::size_t(t) * std::size_t(t);
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  qkv_.resize(Shape{std::size_t(rows), 3 * std::size_t(c)});
  probs_.resize(Shape{batch, std::size_t(heads_), std::size_t(t), std::size_t(t)});
  heads_out_.resize(Shape{std::size_t(rows), std::size_t(c)});
  y.resize(x.shape());

  const float* bqkv = arena_->param(qkv_b_).data();
  for (int r = 0; r < rows; ++r) std::copy_n(bqkv, 3 * c, qkv_.data() + std::size_t(r) * 3 * c);
  gemm(Trans::kNo, Trans::kYes, rows, 3 * c, c, 1.0f, x.data(), c, arena_->param(qkv_w_).data(), c,
       1.0f, qkv_.data(), 3 * c);

  for (std::size_t b = 0; b < batch; ++b) {
    const float* base = qkv_.data() + b * std::size_t(t) * 3 * std::size_t(c);
    for (int h = 0; h < heads_; ++h) {
      const float* q = base + std::size_t(h) * d;
      const float* k = q + c;
      const float* v = q + 2 * c;
      float* p = probs_.data() + (b * std::size_t(heads_) + std::size_t(h)) * tt;
      gemm(Trans::kNo, Trans::kYes, t, t, d, scale, q, 3 * c, k, 3 * c, 0.0f, p, t);
      for (int i = 0; i < t; ++i) {  // causal softmax of row i over positions 0..i
        float* row = p + std::size_t(i) * t;
        const float top = *std::max_element(row, row + i + 1);
        float sum = 0.0f;
        for (int j = 0; j <= i; ++j) {
          row[j] = std::exp(row[j] - top);
          sum += row[j];
        }
        const float inv = 1.0f / sum;
        for (int j = 0; j <= i; ++j) row[j] *= inv;
        std::fill(row + i + 1, row + t, 0.0f);
      }
      float* o = heads_out_.data() + b * std::size_t(t) * std::size_t(c) + std::size_t(h) * d;
      gemm(Trans::kNo, Trans::kNo, t, d, t, 1.0f, p, t, v, 3 * c, 0.0f, o, c);
    }
  }

  const float* bproj = arena_->param(proj_b_).data();
  for (int r = 0; r < rows; ++r) std::copy_n(bproj, c, y.data() + std::size_t(r) * c);
  gemm(Trans::kNo, Trans::kYes, rows, c, c, 1.0f, heads_out_.data(), c,
       arena_->param(proj_w_).data(), c, 1.0f, y.data(), c);
}

void Attention::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  const std::size_t batch = x.shape()[0];
  const int rows = static_cast<int>(batch) * steps_, c = width_, t = steps_, d = head_dim_;
  const std::size_t tt = std::size_t(t) * std::size_t(t);
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  d_heads_out_.resize(Shape{std::size_t(rows), std::size_t(c)});
  d_qkv_.resize(Shape{std::size_t(rows), 3 * std::size_t(c)});
  d_probs_.resize(Shape{std::size_t(t), std::size_t(t)});

  // Output projection.
  gemm(Trans::kYes, Trans::kNo, c, c, rows, 1.0f, dy.data(), c, heads_out_.data(), c, 1.0f,
       arena_->grad(proj_w_).data(), c);
  float* dbproj = arena_->grad(proj_b_).data();
  for (int r = 0; r < rows; ++r) {
    const float* g = dy.data() + std::size_t(r) * c;
    for (int j = 0; j < c; ++j) dbproj[j] += g[j];
  }
  gemm(Trans::kNo, Trans::kNo, rows, c, c, 1.0f, dy.data(), c, arena_->param(proj_w_).data(), c,
       0.0f, d_heads_out_.data(), c);

  // Per sample and head: the weighted sum, the softmax and the scores.
  for (std::size_t b = 0; b < batch; ++b) {
    const std::size_t row0 = b * std::size_t(t);
    const float* base = qkv_.data() + row0 * 3 * std::size_t(c);
    float* dbase = d_qkv_.data() + row0 * 3 * std::size_t(c);
    for (int h = 0; h < heads_; ++h) {
      const std::size_t off = std::size_t(h) * d;
      const float* q = base + off;
      const float* k = q + c;
      const float* v = q + 2 * c;
      float* dq = dbase + off;
      float* dk = dq + c;
      float* dv = dq + 2 * c;
      const float* p = probs_.data() + (b * std::size_t(heads_) + std::size_t(h)) * tt;
      const float* dout = d_heads_out_.data() + row0 * std::size_t(c) + off;
      float* dp = d_probs_.data();
      gemm(Trans::kNo, Trans::kYes, t, t, d, 1.0f, dout, c, v, 3 * c, 0.0f, dp, t);
      gemm(Trans::kYes, Trans::kNo, t, d, t, 1.0f, p, t, dout, c, 0.0f, dv, 3 * c);
      for (int i = 0; i < t; ++i) {  // dS = P * (dP - rowsum(dP * P)), in place in dp
        const float* prow = p + std::size_t(i) * t;
        float* row = dp + std::size_t(i) * t;
        float dot = 0.0f;
        for (int j = 0; j <= i; ++j) dot += row[j] * prow[j];
        for (int j = 0; j <= i; ++j) row[j] = prow[j] * (row[j] - dot);
        std::fill(row + i + 1, row + t, 0.0f);
      }
      gemm(Trans::kNo, Trans::kNo, t, d, t, scale, dp, t, k, 3 * c, 0.0f, dq, 3 * c);
      gemm(Trans::kYes, Trans::kNo, t, d, t, scale, dp, t, q, 3 * c, 0.0f, dk, 3 * c);
    }
  }

  // The QKV projection.
  gemm(Trans::kYes, Trans::kNo, 3 * c, c, rows, 1.0f, d_qkv_.data(), 3 * c, x.data(), c, 1.0f,
       arena_->grad(qkv_w_).data(), c);
  float* dbqkv = arena_->grad(qkv_b_).data();
  for (int r = 0; r < rows; ++r) {
    const float* g = d_qkv_.data() + std::size_t(r) * 3 * c;
    for (int j = 0; j < 3 * c; ++j) dbqkv[j] += g[j];
  }
  if (dx) {
    dx->resize(x.shape());
    gemm(Trans::kNo, Trans::kNo, rows, c, 3 * c, 1.0f, d_qkv_.data(), 3 * c,
         arena_->param(qkv_w_).data(), c, 0.0f, dx->data(), c);
  }
}

}  // namespace dtrain::nn
