// What Sequential::backward skips when no input gradient is asked for: the first layer with
// parameters computes none, the parameter-free layers before it run no backward, and the
// parameter gradients are the same bits as when everything is computed.
#include <gtest/gtest.h>

#include <vector>

#include "nn/sequential.h"
#include "testing/layer_models.h"

namespace dtrain::nn {
namespace {

using testing::image_model;
using testing::random_input;

struct Backward {
  std::vector<float> grads;
  std::vector<LayerPassRecord> passes;  // backward passes only
};

Backward run_backward(Sequential& model, const Tensor& x, bool need_input_grad) {
  Backward b;
  model.set_pass_observer([&](const LayerPassRecord& r) {
    if (r.pass == Pass::kBackward) b.passes.push_back(r);
  });
  model.arena().zero_grads();
  const Tensor& y = model.forward(x, {.training = true});
  Tensor dloss(y.shape());
  for (std::size_t i = 0; i < dloss.numel(); ++i) dloss[i] = 0.25f * float(i % 7) - 0.5f;
  model.backward(x, dloss, need_input_grad);
  const auto g = model.arena().grads();
  b.grads.assign(g.begin(), g.end());
  model.set_pass_observer(nullptr);
  return b;
}

TEST(SequentialBackward, NoInputGradientBeforeTheFirstParameters) {
  // reshape, flatten: no parameters; fc1 the first with them; relu, fc2 after.
  auto model = image_model(2, 3, 2,
                           {{.type = "reshape", .shape = {3, 2, 2}},
                            {.type = "flatten"},
                            {.type = "dense", .units = 4},
                            {.type = "relu"},
                            {.type = "dense", .units = 3}});
  const Tensor x = random_input(5, model->input_shape(), 3);
  const Backward skipped = run_backward(*model, x, false);
  const Backward full = run_backward(*model, x, true);
  EXPECT_EQ(skipped.grads, full.grads);  // bitwise
  ASSERT_EQ(full.passes.size(), 5u);
  ASSERT_EQ(skipped.passes.size(), 5u);  // every layer is still reported, last to first
  for (const auto& p : full.passes) EXPECT_TRUE(p.input_grad) << "layer " << p.layer;
  for (const auto& p : skipped.passes) {
    EXPECT_EQ(p.input_grad, p.layer > 2) << "layer " << p.layer;  // fc1 is layer 2
  }
}

}  // namespace
}  // namespace dtrain::nn
