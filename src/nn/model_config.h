#pragma once
// A network described as plain data. The CLI fills it from the protobuf ModelSpec (text
// format), which keeps nn/ free of protobuf while the proto stays the one schema.
#include <memory>
#include <string>
#include <vector>

#include "nn/sequential.h"

namespace dtrain::nn {

struct LayerConfig {
  std::string type;  // conv2d, maxpool2d, flatten, dense, relu, leaky_relu, sigmoid, tanh
  std::string name;  // empty: type + index
  int units = 0;
  int filters = 0;
  int kernel = 0;
  int stride = 0;  // 0: 1 for conv2d, kernel for maxpool2d
  int padding = 0;
  int output_padding = 0;  // conv2d_transpose; < stride
  int scale = 0;           // upsample
  std::string init;
  float alpha = 0.0f;  // leaky_relu slope for negative inputs; 0 means the default 0.01
  float rate = 0.0f;
  std::vector<int> shape;
  // batchnorm: 0 means the default (BatchNorm::kDefaultMomentum, kDefaultEpsilon).
  float momentum = 0.0f;
  float epsilon = 0.0f;
  bool sync = false;                // batchnorm: statistics over the global batch (SyncBatchNorm)
  int vocab = 0;                    // embedding
  bool return_sequences = false;    // rnn, lstm, gru: [T, H] out instead of the last [H]
  bool per_step = false;            // dense over each time step of [T, F]
  bool no_bias = false;             // dense, conv2d, conv2d_transpose: no bias (before a batchnorm)
  int heads = 0;                    // attention: heads (must divide the width)
  std::vector<LayerConfig> layers;  // residual: the layers inside it, in order
};

// What a network is trained for (ModelSpec.task).
inline constexpr const char* kTaskClassify = "classify";
inline constexpr const char* kTaskReconstruct = "reconstruct";
inline constexpr const char* kTaskGan = "gan";
// Next-token prediction over sequences (nn/language_model_spec.h).
inline constexpr const char* kTaskLanguageModel = "language_model";

// A model's own training recipe (ModelSpec.defaults); 0 means not set.
struct TrainingDefaults {
  float lr = 0.0f;          // unless --lr is given
  float adam_beta1 = 0.0f;  // Adam and AdamW only
  int batch_size = 0;       // the global batch, unless --batch-size is given
  // AdamW: layers whose every parameter decays (optim/weight_decay.h).
  std::vector<std::string> weight_decay_layers;
};

// The range of a GAN's images (ModelSpec.image_range); data are read in [0, 1].
enum class ImageRange { kZeroToOne, kMinusOneToOne };

struct ModelConfig {
  std::string name;
  int input_height = 0, input_width = 0, input_channels = 0;
  std::vector<LayerConfig> layers;
  std::string task;   // empty or classify, reconstruct, gan
  int noise_dim = 0;  // gan
  // gan: exactly one element each (a vector because ModelConfig is incomplete here).
  std::vector<ModelConfig> generator, discriminator;
  TrainingDefaults defaults;
  ImageRange image_range = ImageRange::kZeroToOne;  // gan
  std::string vocabulary;  // language_model: the bytes of token ids 0..V-1 (from the data)

  // task with the default filled in.
  std::string task_kind() const { return task.empty() ? kTaskClassify : task; }
};

// One network of a model and its role: "model" for a classifier or autoencoder;
// "generator" then "discriminator" for a GAN (the checkpoint order).
struct Network {
  std::string role;
  std::unique_ptr<Sequential> model;
};

// The name of layer `index` inside the residual block named `block`: "BLOCK.NAME", with
// NAME defaulting to type + index as at the top level (so slot names stay unique).
std::string inner_layer_name(const std::string& block, const LayerConfig& c, std::size_t index);

// Builds and sets up the network (parameters allocated, not initialized). Throws
// ModelError naming the layer for unknown types, bad values or shapes that do not fit.
// reorder_relu_maxpool: see Sequential::set_reorder_relu_maxpool.
std::unique_ptr<Sequential> build_model(const ModelConfig& config,
                                        bool reorder_relu_maxpool = true);

// Builds every network of a spec and checks that they fit the task: an autoencoder's
// output has its input's shape; a GAN's generator takes noise_dim values and makes
// what the discriminator takes, and the discriminator gives one logit. Throws ModelError.
std::vector<Network> build_networks(const ModelConfig& config);

}  // namespace dtrain::nn
