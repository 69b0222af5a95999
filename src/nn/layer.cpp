#include "nn/layer.h"

namespace dtrain::nn {

ModelError Layer::shape_error(const std::string& what) const {
  return ModelError("layer '" + name_ + "' (" + type() + "): " + what);
}

double Layer::forward_flops_per_sample() const {
  double flops = 0.0;
  for (const auto& p : matrix_products(1, false)) {
    if (p.pass == Pass::kForward) flops += p.flops();
  }
  return flops;
}

}  // namespace dtrain::nn
