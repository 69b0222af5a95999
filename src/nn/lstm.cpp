#include "nn/lstm.h"

#include <algorithm>

#include "tensor/vector_math.h"

namespace dtrain::nn {

void LSTM::prepare(int steps, int batch) {
  const Shape states{std::size_t(steps), std::size_t(batch), std::size_t(units_)};
  c_.resize(states);
  tc_.resize(states);
  dc_.resize(Shape{std::size_t(batch), std::size_t(units_)});
}

void LSTM::init_bias(std::span<float> bias) {
  std::fill(bias.begin(), bias.end(), 0.0f);
  std::fill_n(bias.begin() + units_, units_, 1.0f);
}

void LSTM::cell_forward(int t, int batch, float* pre, float* h) {
  const int hs = units_;
  const std::size_t step = std::size_t(batch) * hs;
  float* c = c_.data() + t * step;
  float* tc = tc_.data() + t * step;
  const float* c_prev = t > 0 ? c - step : nullptr;
  for (int b = 0; b < batch; ++b) {
    float* i = pre + std::size_t(b) * 4 * hs;
    float* f = i + hs;
    float* g = f + hs;
    float* o = g + hs;
    const std::size_t row = std::size_t(b) * hs;
    // The gates a row at a time through the vector nonlinearities (i and f are adjacent).
    tensor::sigmoid_values(i, i, 2 * std::size_t(hs));
    tensor::tanh_values(g, g, std::size_t(hs));
    tensor::sigmoid_values(o, o, std::size_t(hs));
    for (int j = 0; j < hs; ++j) {
      c[row + j] = (c_prev ? f[j] * c_prev[row + j] : 0.0f) + i[j] * g[j];
    }
    tensor::tanh_values(c + row, tc + row, std::size_t(hs));
    for (int j = 0; j < hs; ++j) h[row + j] = o[j] * tc[row + j];
  }
}

void LSTM::cell_backward(int t, int batch, const float* dh, float* dpre) {
  const int hs = units_;
  const std::size_t step = std::size_t(batch) * hs;
  if (t == steps_ - 1) dc_.fill(0.0f);  // nothing flows into c_{T-1} from later steps
  const float* gates = pre_at(t, batch);
  const float* tc = tc_.data() + t * step;
  const float* c_prev = t > 0 ? c_.data() + (t - 1) * step : nullptr;
  float* dc = dc_.data();
  for (int b = 0; b < batch; ++b) {
    const float* i = gates + std::size_t(b) * 4 * hs;
    const float* f = i + hs;
    const float* g = f + hs;
    const float* o = g + hs;
    float* di = dpre + std::size_t(b) * 4 * hs;
    float* df = di + hs;
    float* dg = df + hs;
    float* d_o = dg + hs;
    const std::size_t row = std::size_t(b) * hs;
    for (int j = 0; j < hs; ++j) {
      const float dhj = dh[row + j], tcj = tc[row + j];
      const float dct = dc[row + j] + dhj * o[j] * (1.0f - tcj * tcj);
      d_o[j] = dhj * tcj * o[j] * (1.0f - o[j]);
      di[j] = dct * g[j] * i[j] * (1.0f - i[j]);
      df[j] = c_prev ? dct * c_prev[row + j] * f[j] * (1.0f - f[j]) : 0.0f;
      dg[j] = dct * i[j] * (1.0f - g[j] * g[j]);
      dc[row + j] = dct * f[j];
    }
  }
}

}  // namespace dtrain::nn
