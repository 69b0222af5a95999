#pragma once
// A small network and a comparison shared by the MPI tests of data-parallel training, exact
// resume and the model families: big enough to exercise every layer kind of the reference
// cnn, small enough for np = 4 oversubscribed on 2 cores.
#include <vector>

#include "data/dataset.h"
#include "nn/model_config.h"

namespace dtrain::testing {

// conv2d 4 3x3 stride 2, relu, maxpool 2, flatten, dense 16, relu, dense 10 on 28x28x1.
nn::ModelConfig small_cnn();

// A small GAN (dense generator from 8 noise values, dense discriminator; tanh images) and a
// small LSTM classifier (28 steps of 28 pixels, 8 units), like the built-in gan and lstm.
nn::ModelConfig small_gan();
nn::ModelConfig small_lstm();
// The built-in DCGAN's shape with 4 and 8 channels: conv2d_transpose, conv2d with stride and
// padding, and synchronized batchnorm in both networks.
nn::ModelConfig small_dcgan();

// A small convolutional autoencoder like the built-in conv-autoencoder: conv2d 4 3x3 stride 2
// padding 1 twice (28 -> 14 -> 7), conv2d_transpose 4 and 1 3x3 stride 2 padding 1
// output_padding 1 back (7 -> 14 -> 28), relu between, sigmoid output; task reconstruct.
nn::ModelConfig small_conv_autoencoder();

// Synthetic 28x28 splits: 480 train, 60 val, 120 test (built once).
const data::DataSplits& small_splits();

// ||a - b|| / ||b||, in double.
double relative_difference(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace dtrain::testing
