#include "testing/small_problem.h"

#include <cmath>

#include "data/synthetic.h"

namespace dtrain::testing {

const data::DataSplits& small_splits() {
  static const data::DataSplits splits = data::make_synthetic(480, 60, 120, 8);
  return splits;
}

nn::ModelConfig small_cnn() {
  return {"small_cnn",
          28,
          28,
          1,
          {{.type = "conv2d", .filters = 4, .kernel = 3, .stride = 2},
           {.type = "relu"},
           {.type = "maxpool2d", .kernel = 2},
           {.type = "flatten"},
           {.type = "dense", .units = 16},
           {.type = "relu"},
           {.type = "dense", .units = 10}}};
}

nn::ModelConfig small_gan() {
  nn::ModelConfig g{"g",
                    1,
                    1,
                    8,
                    {{.type = "flatten"},
                     {.type = "dense", .units = 24},
                     {.type = "leaky_relu", .alpha = 0.2f},
                     {.type = "dense", .units = 784},
                     {.type = "tanh"},
                     {.type = "reshape", .shape = {28, 28, 1}}}};
  nn::ModelConfig d{"d",
                    28,
                    28,
                    1,
                    {{.type = "flatten"},
                     {.type = "dense", .units = 24},
                     {.type = "leaky_relu", .alpha = 0.2f},
                     {.type = "dense", .units = 1}}};
  nn::ModelConfig c;
  c.name = "small_gan";
  c.task = "gan";
  c.image_range = nn::ImageRange::kMinusOneToOne;  // as the built-in gan
  c.defaults = {.lr = 2e-4f, .adam_beta1 = 0.5f};
  c.noise_dim = 8;
  c.generator = {g};
  c.discriminator = {d};
  return c;
}

nn::ModelConfig small_dcgan() {
  nn::ModelConfig g{
      "g",
      1,
      1,
      8,
      {{.type = "flatten"},
       {.type = "dense", .units = 7 * 7 * 4, .no_bias = true},
       {.type = "reshape", .shape = {7, 7, 4}},
       {.type = "batchnorm", .sync = true},
       {.type = "relu"},
       {.type = "conv2d_transpose",
        .filters = 4,
        .kernel = 4,
        .stride = 2,
        .padding = 1,
        .no_bias = true},
       {.type = "batchnorm", .sync = true},
       {.type = "relu"},
       {.type = "conv2d_transpose", .filters = 1, .kernel = 4, .stride = 2, .padding = 1},
       {.type = "tanh"}}};
  nn::ModelConfig d{
      "d",
      28,
      28,
      1,
      {{.type = "conv2d", .filters = 4, .kernel = 4, .stride = 2, .padding = 1},
       {.type = "leaky_relu", .alpha = 0.2f},
       {.type = "conv2d", .filters = 8, .kernel = 4, .stride = 2, .padding = 1, .no_bias = true},
       {.type = "batchnorm", .sync = true},
       {.type = "leaky_relu", .alpha = 0.2f},
       {.type = "flatten"},
       {.type = "dense", .units = 1}}};
  nn::ModelConfig c = small_gan();
  c.name = "small_dcgan";
  c.generator = {g};
  c.discriminator = {d};
  return c;
}

nn::ModelConfig small_lstm() {
  return {"small_lstm",
          28,
          28,
          1,
          {{.type = "reshape", .shape = {28, 28}},
           {.type = "lstm", .units = 8},
           {.type = "dense", .units = 10}}};
}

nn::ModelConfig small_conv_autoencoder() {
  nn::ModelConfig c{"small_conv_autoencoder",
                    28,
                    28,
                    1,
                    {{.type = "conv2d", .filters = 4, .kernel = 3, .stride = 2, .padding = 1},
                     {.type = "relu"},
                     {.type = "conv2d", .filters = 4, .kernel = 3, .stride = 2, .padding = 1},
                     {.type = "relu"},
                     {.type = "conv2d_transpose",
                      .filters = 4,
                      .kernel = 3,
                      .stride = 2,
                      .padding = 1,
                      .output_padding = 1},
                     {.type = "relu"},
                     {.type = "conv2d_transpose",
                      .filters = 1,
                      .kernel = 3,
                      .stride = 2,
                      .padding = 1,
                      .output_padding = 1},
                     {.type = "sigmoid"}}};
  c.task = "reconstruct";
  return c;
}

double relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0.0, norm = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    norm += double(b[i]) * b[i];
  }
  return std::sqrt(diff / norm);
}

}  // namespace dtrain::testing
