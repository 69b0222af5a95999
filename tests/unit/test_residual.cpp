// residual { layers }: y = x + f(x). Hand-computed forward, finite-difference checks of the
// input and every inner parameter (a pre-norm transformer block, a ResNet block over an
// image, a nested block), one contiguous parameter range per block with prefixed names,
// shape and option errors naming the block, and the spec text round trip.
#include <gtest/gtest.h>

#include "ckpt/model_spec.h"
#include "core/errors.h"
#include "nn/model_config.h"
#include "testing/gradient_check.h"
#include "testing/layer_models.h"

namespace dtrain::nn {
namespace {

using tensor::Tensor;
using testing::expect_gradients_match;
using testing::param_named;
using testing::random_input;
using testing::sequence_model;

LayerConfig residual(std::string name, std::vector<LayerConfig> inner) {
  return {.type = "residual", .name = std::move(name), .layers = std::move(inner)};
}

LayerConfig per_step_dense(int units, std::string name = "") {
  return {.type = "dense", .name = std::move(name), .units = units, .per_step = true};
}

TEST(Residual, AddsItsInputToTheInnerOutput) {
  auto model = sequence_model(1, 2, {residual("res", {per_step_dense(2, "fc")})});
  EXPECT_EQ(model->layer(1).type(), "residual");
  auto w = param_named(*model, "res.fc.weight");
  auto b = param_named(*model, "res.fc.bias");
  w[0] = 1, w[1] = 2, w[2] = 3, w[3] = 4;
  b[0] = 0.5f, b[1] = -1.0f;
  Tensor x(Shape{1, 1, 2, 1});
  x[0] = 1, x[1] = -1;
  const Tensor& y = model->forward(x, {});
  // f(x) = W x + b = (1 - 2 + 0.5, 3 - 4 - 1) = (-0.5, -2); y = x + f(x).
  EXPECT_FLOAT_EQ(y[0], 0.5f);
  EXPECT_FLOAT_EQ(y[1], -3.0f);
}

TEST(Residual, PreNormTransformerBlockGradients) {
  auto model = sequence_model(
      3, 4,
      {residual("attn_block", {{.type = "layernorm"}, {.type = "attention", .heads = 2}}),
       residual("mlp_block",
                {{.type = "layernorm"}, per_step_dense(8), {.type = "gelu"}, per_step_dense(4)})});
  testing::set_distinct_biases(*model);
  expect_gradients_match(*model, random_input(2, model->input_shape(), 11));
}

TEST(Residual, ResNetBlockOverAnImageAndNesting) {
  auto image = testing::image_model(
      4, 4, 2,
      {residual("block", {{.type = "conv2d", .filters = 2, .kernel = 3, .padding = 1},
                          {.type = "tanh"},
                          {.type = "conv2d", .filters = 2, .kernel = 3, .padding = 1}}),
       {.type = "tanh"}});
  expect_gradients_match(*image, random_input(2, image->input_shape(), 12));
  auto nested =
      sequence_model(2, 3,
                     {residual("outer", {residual("inner", {per_step_dense(3), {.type = "tanh"}}),
                                         {.type = "layernorm"}})});
  EXPECT_EQ(nested->arena().slots()[0].name, "outer.inner.dense0.weight");
  EXPECT_EQ(nested->arena().slots()[2].name, "outer.layernorm1.weight");
  testing::set_distinct_biases(*nested);
  expect_gradients_match(*nested, random_input(2, nested->input_shape(), 13));
}

// Bucket planning and the gradients-final callbacks work on top-level layers: a block's
// inner parameters are one range, between its neighbours'.
TEST(Residual, InnerParametersAreOneContiguousRange) {
  auto model = sequence_model(
      2, 4,
      {per_step_dense(4, "in"), residual("res", {{.type = "layernorm"}, per_step_dense(4)}),
       per_step_dense(3, "out")});
  const auto& slots = model->arena().slots();
  ASSERT_EQ(slots.size(), 8u);
  EXPECT_EQ(slots[2].name, "res.layernorm0.weight");
  EXPECT_EQ(slots[5].name, "res.dense1.bias");
  const auto& in = model->layer_params(1);
  const auto& res = model->layer_params(2);
  const auto& out = model->layer_params(3);
  EXPECT_EQ(res.begin, in.end);
  EXPECT_EQ(res.begin, slots[2].offset);
  EXPECT_EQ(res.end, out.begin);
  EXPECT_EQ(out.begin, slots[6].offset);
  EXPECT_NE(model->summary().find("res (residual) -> [2, 4], 28 parameters"), std::string::npos)
      << model->summary();
}

TEST(Residual, BadBlocksNameTheBlockAndTheShapes) {
  try {
    sequence_model(2, 4, {residual("res", {per_step_dense(3)})});
    ADD_FAILURE() << "a shape-changing block was accepted";
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'res'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2, 4]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
  }
  EXPECT_THROW(sequence_model(2, 4, {residual("empty", {})}), ModelError);
  try {
    sequence_model(2, 4, {residual("res", {{.type = "attention", .name = "a", .heads = 3}})});
    ADD_FAILURE();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("'res.a'"), std::string::npos) << e.what();
  }
}

TEST(Residual, TransformerSpecRoundTrip) {
  const auto config = ckpt::parse_model_spec_text(R"(
    input_height: 8 input_width: 1 input_channels: 1
    layers { type: "embedding" vocab: 5 units: 8 }
    layers { type: "position_embedding" name: "pos" }
    layers { type: "residual" name: "b0"
      layers { type: "layernorm" epsilon: 0.001 }
      layers { type: "attention" heads: 2 }
    }
    layers { type: "residual" name: "m0"
      layers { type: "layernorm" }
      layers { type: "dense" units: 16 per_step: true }
      layers { type: "gelu" }
      layers { type: "residual" layers { type: "dense" units: 16 per_step: true } }
      layers { type: "dense" units: 8 per_step: true }
    }
    layers { type: "layernorm" }
    layers { type: "dense" units: 5 per_step: true }
  )",
                                                  "gpt.pbtxt");
  ASSERT_EQ(config.layers.size(), 6u);
  ASSERT_EQ(config.layers[2].layers.size(), 2u);
  EXPECT_EQ(config.layers[2].layers[1].heads, 2);
  EXPECT_FLOAT_EQ(config.layers[2].layers[0].epsilon, 0.001f);
  const auto again = ckpt::from_proto(ckpt::to_proto(config));
  EXPECT_EQ(ckpt::to_proto(again).SerializeAsString(), ckpt::to_proto(config).SerializeAsString());
  ASSERT_EQ(again.layers[3].layers.size(), 5u);
  EXPECT_EQ(again.layers[3].layers[3].layers.size(), 1u);
  EXPECT_EQ(again.layers[2].layers[1].heads, 2);
  auto a = build_model(config), b = build_model(again);
  EXPECT_EQ(a->arena().layout_fingerprint(), b->arena().layout_fingerprint());
  EXPECT_EQ(a->output_shape(), (Shape{8, 5}));
}

}  // namespace
}  // namespace dtrain::nn
