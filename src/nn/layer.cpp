#include "nn/layer.h"

namespace dtrain::nn {

ModelError Layer::shape_error(const std::string& what) const {
  return ModelError("layer '" + name_ + "' (" + type() + "): " + what);
}

}  // namespace dtrain::nn
