#pragma once
// The ONNX graph under construction, shared by the exporter's files (onnx_export.cpp, the
// sequence layers in onnx_transformer.cpp).
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/errors.h"
#include "nn/sequential.h"

namespace dtrain::exporter {

// Builds the graph node by node, tracking the name of the current tensor and whether its
// per-sample part is channels-last (dtrain's layout) or channels-first (ONNX's Conv).
class GraphBuilder {
 public:
  GraphBuilder(onnx::GraphProto& g, const nn::Sequential& model) : g_(g), model_(model) {}

  std::string current() const { return current_; }
  void set_current(const std::string& name) { current_ = name; }

  std::string node(const std::string& op, std::vector<std::string> inputs, const std::string& base,
                   std::map<std::string, std::int64_t> ints = {},
                   std::map<std::string, std::vector<std::int64_t>> int_lists = {},
                   std::map<std::string, float> floats = {}) {
    onnx::NodeProto* n = g_.add_node();
    n->set_op_type(op);
    // Unique: a layer may emit one op several times (layernorm's two ReduceMeans).
    const std::string out = base + "/" + op + ":" + std::to_string(g_.node_size());
    n->set_name(out);
    for (const auto& in : inputs) n->add_input(in);
    n->add_output(out);
    for (const auto& [k, v] : ints) {
      auto* a = n->add_attribute();
      a->set_name(k);
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(v);
    }
    for (const auto& [k, v] : int_lists) {
      auto* a = n->add_attribute();
      a->set_name(k);
      a->set_type(onnx::AttributeProto::INTS);
      for (const auto x : v) a->add_ints(x);
    }
    for (const auto& [k, v] : floats) {
      auto* a = n->add_attribute();
      a->set_name(k);
      a->set_type(onnx::AttributeProto::FLOAT);
      a->set_f(v);
    }
    current_ = out;
    return out;
  }

  // A float initializer; returns its name.
  std::string tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                     const std::vector<float>& values) {
    onnx::TensorProto* t = g_.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (const auto d : dims) t->add_dims(d);
    t->mutable_raw_data()->assign(reinterpret_cast<const char*>(values.data()),
                                  values.size() * sizeof(float));
    return name;
  }
  std::string int64_tensor(const std::string& name, const std::vector<std::int64_t>& values) {
    onnx::TensorProto* t = g_.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<std::int64_t>(values.size()));
    for (const auto v : values) t->add_int64_data(v);
    return name;
  }

  std::vector<float> param(const std::string& slot_name, std::size_t* rows = nullptr,
                           std::size_t* cols = nullptr) const {
    const auto& arena = model_.arena();
    for (std::size_t i = 0; i < arena.slots().size(); ++i) {
      const auto& s = arena.slots()[i];
      if (s.name != slot_name) continue;
      const auto p = arena.param(i);
      if (rows) *rows = s.shape[0];
      if (cols) *cols = s.shape.rank() > 1 ? s.shape[1] : 1;
      return {p.begin(), p.end()};
    }
    throw ModelError("export: no parameter '" + slot_name + "' in the model");
  }

  // A layer's bias, or zeros for one built with no_bias (ONNX's Gemm, Conv and
  // ConvTranspose then take the same inputs either way).
  std::vector<float> bias(const std::string& layer, std::size_t count) const {
    const std::string slot = layer + ".bias";
    for (const auto& s : model_.arena().slots()) {
      if (s.name == slot) return param(slot);
    }
    return std::vector<float>(count, 0.0f);
  }

  // Per-sample data as dtrain lays it out (channels last) before layers that read it so.
  void to_channels_last() {
    if (!channels_first_) return;
    node("Transpose", {current_}, "to_nhwc", {}, {{"perm", {0, 2, 3, 1}}});
    channels_first_ = false;
  }
  void to_channels_first() {
    if (channels_first_) return;
    node("Transpose", {current_}, "to_nchw", {}, {{"perm", {0, 3, 1, 2}}});
    channels_first_ = true;
  }
  // After a node that leaves one value per channel ([N, C]): both layouts agree.
  void set_per_sample_vector() { channels_first_ = false; }
  bool channels_first() const { return channels_first_; }
  void to_layout(bool channels_first) { channels_first ? to_channels_first() : to_channels_last(); }

  // A float scalar initializer (broadcast by Mul, Add, ...); returns its name.
  std::string scalar(const std::string& name, float value) { return tensor(name, {}, {value}); }
  // An int64 scalar initializer (Gather's index); returns its name.
  std::string int64_scalar(const std::string& name, std::int64_t value) {
    onnx::TensorProto* t = g_.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_int64_data(value);
    return name;
  }

 private:
  onnx::GraphProto& g_;
  const nn::Sequential& model_;
  std::string current_ = "input";
  bool channels_first_ = false;
};

}  // namespace dtrain::exporter
