#include "export/onnx_export.h"

#include "core/errors.h"
#include "dtrain_version.h"
#include "export/onnx_graph.h"
#include "export/onnx_transformer.h"
#include "nn/batchnorm.h"
#include "nn/residual.h"

namespace dtrain::exporter {
namespace {

void add_string_attribute(onnx::NodeProto* n, const std::string& name, const std::string& value) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(value);
}

void add_value_info(onnx::ValueInfoProto* v, const std::string& name,
                    const std::vector<std::int64_t>& per_sample) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = t->mutable_shape();
  shape->add_dim()->set_dim_param("batch");
  for (const auto d : per_sample) shape->add_dim()->set_dim_value(d);
}

void add_recurrent(GraphBuilder& b, const std::string& name, const std::string& type,
                   int features) {
  std::size_t rows = 0, cols = 0;
  std::vector<float> w = b.param(name + ".weight", &rows, &cols);
  std::vector<float> r = b.param(name + ".recurrent_weight");
  const std::vector<float> bias = b.param(name + ".bias");
  const bool lstm = type == "lstm";
  const std::size_t gates = lstm ? 4 : 1;
  const std::size_t hidden = rows / gates;
  if (lstm) {
    // dtrain's gate blocks are i, f, g, o; ONNX's are i, o, f, c (c = dtrain's g).
    const std::size_t order[4] = {0, 3, 1, 2};
    auto reorder = [&](const std::vector<float>& m, std::size_t width) {
      std::vector<float> out(m.size());
      for (std::size_t k = 0; k < 4; ++k) {
        std::copy_n(m.begin() + static_cast<std::ptrdiff_t>(order[k] * hidden * width),
                    hidden * width, out.begin() + static_cast<std::ptrdiff_t>(k * hidden * width));
      }
      return out;
    };
    w = reorder(w, cols);
    r = reorder(r, hidden);
    std::vector<float> bb = reorder(bias, 1);
    bb.resize(2 * rows, 0.0f);  // Wb then Rb; dtrain has one bias
    b.tensor(name + ".bias", {1, std::int64_t(2 * rows)}, bb);
  } else {
    std::vector<float> bb = bias;
    bb.resize(2 * rows, 0.0f);
    b.tensor(name + ".bias", {1, std::int64_t(2 * rows)}, bb);
  }
  b.tensor(name + ".weight", {1, std::int64_t(rows), std::int64_t(cols)}, w);
  b.tensor(name + ".recurrent_weight", {1, std::int64_t(rows), std::int64_t(hidden)}, r);
  if (features != static_cast<int>(cols)) {
    throw ModelError("export: layer '" + name + "' expects " + std::to_string(cols) +
                     " features per step, the graph has " + std::to_string(features));
  }
  // [N, T, F] -> [T, N, F]: ONNX's recurrent ops are time-major by default.
  b.node("Transpose", {b.current()}, name, {}, {{"perm", {1, 0, 2}}});
  // Outputs are positional: Y (all hidden states, unused) then Y_h, which the caller adds.
  b.node(lstm ? "LSTM" : "RNN",
         {b.current(), name + ".weight", name + ".recurrent_weight", name + ".bias"}, name,
         {{"hidden_size", std::int64_t(hidden)}});
}

// Appends one layer's nodes; `shape` is its input per sample, in dtrain's layout.
void add_layer(GraphBuilder& b, onnx::GraphProto& g, const nn::LayerConfig& c,
               const nn::Layer& layer, const tensor::Shape& shape) {
  const std::string name = layer.name();
  const std::string type = layer.type();
  if ((type == "rnn" || type == "lstm") && c.return_sequences) {
    throw ModelError("export: layer '" + name + "' (" + type +
                     ") uses return_sequences, which dtrain's ONNX exporter does not support "
                     "yet");
  }
  if (type == "dense" && c.per_step) {
    add_per_step_dense(b, name);
  } else if (type == "embedding") {
    add_embedding(b, name, shape);
  } else if (type == "position_embedding") {
    add_position_embedding(b, name);
  } else if (type == "layernorm") {
    add_layernorm(b, name, c.epsilon);
  } else if (type == "gelu") {
    add_gelu(b, name);
  } else if (type == "attention") {
    add_attention(b, name, c, shape);
  } else if (type == "residual") {
    // y = x + f(x): the inner layers from x, then Add in x's layout.
    const auto& block = static_cast<const nn::Residual&>(layer);
    const std::string x = b.current();
    const bool x_channels_first = b.channels_first();
    tensor::Shape inner_shape = shape;
    for (std::size_t j = 0; j < block.num_layers(); ++j) {
      add_layer(b, g, c.layers[j], block.layer(j), inner_shape);
      inner_shape = block.layer_output_shape(j);
    }
    b.to_layout(x_channels_first);
    b.node("Add", {x, b.current()}, name);
  } else if (type == "dense") {
    b.to_channels_last();
    if (shape.rank() != 1) {
      b.node("Flatten", {b.current()}, name, {{"axis", 1}});
    }
    std::size_t rows = 0, cols = 0;
    const auto w = b.param(name + ".weight", &rows, &cols);
    b.tensor(name + ".weight", {std::int64_t(rows), std::int64_t(cols)}, w);
    b.tensor(name + ".bias", {std::int64_t(rows)}, b.bias(name, rows));
    b.node("Gemm", {b.current(), name + ".weight", name + ".bias"}, name, {{"transB", 1}});
  } else if (type == "conv2d") {
    std::size_t filters = 0, patch = 0;
    const auto w = b.param(name + ".weight", &filters, &patch);
    const int k = c.kernel;
    const std::size_t channels = patch / std::size_t(k * k);
    // dtrain: [M, (kh, kw, c)]; ONNX: [M, c, kh, kw].
    std::vector<float> wt(w.size());
    for (std::size_t f = 0; f < filters; ++f)
      for (int kh = 0; kh < k; ++kh)
        for (int kw = 0; kw < k; ++kw)
          for (std::size_t ch = 0; ch < channels; ++ch)
            wt[((f * channels + ch) * k + kh) * k + kw] =
                w[f * patch + (std::size_t(kh * k + kw)) * channels + ch];
    b.tensor(name + ".weight", {std::int64_t(filters), std::int64_t(channels), k, k}, wt);
    b.tensor(name + ".bias", {std::int64_t(filters)}, b.bias(name, filters));
    b.to_channels_first();
    const std::int64_t s = c.stride > 0 ? c.stride : 1, p = c.padding;
    b.node("Conv", {b.current(), name + ".weight", name + ".bias"}, name, {},
           {{"kernel_shape", {k, k}}, {"strides", {s, s}}, {"pads", {p, p, p, p}}});
  } else if (type == "conv2d_transpose") {
    std::size_t in_channels = 0, patch = 0;
    const auto w = b.param(name + ".weight", &in_channels, &patch);
    const int k = c.kernel;
    const std::size_t filters = patch / std::size_t(k * k);
    // dtrain: [C_in, (kh, kw, f)]; ONNX: [C_in, F, kh, kw].
    std::vector<float> wt(w.size());
    for (std::size_t ch = 0; ch < in_channels; ++ch)
      for (int kh = 0; kh < k; ++kh)
        for (int kw = 0; kw < k; ++kw)
          for (std::size_t f = 0; f < filters; ++f)
            wt[((ch * filters + f) * k + kh) * k + kw] =
                w[ch * patch + (std::size_t(kh * k + kw)) * filters + f];
    b.tensor(name + ".weight", {std::int64_t(in_channels), std::int64_t(filters), k, k}, wt);
    b.tensor(name + ".bias", {std::int64_t(filters)}, b.bias(name, filters));
    b.to_channels_first();
    const std::int64_t s = c.stride > 0 ? c.stride : 1, p = c.padding, op = c.output_padding;
    b.node("ConvTranspose", {b.current(), name + ".weight", name + ".bias"}, name, {},
           {{"kernel_shape", {k, k}},
            {"strides", {s, s}},
            {"pads", {p, p, p, p}},
            {"output_padding", {op, op}}});
  } else if (type == "upsample") {
    // Nearest with asymmetric coordinates and floor: output pixel i reads input i / scale.
    b.to_channels_first();
    const float s = static_cast<float>(c.scale);
    b.tensor(name + ".scales", {4}, {1.0f, 1.0f, s, s});
    b.node("Resize", {b.current(), "", name + ".scales"}, name);
    onnx::NodeProto* n = g.mutable_node(g.node_size() - 1);
    add_string_attribute(n, "mode", "nearest");
    add_string_attribute(n, "coordinate_transformation_mode", "asymmetric");
    add_string_attribute(n, "nearest_mode", "floor");
  } else if (type == "avgpool2d") {
    b.to_channels_first();
    const std::int64_t k = c.kernel, s = c.stride > 0 ? c.stride : c.kernel;
    b.node("AveragePool", {b.current()}, name, {}, {{"kernel_shape", {k, k}}, {"strides", {s, s}}});
  } else if (type == "global_avgpool") {
    b.to_channels_first();
    b.node("GlobalAveragePool", {b.current()}, name);
    b.node("Flatten", {b.current()}, name, {{"axis", 1}});
    b.set_per_sample_vector();
  } else if (type == "maxpool2d") {
    b.to_channels_first();
    const std::int64_t k = c.kernel, s = c.stride > 0 ? c.stride : c.kernel;
    b.node("MaxPool", {b.current()}, name, {}, {{"kernel_shape", {k, k}}, {"strides", {s, s}}});
  } else if (type == "relu") {
    b.node("Relu", {b.current()}, name);
  } else if (type == "leaky_relu") {
    b.node("LeakyRelu", {b.current()}, name, {}, {},
           {{"alpha", c.alpha != 0.0f ? c.alpha : 0.01f}});
  } else if (type == "sigmoid") {
    b.node("Sigmoid", {b.current()}, name);
  } else if (type == "tanh") {
    b.node("Tanh", {b.current()}, name);
  } else if (type == "flatten") {
    b.to_channels_last();
    b.node("Flatten", {b.current()}, name, {{"axis", 1}});
  } else if (type == "reshape") {
    b.to_channels_last();
    std::vector<std::int64_t> dims = {-1};
    for (const int d : c.shape) dims.push_back(d);
    b.int64_tensor(name + ".shape", dims);
    b.node("Reshape", {b.current(), name + ".shape"}, name);
  } else if (type == "batchnorm") {
    // ONNX's BatchNormalization normalizes dimension 1: the channels of NCHW, the
    // features of [N, F]. dtrain normalizes the last dimension, so only those two agree.
    if (shape.rank() == 3) {
      b.to_channels_first();
    } else if (shape.rank() == 1) {
      b.to_channels_last();
    } else {
      throw ModelError("export: layer '" + name + "' normalizes the last dimension of " +
                       shape.to_string() +
                       "; ONNX's BatchNormalization only matches it for images and flat inputs");
    }
    std::vector<std::string> inputs = {b.current()};
    for (const char* part : {".weight", ".bias", ".running_mean", ".running_var"}) {
      const auto values = b.param(name + part);
      b.tensor(name + part, {std::int64_t(values.size())}, values);
      inputs.push_back(name + part);
    }
    b.node("BatchNormalization", inputs, name, {}, {},
           {{"epsilon", c.epsilon != 0.0f ? c.epsilon : nn::BatchNorm::kDefaultEpsilon}});
  } else if (type == "dropout") {
    // The identity at inference.
  } else if (type == "rnn" || type == "lstm") {
    b.to_channels_last();
    if (shape.rank() != 2) {
      throw ModelError("export: layer '" + name + "' needs [T, F] inputs, got " +
                       shape.to_string());
    }
    add_recurrent(b, name, type, int(shape[1]));
    // Y_h is the node's second output; make it the current tensor, then [1, N, H] -> [N, H].
    onnx::NodeProto* n = g.mutable_node(g.node_size() - 1);
    const std::string y_h = name + "/Y_h";
    n->add_output(y_h);
    std::size_t rows = 0;
    b.param(name + ".recurrent_weight", &rows);
    const std::int64_t hidden = std::int64_t(rows) / (type == "lstm" ? 4 : 1);
    b.int64_tensor(name + ".out_shape", {-1, hidden});
    b.set_current(y_h);
    b.node("Reshape", {y_h, name + ".out_shape"}, name + "/last");
  } else {
    throw ModelError("export: layer '" + name + "' of type " + type +
                     " has no ONNX equivalent in dtrain's exporter");
  }
}

}  // namespace

onnx::ModelProto to_onnx(const nn::ModelConfig& config, const nn::Sequential& trained,
                         const std::string& doc) {
  // The trained network may run relu and maxpool2d swapped (Sequential's reordering), so
  // its layers need not line up with the spec's. Build the spec's order exactly and give it
  // the trained parameters: the swapped layers have none, so the arena layouts agree.
  const std::unique_ptr<nn::Sequential> ordered = nn::build_model(config, false);
  if (ordered->arena().layout_fingerprint() != trained.arena().layout_fingerprint()) {
    throw ModelError("export: the parameters of '" + config.name + "' do not fit its spec");
  }
  std::copy(trained.arena().params().begin(), trained.arena().params().end(),
            ordered->arena().params().begin());
  const nn::Sequential& model = *ordered;

  if (config.layers.size() != model.num_layers()) {
    throw ModelError("export: the spec of '" + config.name + "' has " +
                     std::to_string(config.layers.size()) + " layers, the model " +
                     std::to_string(model.num_layers()));
  }
  onnx::ModelProto m;
  m.set_ir_version(kOnnxIrVersion);
  m.set_producer_name("dtrain");
  m.set_producer_version(DTRAIN_VERSION);
  m.set_doc_string(doc);
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  onnx::GraphProto& g = *m.mutable_graph();
  g.set_name(config.name);

  const auto& in = model.input_shape();
  std::vector<std::int64_t> in_dims;
  for (std::size_t i = 0; i < in.rank(); ++i) in_dims.push_back(std::int64_t(in[i]));
  add_value_info(g.add_input(), "input", in_dims);

  GraphBuilder b(g, model);
  tensor::Shape shape = in;  // per sample, dtrain's layout
  for (std::size_t i = 0; i < model.num_layers(); ++i) {
    add_layer(b, g, config.layers[i], model.layer(i), shape);
    shape = model.layer_output_shape(i);
  }
  b.to_channels_last();
  b.node("Identity", {b.current()}, "output");
  g.mutable_node(g.node_size() - 1)->set_output(0, "output");
  std::vector<std::int64_t> out_dims;
  for (std::size_t i = 0; i < shape.rank(); ++i) out_dims.push_back(std::int64_t(shape[i]));
  add_value_info(g.add_output(), "output", out_dims);
  return m;
}

}  // namespace dtrain::exporter
