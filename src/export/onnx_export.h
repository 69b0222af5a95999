#pragma once
// A trained network as an ONNX model (opset 13, IR version 7; protobuf classes from
// Debian's libonnx-dev). The graph's input is dtrain's example layout with a dynamic batch
// dimension, [N, H, W, C] (channels last); parameters are initializers named like the
// arena's slots; the output is the network's last activation: logits of a classifier, the
// reconstruction of an autoencoder, the samples of a GAN's generator (in its image range).
//
// Layer mapping: dense -> Gemm(transB=1); conv2d -> Conv and maxpool2d -> MaxPool, both on
// NCHW, with Transpose nodes inserted where the layout changes (dtrain flattens in HWC
// order, so the data go back to NHWC before Flatten/Reshape/Gemm); rnn / lstm -> RNN /
// LSTM over [T, N, F] (time-major, gates reordered from dtrain's i,f,g,o to ONNX's
// i,o,f,c; the recurrence bias is zero) with the last hidden state as output; relu,
// leaky_relu, sigmoid, tanh, flatten, reshape map one to one; dropout is the identity at
// inference and emits nothing.
// conv2d_transpose -> ConvTranspose (weight [C_in, F, kH, kW]); upsample -> Resize
// (nearest, asymmetric, floor); avgpool2d -> AveragePool; global_avgpool ->
// GlobalAveragePool then Flatten; all on NCHW.
// embedding, position_embedding, per_step dense, layernorm, gelu and attention: see
// export/onnx_transformer.h; residual -> its inner layers, then Add of its input (in the
// input's layout).
#include <onnx/onnx_pb.h>

#include <string>

#include "nn/model_config.h"
#include "nn/sequential.h"

namespace dtrain::exporter {

inline constexpr int kOnnxOpset = 13;
inline constexpr int kOnnxIrVersion = 7;

// `config` is the network's spec (the layers of `model`, in order), `model` holds the
// trained parameters. Throws ModelError naming a layer ONNX cannot express.
onnx::ModelProto to_onnx(const nn::ModelConfig& config, const nn::Sequential& model,
                         const std::string& doc);

}  // namespace dtrain::exporter
