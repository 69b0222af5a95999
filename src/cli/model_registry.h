#pragma once
// Model specs: the built-in ones (models/*.pbtxt, compiled in) or a text-format
// dtrain.proto.ModelSpec file named by --model.
#include <string>
#include <vector>

#include "nn/model_config.h"

namespace dtrain::cli {

std::vector<std::string> builtin_model_names();
bool is_builtin_model(const std::string& name);

// A built-in name or a path to a text-format ModelSpec. Throws ConfigError naming --model
// for a name that is neither, ModelError (exit 3) with protobuf's line and column for a
// malformed file.
nn::ModelConfig load_model_config(const std::string& name_or_path);

// Parses spec text; `source` names it in error messages.
nn::ModelConfig parse_model_spec(const std::string& text, const std::string& source);

}  // namespace dtrain::cli
