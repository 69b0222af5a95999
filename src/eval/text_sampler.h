#pragma once
// Generating text with a trained language model (dtrain sample).
// Algorithm: the context is the prime (or, without one, one character drawn uniformly from
// the vocabulary, counted in `length`); each new character is drawn from
// softmax(logits / temperature) at the LAST position of a forward pass over the last
// min(context, T) characters, T the model's sequence length, then appended. A window that
// starts from a zero recurrent state is exactly what training saw (every training sequence
// starts from zero state), so no state is carried between calls. Logits past the
// vocabulary's size (a spec with an explicit larger output) are never drawn.
// Cost: one forward over up to T positions per character, O(length * T * cost of one step);
// for charlstm (T 100, LSTM 256) about 70 MFLOP per character, a few seconds for 500.
// Until the context reaches T characters a network of the context's length is built
// (parameters copied; the layout does not depend on T).
#include <cstdint>
#include <span>
#include <string>

#include "nn/model_config.h"

namespace dtrain::eval {

struct TextSampleOptions {
  std::size_t length = 500;  // characters to generate (the prime is not counted)
  double temperature = 0.8;  // > 0; below 1 sharpens the distribution, above 1 flattens it
  std::string prime;         // text to start from; every byte must be in the vocabulary
  std::uint64_t seed = 0;
};

// The generated characters (without the prime). spec: a resolved language_model spec (its
// vocabulary set); params: its trained arena. Throws ConfigError for a prime byte outside
// the vocabulary or a temperature <= 0, ModelError when params do not fit the spec.
std::string sample_text(const nn::ModelConfig& spec, std::span<const float> params,
                        const TextSampleOptions& options);

}  // namespace dtrain::eval
