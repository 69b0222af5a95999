#include "cli/model_registry.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "core/errors.h"
#include "dtrain.pb.h"

namespace dtrain::cli {

namespace {

const std::pair<const char*, const char*> kBuiltinModels[] = {
#include "builtin_models.inc"
};

// Collects the first parse error with its position (protobuf reports 0-based lines/columns).
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (message_.empty()) {
      message_ = "line " + std::to_string(line + 1) + ", column " + std::to_string(column + 1) +
                 ": " + message;
    }
  }
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

nn::ModelConfig from_proto(const proto::ModelSpec& spec) {
  nn::ModelConfig config;
  config.name = spec.name();
  config.input_height = spec.input_height();
  config.input_width = spec.input_width();
  config.input_channels = spec.input_channels();
  for (const auto& l : spec.layers()) {
    nn::LayerConfig c;
    c.type = l.type();
    c.name = l.name();
    c.units = l.units();
    c.filters = l.filters();
    c.kernel = l.kernel();
    c.stride = l.stride();
    c.padding = l.padding();
    c.init = l.init();
    c.alpha = l.alpha();
    c.rate = l.rate();
    c.shape.assign(l.shape().begin(), l.shape().end());
    config.layers.push_back(std::move(c));
  }
  return config;
}

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
  proto::ModelSpec spec;
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &spec)) {
    throw ModelError(source + ": not a valid ModelSpec: " + errors.message());
  }
  if (spec.name().empty()) spec.set_name(std::filesystem::path(source).stem().string());
  return from_proto(spec);
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

}  // namespace dtrain::cli
