#include "nn/model_config.h"

#include "nn/activation.h"
#include "nn/attention.h"
#include "nn/avgpool2d.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/conv2d_transpose.h"
#include "nn/dense.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/global_avgpool.h"
#include "nn/gru.h"
#include "nn/language_model_spec.h"
#include "nn/layernorm.h"
#include "nn/lstm.h"
#include "nn/maxpool2d.h"
#include "nn/position_embedding.h"
#include "nn/reshape.h"
#include "nn/residual.h"
#include "nn/simple_rnn.h"
#include "nn/upsample.h"

namespace dtrain::nn {

namespace {

std::unique_ptr<Layer> make_layer(const LayerConfig& c, const std::string& name) {
  auto init = [&] { return parse_init_scheme(c.init, name); };
  if (c.type == "residual") {
    std::vector<std::unique_ptr<Layer>> inner;
    for (std::size_t i = 0; i < c.layers.size(); ++i) {
      inner.push_back(make_layer(c.layers[i], inner_layer_name(name, c.layers[i], i)));
    }
    return std::make_unique<Residual>(name, std::move(inner));
  }
  if (!c.layers.empty()) {
    throw ModelError("layer '" + name + "' (" + c.type +
                     "): only a residual has layers { ... } inside it");
  }
  if (c.type == "layernorm") {
    return std::make_unique<LayerNorm>(name,
                                       c.epsilon != 0.0f ? c.epsilon : LayerNorm::kDefaultEpsilon);
  }
  if (c.type == "gelu") return std::make_unique<Activation>(name, ActivationKind::kGelu);
  if (c.type == "attention") return std::make_unique<Attention>(name, c.heads, init());
  if (c.type == "position_embedding") return std::make_unique<PositionEmbedding>(name);
  if (c.type == "dense")
    return std::make_unique<Dense>(name, c.units, init(), c.per_step, !c.no_bias);
  if (c.type == "conv2d") {
    return std::make_unique<Conv2D>(name, c.filters, c.kernel, c.stride > 0 ? c.stride : 1,
                                    c.padding, init(), !c.no_bias);
  }
  if (c.type == "conv2d_transpose") {
    return std::make_unique<Conv2DTranspose>(name, c.filters, c.kernel, c.stride > 0 ? c.stride : 1,
                                             c.padding, c.output_padding, init(), !c.no_bias);
  }
  if (c.type == "maxpool2d") return std::make_unique<MaxPool2D>(name, c.kernel, c.stride);
  if (c.type == "avgpool2d") return std::make_unique<AvgPool2D>(name, c.kernel, c.stride);
  if (c.type == "global_avgpool") return std::make_unique<GlobalAvgPool>(name);
  if (c.type == "upsample") return std::make_unique<Upsample>(name, c.scale);
  if (c.type == "flatten") return std::make_unique<Flatten>(name);
  if (c.type == "relu") return std::make_unique<Activation>(name, ActivationKind::kRelu);
  if (c.type == "leaky_relu") {
    return std::make_unique<Activation>(name, ActivationKind::kLeakyRelu,
                                        c.alpha != 0.0f ? c.alpha : 0.01f);
  }
  if (c.type == "sigmoid") return std::make_unique<Activation>(name, ActivationKind::kSigmoid);
  if (c.type == "tanh") return std::make_unique<Activation>(name, ActivationKind::kTanh);
  if (c.type == "rnn") {
    return std::make_unique<SimpleRNN>(name, c.units, init(), c.return_sequences);
  }
  if (c.type == "lstm") return std::make_unique<LSTM>(name, c.units, init(), c.return_sequences);
  if (c.type == "gru") return std::make_unique<GRU>(name, c.units, init(), c.return_sequences);
  if (c.type == "embedding") return std::make_unique<Embedding>(name, c.vocab, c.units);
  if (c.type == "dropout") return std::make_unique<Dropout>(name, c.rate);
  if (c.type == "reshape") return std::make_unique<Reshape>(name, c.shape);
  if (c.type == "batchnorm") {
    return std::make_unique<BatchNorm>(
        name, c.momentum != 0.0f ? c.momentum : BatchNorm::kDefaultMomentum,
        c.epsilon != 0.0f ? c.epsilon : BatchNorm::kDefaultEpsilon, c.sync);
  }
  throw ModelError("layer '" + name + "': unknown type '" + c.type +
                   "' (expected conv2d, conv2d_transpose, maxpool2d, avgpool2d, global_avgpool, "
                   "upsample, flatten, reshape, dense, rnn, lstm, gru, embedding, "
                   "position_embedding, attention, relu, leaky_relu, sigmoid, tanh, gelu, "
                   "dropout, batchnorm, layernorm or residual)");
}

}  // namespace

std::string inner_layer_name(const std::string& block, const LayerConfig& c, std::size_t index) {
  return block + "." + (c.name.empty() ? c.type + std::to_string(index) : c.name);
}

std::unique_ptr<Sequential> build_model(const ModelConfig& config, bool reorder_relu_maxpool) {
  if (config.input_height <= 0 || config.input_width <= 0 || config.input_channels <= 0) {
    throw ModelError("model '" + config.name + "': input shape must be positive, got " +
                     std::to_string(config.input_height) + "x" +
                     std::to_string(config.input_width) + "x" +
                     std::to_string(config.input_channels));
  }
  auto model = std::make_unique<Sequential>(
      config.name, Shape{std::size_t(config.input_height), std::size_t(config.input_width),
                         std::size_t(config.input_channels)});
  model->set_reorder_relu_maxpool(reorder_relu_maxpool);
  for (std::size_t i = 0; i < config.layers.size(); ++i) {
    const auto& c = config.layers[i];
    std::string name = c.name.empty() ? c.type + std::to_string(i) : c.name;
    model->add(make_layer(c, name));
  }
  model->build();
  return model;
}

std::vector<Network> build_networks(const ModelConfig& config) {
  const std::string task = config.task_kind();
  auto fail = [&](const std::string& what) {
    throw ModelError("model '" + config.name + "' (task " + task + "): " + what);
  };
  // NaN fails both comparisons, so these reject it too.
  if (!(config.defaults.lr >= 0.0f && config.defaults.lr < 1e3f)) {
    fail("defaults.lr " + std::to_string(config.defaults.lr) + " must be > 0 (or unset)");
  }
  if (!(config.defaults.adam_beta1 >= 0.0f && config.defaults.adam_beta1 < 1.0f)) {
    fail("defaults.adam_beta1 " + std::to_string(config.defaults.adam_beta1) +
         " must be in [0, 1) (or unset)");
  }
  if (config.defaults.batch_size < 0) {
    fail("defaults.batch_size " + std::to_string(config.defaults.batch_size) +
         " must be >= 1 (or unset)");
  }
  std::vector<Network> networks;
  if (task == kTaskClassify || task == kTaskReconstruct || task == kTaskLanguageModel) {
    if (!config.generator.empty() || !config.discriminator.empty()) {
      fail("generator and discriminator belong to task \"gan\"");
    }
    if (config.image_range != ImageRange::kZeroToOne) fail("image_range belongs to task \"gan\"");
    if (task == kTaskLanguageModel) check_vocabulary_resolved(config);
    networks.push_back({"model", build_model(config)});
    const auto& m = *networks.back().model;
    if (task == kTaskReconstruct && m.output_shape().numel() != m.input_shape().numel()) {
      fail("an autoencoder's output " + m.output_shape().to_string() +
           " must hold as many values as its input " + m.input_shape().to_string());
    }
    if (task == kTaskLanguageModel) check_language_model(config, m);
    return networks;
  }
  if (task != kTaskGan)
    fail("unknown task (expected classify, reconstruct, gan or language_model)");
  if (config.generator.size() != 1 || config.discriminator.size() != 1) {
    fail("a gan spec needs one generator { ... } and one discriminator { ... }");
  }
  if (!config.layers.empty()) fail("layers go inside generator { } and discriminator { }");
  auto generator = build_model(config.generator[0]);
  auto discriminator = build_model(config.discriminator[0]);
  if (config.noise_dim <= 0 || generator->input_shape().numel() != std::size_t(config.noise_dim)) {
    fail("noise_dim " + std::to_string(config.noise_dim) + " must be positive and equal the " +
         "generator's input size " + generator->input_shape().to_string());
  }
  if (generator->output_shape() != discriminator->input_shape()) {
    fail("the generator makes " + generator->output_shape().to_string() +
         " but the discriminator takes " + discriminator->input_shape().to_string() +
         " (end the generator with a reshape layer)");
  }
  if (discriminator->output_shape().numel() != 1) {
    fail("the discriminator must give one logit per example, not " +
         discriminator->output_shape().to_string());
  }
  networks.push_back({"generator", std::move(generator)});
  networks.push_back({"discriminator", std::move(discriminator)});
  return networks;
}

}  // namespace dtrain::nn
