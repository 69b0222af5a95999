#pragma once
// dtrain.proto's ModelSpec <-> nn::ModelConfig. The proto is the one schema (model files,
// checkpoints); nn/ works on the plain struct so it needs no protobuf.
#include <string>

#include "dtrain.pb.h"
#include "nn/model_config.h"

namespace dtrain::ckpt {

nn::ModelConfig from_proto(const proto::ModelSpec& spec);
proto::ModelSpec to_proto(const nn::ModelConfig& config);

// Parses text-format ModelSpec; `source` names it in errors. Throws ModelError with
// protobuf's line and column.
nn::ModelConfig parse_model_spec_text(const std::string& text, const std::string& source);

}  // namespace dtrain::ckpt
