#pragma once
// A language model's spec (task "language_model"): input [T, 1, 1] token ids (stored as
// floats), output [T, K] logits, one row per position, for the next token at each position.
// Its vocabulary comes from the data (a text file's distinct bytes), so a spec may leave the
// sizes that depend on it as 0, meaning "the data's vocabulary size V":
//  - an embedding layer's `vocab: 0`,
//  - the last layer's `units: 0` when it is a dense layer.
// resolve_vocabulary fills them in before the networks are built; explicit values must be at
// least V. The resolved spec, vocabulary included, is what a checkpoint stores, so sampling
// needs nothing but the checkpoint.
#include <string>

#include "nn/model_config.h"

namespace dtrain::nn {

// Stores `vocabulary` in config and resolves the zero sizes above. Throws ModelError naming
// the model and layer when the vocabulary is empty or over 256, or an explicit size is below V.
void resolve_vocabulary(ModelConfig& config, const std::string& vocabulary);

// ModelError when an embedding's vocab or the last dense layer's units are still 0 (the spec
// was not resolved against text data).
void check_vocabulary_resolved(const ModelConfig& config);

// ModelError unless the built network takes [T, 1, 1] and gives [T, K] logits with K >= 2
// (and K >= the vocabulary's size when the spec holds one).
void check_language_model(const ModelConfig& config, const Sequential& model);

}  // namespace dtrain::nn
