#include "cli/model_registry.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "ckpt/model_spec.h"
#include "cli/option_parts.h"
#include "core/errors.h"

namespace dtrain::cli {

namespace {

const std::pair<const char*, const char*> kBuiltinModels[] = {
#include "builtin_models.inc"
};

}  // namespace

std::vector<std::string> builtin_model_names() {
  std::vector<std::string> names;
  for (const auto& [name, text] : kBuiltinModels) names.emplace_back(name);
  return names;
}

bool is_builtin_model(const std::string& name) {
  for (const auto& [builtin, text] : kBuiltinModels) {
    if (name == builtin) return true;
  }
  return false;
}

nn::ModelConfig parse_model_spec(const std::string& text, const std::string& source) {
  return ckpt::parse_model_spec_text(text, source);
}

nn::ModelConfig load_model_config(const std::string& name_or_path) {
  for (const auto& [name, text] : kBuiltinModels) {
    if (name_or_path == name) return parse_model_spec(text, std::string("built-in model ") + name);
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(name_or_path, ec)) {
    std::string names;
    for (const auto& n : builtin_model_names()) names += (names.empty() ? "" : ", ") + n;
    throw ConfigError("--model: '" + name_or_path + "' is neither a built-in model (" + names +
                      ") nor a model spec file");
  }
  std::ifstream in(name_or_path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) throw ModelError(name_or_path + ": cannot read the model spec file");
  return parse_model_spec(text.str(), name_or_path);
}

// Declared in cli/option_parts.h; defined here, beside the registry they read, so that
// option_parts.cpp needs no model (the simulated build, sim/, compiles it alone).
std::string model_names() {
  std::string names;
  for (const auto& n : builtin_model_names()) names += (names.empty() ? "" : ", ") + n;
  return names;
}

void check_model(const std::string& name) {
  std::error_code ec;
  require(is_builtin_model(name) || std::filesystem::is_regular_file(name, ec), "--model", name,
          "a built-in model (" + model_names() + ") or a ModelSpec file");
}

}  // namespace dtrain::cli
