#include "eval/text_sampler.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/errors.h"
#include "core/rng.h"

namespace dtrain::eval {
namespace {

// A network of the spec over `steps` positions, with the trained parameters.
std::unique_ptr<nn::Sequential> network_over(const nn::ModelConfig& spec, std::size_t steps,
                                             std::span<const float> params) {
  nn::ModelConfig c = spec;
  c.input_height = static_cast<int>(steps);
  auto model = nn::build_model(c);
  if (model->arena().arena_size() != params.size()) {
    throw ModelError("model '" + spec.name + "': " + std::to_string(params.size()) +
                     " stored parameters do not fit its " +
                     std::to_string(model->arena().arena_size()) + "-float arena");
  }
  std::copy(params.begin(), params.end(), model->arena().params().begin());
  return model;
}

// Index drawn from softmax(logits[0..v) / temperature), in double so that a low temperature
// does not overflow: subtract the largest scaled logit first.
std::size_t draw(const float* logits, std::size_t v, double temperature, Rng& rng) {
  double top = -INFINITY;
  for (std::size_t i = 0; i < v; ++i) top = std::max(top, logits[i] / temperature);
  std::vector<double> weight(v);
  double total = 0.0;
  for (std::size_t i = 0; i < v; ++i) total += weight[i] = std::exp(logits[i] / temperature - top);
  const double u = static_cast<double>(rng.next_u64() >> 11) * 0x1.0p-53 * total;
  double acc = 0.0;
  for (std::size_t i = 0; i < v; ++i) {
    acc += weight[i];
    if (u < acc) return i;
  }
  return v - 1;  // u within rounding of total
}

}  // namespace

std::string sample_text(const nn::ModelConfig& spec, std::span<const float> params,
                        const TextSampleOptions& o) {
  const std::string& vocab = spec.vocabulary;
  if (vocab.empty()) {
    throw ConfigError("model '" + spec.name + "' has no vocabulary (not a language_model)");
  }
  if (!(o.temperature > 0.0) || !std::isfinite(o.temperature)) {
    throw ConfigError("--temperature: got " + std::to_string(o.temperature) + ", expected > 0");
  }
  std::vector<float> context;  // token ids
  for (unsigned char c : o.prime) {
    const auto at = vocab.find(static_cast<char>(c));
    if (at == std::string::npos) {
      throw ConfigError(
          "--prime: byte " + std::to_string(c) + " ('" + std::string(1, static_cast<char>(c)) +
          "') is not in the model's vocabulary of " + std::to_string(vocab.size()) + " characters");
    }
    context.push_back(static_cast<float>(at));
  }
  Rng rng(derive_seed(o.seed, 0x5a3d1e));
  std::string out;
  if (context.empty() && o.length > 0) {
    const auto first = static_cast<std::size_t>(rng.next_u64() % vocab.size());
    context.push_back(static_cast<float>(first));
    out.push_back(vocab[first]);
  }
  const auto steps = static_cast<std::size_t>(spec.input_height);
  // A network whose parameters depend on T (a position_embedding's [T, C] table) cannot be
  // rebuilt over a shorter window: it runs over all T positions with the window at 0..w-1
  // and token 0 after it. Its layers are causal, so the logits at w-1 see only the window.
  const bool full_context = [&] {
    nn::ModelConfig one = spec;
    one.input_height = 1;
    try {
      return nn::build_model(one)->arena().arena_size() != params.size();
    } catch (const ModelError&) {
      return true;
    }
  }();
  std::unique_ptr<nn::Sequential> model;
  tensor::Tensor x;
  while (out.size() < o.length) {
    const std::size_t window = std::min(context.size(), steps);
    const std::size_t rows = full_context ? steps : window;
    if (!model || model->input_shape()[0] != rows) model = network_over(spec, rows, params);
    x.resize(model->input_shape().with_batch(1));
    x.fill(0.0f);
    std::copy(context.end() - static_cast<std::ptrdiff_t>(window), context.end(), x.data());
    const auto& logits = model->forward(x, {.training = false});
    const std::size_t k = model->output_shape()[1];
    const std::size_t next =
        draw(logits.data() + (window - 1) * k, std::min(k, vocab.size()), o.temperature, rng);
    context.push_back(static_cast<float>(next));
    out.push_back(vocab[next]);
  }
  return out;
}

}  // namespace dtrain::eval
