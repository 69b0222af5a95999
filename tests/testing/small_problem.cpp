#include "testing/small_problem.h"

#include <cmath>

#include "data/synthetic.h"

namespace dtrain::testing {

const data::DataSplits& small_splits() {
  static const data::DataSplits splits = data::make_synthetic(480, 60, 120, 8);
  return splits;
}

nn::ModelConfig small_cnn() {
  return {"small_cnn",
          28,
          28,
          1,
          {{.type = "conv2d", .filters = 4, .kernel = 3, .stride = 2},
           {.type = "relu"},
           {.type = "maxpool2d", .kernel = 2},
           {.type = "flatten"},
           {.type = "dense", .units = 16},
           {.type = "relu"},
           {.type = "dense", .units = 10}}};
}

double relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0.0, norm = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    norm += double(b[i]) * b[i];
  }
  return std::sqrt(diff / norm);
}

}  // namespace dtrain::testing
