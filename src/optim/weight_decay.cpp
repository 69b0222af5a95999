#include "optim/weight_decay.h"

#include <algorithm>

#include "core/errors.h"

namespace dtrain::optim {

std::vector<ParamRange> decayed_ranges(const nn::Sequential& model,
                                       const std::vector<std::string>& also_decay) {
  std::vector<ParamRange> ranges;
  auto add = [&](std::size_t begin, std::size_t end) {
    if (!ranges.empty() && ranges.back().end == begin) {
      ranges.back().end = end;
    } else {
      ranges.push_back({begin, end});
    }
  };
  const auto& slots = model.arena().slots();
  for (std::size_t i = 0; i < model.num_layers(); ++i) {
    const auto& layer = model.layer(i);
    const auto& range = model.layer_params(i);
    const bool all =
        std::find(also_decay.begin(), also_decay.end(), layer.name()) != also_decay.end();
    const bool embedding = layer.type().find("embedding") != std::string::npos;
    for (const auto& slot : slots) {
      if (slot.offset < range.begin || slot.offset >= range.end) continue;
      if (all || (!embedding && slot.shape.rank() >= 2)) add(slot.offset, slot.offset + slot.size);
    }
  }
  return ranges;
}

void check_layer_names(const std::vector<const nn::Sequential*>& models,
                       const std::vector<std::string>& names) {
  for (const auto& name : names) {
    bool found = false;
    for (const auto* model : models) {
      for (std::size_t i = 0; i < model->num_layers(); ++i) found |= model->layer(i).name() == name;
    }
    if (!found) {
      throw ConfigError("model file: defaults { weight_decay_layers: \"" + name +
                        "\" } is not a layer of the model");
    }
  }
}

}  // namespace dtrain::optim
