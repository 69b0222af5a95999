#include "ckpt/model_spec.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <filesystem>

#include "core/errors.h"

namespace dtrain::ckpt {

namespace {

// Keeps the first parse error with its position (protobuf reports 0-based positions).
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

nn::LayerConfig layer_from_proto(const proto::LayerSpec& l) {
  nn::LayerConfig c;
  c.type = l.type();
  c.name = l.name();
  c.units = l.units();
  c.filters = l.filters();
  c.kernel = l.kernel();
  c.stride = l.stride();
  c.padding = l.padding();
  c.output_padding = l.output_padding();
  c.scale = l.scale();
  c.init = l.init();
  c.alpha = l.alpha();
  c.rate = l.rate();
  c.shape.assign(l.shape().begin(), l.shape().end());
  c.momentum = l.momentum();
  c.epsilon = l.epsilon();
  c.sync = l.sync();
  c.vocab = l.vocab();
  c.return_sequences = l.return_sequences();
  c.per_step = l.per_step();
  c.no_bias = l.no_bias();
  c.heads = l.heads();
  for (const auto& inner : l.layers()) c.layers.push_back(layer_from_proto(inner));
  return c;
}

void layer_to_proto(const nn::LayerConfig& c, proto::LayerSpec& l) {
  l.set_type(c.type);
  l.set_name(c.name);
  l.set_units(c.units);
  l.set_filters(c.filters);
  l.set_kernel(c.kernel);
  l.set_stride(c.stride);
  l.set_padding(c.padding);
  l.set_output_padding(c.output_padding);
  l.set_scale(c.scale);
  l.set_init(c.init);
  l.set_alpha(c.alpha);
  l.set_rate(c.rate);
  for (int d : c.shape) l.add_shape(d);
  l.set_momentum(c.momentum);
  l.set_epsilon(c.epsilon);
  l.set_sync(c.sync);
  l.set_vocab(c.vocab);
  l.set_return_sequences(c.return_sequences);
  l.set_per_step(c.per_step);
  l.set_no_bias(c.no_bias);
  l.set_heads(c.heads);
  for (const auto& inner : c.layers) layer_to_proto(inner, *l.add_layers());
}

}  // namespace

nn::ModelConfig from_proto(const proto::ModelSpec& spec) {
  nn::ModelConfig config;
  config.name = spec.name();
  config.input_height = spec.input_height();
  config.input_width = spec.input_width();
  config.input_channels = spec.input_channels();
  for (const auto& l : spec.layers()) config.layers.push_back(layer_from_proto(l));
  config.task = spec.task();
  config.noise_dim = spec.noise_dim();
  if (spec.has_generator()) config.generator.push_back(from_proto(spec.generator()));
  if (spec.has_discriminator()) config.discriminator.push_back(from_proto(spec.discriminator()));
  config.defaults.lr = spec.defaults().lr();
  config.defaults.adam_beta1 = spec.defaults().adam_beta1();
  config.defaults.batch_size = spec.defaults().batch_size();
  config.defaults.weight_decay_layers.assign(spec.defaults().weight_decay_layers().begin(),
                                             spec.defaults().weight_decay_layers().end());
  config.image_range = spec.image_range() == proto::ModelSpec::MINUS_ONE_TO_ONE
                           ? nn::ImageRange::kMinusOneToOne
                           : nn::ImageRange::kZeroToOne;
  config.vocabulary = spec.vocabulary();
  return config;
}

proto::ModelSpec to_proto(const nn::ModelConfig& config) {
  proto::ModelSpec spec;
  spec.set_name(config.name);
  spec.set_input_height(config.input_height);
  spec.set_input_width(config.input_width);
  spec.set_input_channels(config.input_channels);
  for (const auto& c : config.layers) layer_to_proto(c, *spec.add_layers());
  spec.set_task(config.task);
  spec.set_noise_dim(config.noise_dim);
  if (!config.generator.empty()) *spec.mutable_generator() = to_proto(config.generator[0]);
  if (!config.discriminator.empty()) {
    *spec.mutable_discriminator() = to_proto(config.discriminator[0]);
  }
  if (config.defaults.lr != 0.0f || config.defaults.adam_beta1 != 0.0f ||
      config.defaults.batch_size != 0 || !config.defaults.weight_decay_layers.empty()) {
    spec.mutable_defaults()->set_lr(config.defaults.lr);
    spec.mutable_defaults()->set_adam_beta1(config.defaults.adam_beta1);
    spec.mutable_defaults()->set_batch_size(config.defaults.batch_size);
    for (const auto& name : config.defaults.weight_decay_layers) {
      spec.mutable_defaults()->add_weight_decay_layers(name);
    }
  }
  if (config.image_range == nn::ImageRange::kMinusOneToOne) {
    spec.set_image_range(proto::ModelSpec::MINUS_ONE_TO_ONE);
  }
  if (!config.vocabulary.empty()) spec.set_vocabulary(config.vocabulary);
  return spec;
}

nn::ModelConfig parse_model_spec_text(const std::string& text, const std::string& source) {
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

}  // namespace dtrain::ckpt
