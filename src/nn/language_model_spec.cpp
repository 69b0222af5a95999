#include "nn/language_model_spec.h"

#include "core/errors.h"

namespace dtrain::nn {
namespace {

[[noreturn]] void fail(const ModelConfig& config, const std::string& what) {
  throw ModelError("model '" + config.name + "' (task language_model): " + what);
}

std::string layer_name(const ModelConfig& config, std::size_t i) {
  const auto& c = config.layers[i];
  return "layer '" + (c.name.empty() ? c.type + std::to_string(i) : c.name) + "'";
}

bool is_output_dense(const ModelConfig& config, std::size_t i) {
  return i + 1 == config.layers.size() && config.layers[i].type == "dense";
}

}  // namespace

void resolve_vocabulary(ModelConfig& config, const std::string& vocabulary) {
  const int v = static_cast<int>(vocabulary.size());
  if (v < 1 || v > 256) {
    fail(config, "the data's vocabulary holds " + std::to_string(v) +
                     " tokens, expected 1 to 256 (train it on --data text:FILE)");
  }
  config.vocabulary = vocabulary;
  for (std::size_t i = 0; i < config.layers.size(); ++i) {
    auto& c = config.layers[i];
    int* size = c.type == "embedding" ? &c.vocab : is_output_dense(config, i) ? &c.units : nullptr;
    if (size == nullptr) continue;
    if (*size == 0) {
      *size = v;
    } else if (*size < v) {
      fail(config, layer_name(config, i) + " has size " + std::to_string(*size) +
                       " but the data's vocabulary holds " + std::to_string(v) +
                       " tokens (set it to 0 to take the data's)");
    }
  }
}

void check_vocabulary_resolved(const ModelConfig& config) {
  for (std::size_t i = 0; i < config.layers.size(); ++i) {
    const auto& c = config.layers[i];
    if ((c.type == "embedding" && c.vocab == 0) || (is_output_dense(config, i) && c.units == 0)) {
      fail(config, layer_name(config, i) +
                       " takes its size from the data's vocabulary (0), so the model needs "
                       "--data text:FILE");
    }
  }
}

void check_language_model(const ModelConfig& config, const Sequential& model) {
  const auto& in = model.input_shape();
  const auto& out = model.output_shape();
  if (in.rank() != 3 || in[0] < 1 || in[1] != 1 || in[2] != 1) {
    fail(config, "input " + in.to_string() + " must be [T, 1, 1] token ids (input_width 1, " +
                     "input_channels 1, input_height the sequence length)");
  }
  if (out.rank() != 2 || out[0] != in[0] || out[1] < 2) {
    fail(config, "output " + out.to_string() + " must be [" + std::to_string(in[0]) +
                     ", K] logits, K >= 2 (a recurrent layer with return_sequences, then a " +
                     "dense layer with per_step)");
  }
  if (out[1] < config.vocabulary.size()) {
    fail(config, "output " + out.to_string() + " has fewer logits than the vocabulary's " +
                     std::to_string(config.vocabulary.size()) + " tokens");
  }
}

}  // namespace dtrain::nn
