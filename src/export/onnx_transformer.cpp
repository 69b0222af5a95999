#include "export/onnx_transformer.h"

#include <cmath>

#include "nn/layernorm.h"

namespace dtrain::exporter {

namespace {

// [rows, cols] row-major -> [cols, rows]: dtrain's [out, in] weights for MatMul(x, W^T).
std::vector<float> transposed(const std::vector<float>& w, std::size_t rows, std::size_t cols) {
  std::vector<float> t(w.size());
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) t[c * rows + r] = w[r * cols + c];
  return t;
}

// MatMul(current, W^T) + bias, with W = slot `weight` [out, in] and bias `bias` [out].
void matmul_bias(GraphBuilder& b, const std::string& name, const std::string& weight,
                 const std::string& bias) {
  std::size_t rows = 0, cols = 0;
  const auto w = b.param(weight, &rows, &cols);
  b.tensor(weight, {std::int64_t(cols), std::int64_t(rows)}, transposed(w, rows, cols));
  b.node("MatMul", {b.current(), weight}, name);
  b.tensor(bias, {std::int64_t(rows)}, b.bias(bias.substr(0, bias.size() - 5), rows));
  b.node("Add", {b.current(), bias}, name);
}

}  // namespace

void add_embedding(GraphBuilder& b, const std::string& name, const tensor::Shape& input) {
  b.to_channels_last();
  b.int64_tensor(name + ".ids_shape", {-1, std::int64_t(input[0])});
  b.node("Reshape", {b.current(), name + ".ids_shape"}, name);
  b.node("Cast", {b.current()}, name, {{"to", onnx::TensorProto::INT64}});
  std::size_t rows = 0, cols = 0;
  const auto w = b.param(name + ".weight", &rows, &cols);
  b.tensor(name + ".weight", {std::int64_t(rows), std::int64_t(cols)}, w);
  b.node("Gather", {name + ".weight", b.current()}, name, {{"axis", 0}});
}

void add_position_embedding(GraphBuilder& b, const std::string& name) {
  std::size_t rows = 0, cols = 0;
  const auto p = b.param(name + ".weight", &rows, &cols);
  b.tensor(name + ".weight", {std::int64_t(rows), std::int64_t(cols)}, p);
  b.node("Add", {b.current(), name + ".weight"}, name);
}

void add_per_step_dense(GraphBuilder& b, const std::string& name) {
  b.to_channels_last();
  matmul_bias(b, name, name + ".weight", name + ".bias");
}

void add_layernorm(GraphBuilder& b, const std::string& name, float epsilon) {
  b.to_channels_last();
  const std::string x = b.current();
  const std::map<std::string, std::vector<std::int64_t>> last_axis = {{"axes", {-1}}};
  const std::string mean = b.node("ReduceMean", {x}, name, {{"keepdims", 1}}, last_axis);
  const std::string centred = b.node("Sub", {x, mean}, name);
  const std::string squares = b.node("Mul", {centred, centred}, name);
  const std::string var = b.node("ReduceMean", {squares}, name, {{"keepdims", 1}}, last_axis);
  b.scalar(name + ".epsilon", epsilon != 0.0f ? epsilon : nn::LayerNorm::kDefaultEpsilon);
  b.node("Add", {var, name + ".epsilon"}, name);
  const std::string sigma = b.node("Sqrt", {b.current()}, name);
  b.node("Div", {centred, sigma}, name);
  for (const char* part : {".weight", ".bias"}) {
    const auto values = b.param(name + part);
    b.tensor(name + part, {std::int64_t(values.size())}, values);
    b.node(part[1] == 'w' ? "Mul" : "Add", {b.current(), name + part}, name);
  }
}

void add_gelu(GraphBuilder& b, const std::string& name) {
  const std::string x = b.current();
  b.scalar(name + ".cubic", 0.044715f);
  b.scalar(name + ".scale", std::sqrt(2.0f / 3.14159265358979f));
  b.scalar(name + ".one", 1.0f);
  b.scalar(name + ".half", 0.5f);
  const std::string x2 = b.node("Mul", {x, x}, name);
  const std::string x3 = b.node("Mul", {x2, x}, name);
  b.node("Mul", {x3, name + ".cubic"}, name);
  b.node("Add", {x, b.current()}, name);
  b.node("Mul", {b.current(), name + ".scale"}, name);
  b.node("Tanh", {b.current()}, name);
  b.node("Add", {b.current(), name + ".one"}, name);
  b.node("Mul", {x, b.current()}, name);
  b.node("Mul", {b.current(), name + ".half"}, name);
}

void add_attention(GraphBuilder& b, const std::string& name, const nn::LayerConfig& c,
                   const tensor::Shape& input) {
  b.to_channels_last();
  const std::int64_t t = std::int64_t(input[0]), width = std::int64_t(input[1]);
  const std::int64_t heads = c.heads, d = width / heads;
  matmul_bias(b, name, name + ".qkv.weight", name + ".qkv.bias");
  b.int64_tensor(name + ".qkv_shape", {-1, t, 3, heads, d});
  b.node("Reshape", {b.current(), name + ".qkv_shape"}, name);
  const std::string qkv = b.node("Transpose", {b.current()}, name, {}, {{"perm", {2, 0, 3, 1, 4}}});
  std::string part[3];
  for (int i = 0; i < 3; ++i) {
    b.int64_scalar(name + ".part" + std::to_string(i), i);
    part[i] = b.node("Gather", {qkv, name + ".part" + std::to_string(i)}, name, {{"axis", 0}});
  }
  const std::string kt = b.node("Transpose", {part[1]}, name, {}, {{"perm", {0, 1, 3, 2}}});
  b.node("MatMul", {part[0], kt}, name);
  b.scalar(name + ".scale", 1.0f / std::sqrt(static_cast<float>(d)));
  b.node("Mul", {b.current(), name + ".scale"}, name);
  std::vector<float> mask(std::size_t(t * t), 0.0f);
  for (std::int64_t i = 0; i < t; ++i)
    for (std::int64_t j = i + 1; j < t; ++j) mask[std::size_t(i * t + j)] = -1e9f;
  b.tensor(name + ".causal_mask", {t, t}, mask);
  b.node("Add", {b.current(), name + ".causal_mask"}, name);
  b.node("Softmax", {b.current()}, name, {{"axis", -1}});
  b.node("MatMul", {b.current(), part[2]}, name);
  b.node("Transpose", {b.current()}, name, {}, {{"perm", {0, 2, 1, 3}}});
  b.int64_tensor(name + ".out_shape", {-1, t, width});
  b.node("Reshape", {b.current(), name + ".out_shape"}, name);
  matmul_bias(b, name, name + ".proj.weight", name + ".proj.bias");
}

}  // namespace dtrain::exporter
