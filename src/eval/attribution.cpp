#include "eval/attribution.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/errors.h"

namespace dtrain::eval {

namespace {

// Logits of `n` examples for the gradient of logit_target of each: one at the target.
void one_hot_rows(tensor::Tensor& dlogits, std::size_t n, std::size_t classes, std::size_t target) {
  dlogits.resize(tensor::Shape({n, classes}));
  dlogits.fill(0.0f);
  for (std::size_t i = 0; i < n; ++i) dlogits[i * classes + target] = 1.0f;
}

std::vector<float> softmax(const float* logits, std::size_t classes) {
  const float top = *std::max_element(logits, logits + classes);
  std::vector<float> p(classes);
  double sum = 0.0;
  for (std::size_t c = 0; c < classes; ++c) sum += std::exp(double(logits[c]) - top);
  for (std::size_t c = 0; c < classes; ++c) {
    p[c] = static_cast<float>(std::exp(double(logits[c]) - top) / sum);
  }
  return p;
}

// The last layer whose output is a feature map [H', W', C] with more than one position and
// whose successor runs its own backward (so its output gradient is kept).
std::size_t gradcam_layer(const nn::Sequential& model) {
  for (std::size_t i = model.num_layers() - 1; i-- > 0;) {
    const auto& shape = model.layer_output_shape(i);
    if (shape.rank() == 3 && shape[0] * shape[1] > 1 && model.runs_alone(i + 1)) return i;
  }
  throw ConfigError("gradcam: model '" + model.name() +
                    "' has no layer with a spatial output [H, W, C] before its classifier");
}

// Bilinear resampling of an [h, w] map to [H, W] (pixel centres aligned, edges clamped).
std::vector<float> upsample(const std::vector<float>& map, std::size_t h, std::size_t w,
                            std::size_t H, std::size_t W) {
  std::vector<float> out(H * W);
  auto coord = [](std::size_t dst, std::size_t from, std::size_t to, std::size_t& lo,
                  std::size_t& hi, float& frac) {
    const double src =
        std::clamp((double(dst) + 0.5) * double(from) / double(to) - 0.5, 0.0, double(from - 1));
    lo = static_cast<std::size_t>(src);
    hi = std::min(lo + 1, from - 1);
    frac = static_cast<float>(src - double(lo));
  };
  for (std::size_t y = 0; y < H; ++y) {
    std::size_t y0, y1;
    float fy;
    coord(y, h, H, y0, y1, fy);
    for (std::size_t x = 0; x < W; ++x) {
      std::size_t x0, x1;
      float fx;
      coord(x, w, W, x0, x1, fx);
      const float top = map[y0 * w + x0] * (1 - fx) + map[y0 * w + x1] * fx;
      const float bottom = map[y1 * w + x0] * (1 - fx) + map[y1 * w + x1] * fx;
      out[y * W + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

}  // namespace

AttributionMethod parse_attribution_method(const std::string& name) {
  if (name == "saliency") return AttributionMethod::kSaliency;
  if (name == "integrated-gradients") return AttributionMethod::kIntegratedGradients;
  if (name == "gradcam") return AttributionMethod::kGradCam;
  throw ConfigError("--method '" + name + "': expected saliency, integrated-gradients or gradcam");
}

std::string attribution_method_name(AttributionMethod method) {
  switch (method) {
    case AttributionMethod::kSaliency:
      return "saliency";
    case AttributionMethod::kIntegratedGradients:
      return "integrated-gradients";
    case AttributionMethod::kGradCam:
      return "gradcam";
  }
  return "?";
}

Explanation explain(nn::Sequential& model, const tensor::Tensor& x, AttributionMethod method,
                    long target, int steps) {
  const auto& in = model.input_shape();
  if (in.rank() != 3) {
    throw ConfigError("explain: model '" + model.name() + "' takes " + in.to_string() +
                      " inputs; explanations need images or spectrograms [H, W, C]");
  }
  if (model.output_shape().rank() != 1) {
    throw ConfigError("explain: model '" + model.name() + "' outputs " +
                      model.output_shape().to_string() + ", not a vector of class logits");
  }
  if (steps < 1) throw ConfigError("explain: --steps must be >= 1");
  const std::size_t H = in[0], W = in[1], C = in[2], values = H * W * C;
  const std::size_t classes = model.output_shape().numel();
  const nn::ForwardContext eval{.training = false};

  Explanation e;
  const auto& logits = model.forward(x, eval);
  e.probabilities = softmax(logits.data(), classes);
  e.target = target >= 0 ? static_cast<std::size_t>(target)
                         : static_cast<std::size_t>(
                               std::max_element(e.probabilities.begin(), e.probabilities.end()) -
                               e.probabilities.begin());
  if (e.target >= classes) {
    throw ConfigError("explain: class " + std::to_string(e.target) + " is not one of the " +
                      std::to_string(classes) + " classes");
  }
  e.logit = logits[e.target];
  e.map.assign(H * W, 0.0f);
  tensor::Tensor dlogits;

  switch (method) {
    case AttributionMethod::kSaliency: {
      one_hot_rows(dlogits, 1, classes, e.target);
      model.backward(x, dlogits, /*need_input_grad=*/true);
      const float* g = model.input_grad().data();
      for (std::size_t p = 0; p < H * W; ++p) {
        float m = 0.0f;
        for (std::size_t c = 0; c < C; ++c) m = std::max(m, std::fabs(g[p * C + c]));
        e.map[p] = m;
      }
      break;
    }
    case AttributionMethod::kIntegratedGradients: {
      const auto n = static_cast<std::size_t>(steps);
      tensor::Tensor path(in.with_batch(n));
      for (std::size_t k = 0; k < n; ++k) {
        const float alpha = (float(k) + 0.5f) / float(n);
        for (std::size_t v = 0; v < values; ++v) path[k * values + v] = alpha * x[v];
      }
      model.forward(path, eval);
      one_hot_rows(dlogits, n, classes, e.target);
      model.backward(path, dlogits, /*need_input_grad=*/true);
      const float* g = model.input_grad().data();
      for (std::size_t v = 0; v < values; ++v) {
        double mean = 0.0;
        for (std::size_t k = 0; k < n; ++k) mean += g[k * values + v];
        e.map[v / C] += static_cast<float>(double(x[v]) * mean / double(n));
      }
      tensor::Tensor baseline(in.with_batch(1));
      baseline.fill(0.0f);
      e.baseline_logit = model.forward(baseline, eval)[e.target];
      break;
    }
    case AttributionMethod::kGradCam: {
      const std::size_t layer = gradcam_layer(model);
      e.layer = model.layer(layer).name();
      one_hot_rows(dlogits, 1, classes, e.target);
      model.backward(x, dlogits, /*need_input_grad=*/true);
      const auto& shape = model.layer_output_shape(layer);
      const std::size_t h = shape[0], w = shape[1], k = shape[2];
      const float* a = model.layer_output(layer).data();
      const float* da = model.output_grad(layer).data();
      std::vector<double> weight(k, 0.0);
      for (std::size_t p = 0; p < h * w; ++p) {
        for (std::size_t c = 0; c < k; ++c) weight[c] += da[p * k + c];
      }
      std::vector<float> cam(h * w);
      for (std::size_t p = 0; p < h * w; ++p) {
        double sum = 0.0;
        for (std::size_t c = 0; c < k; ++c) sum += weight[c] / double(h * w) * a[p * k + c];
        cam[p] = static_cast<float>(std::max(sum, 0.0));
      }
      e.map = upsample(cam, h, w, H, W);
      break;
    }
  }
  return e;
}

double rank_correlation(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size() || a.size() < 2) {
    throw ConfigError("rank correlation needs two maps of the same size (at least 2 values)");
  }
  auto ranks = [](const std::vector<float>& v) {
    std::vector<std::size_t> order(v.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](auto i, auto j) { return v[i] < v[j]; });
    std::vector<double> r(v.size());
    for (std::size_t i = 0; i < order.size();) {
      std::size_t j = i;
      while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
      const double mean_rank = (double(i) + double(j)) / 2.0;  // ties share their mean rank
      for (std::size_t t = i; t <= j; ++t) r[order[t]] = mean_rank;
      i = j + 1;
    }
    return r;
  };
  const auto ra = ranks(a), rb = ranks(b);
  const double n = double(a.size());
  const double mean = (n - 1) / 2.0;
  double sab = 0.0, saa = 0.0, sbb = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (ra[i] - mean) * (rb[i] - mean);
    saa += (ra[i] - mean) * (ra[i] - mean);
    sbb += (rb[i] - mean) * (rb[i] - mean);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

}  // namespace dtrain::eval
