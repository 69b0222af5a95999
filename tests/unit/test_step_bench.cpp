// `dtrain bench step`'s accounting (train/step_bench.h): which passes each layer made in the
// task's real step, their FLOPs, the GEMM shapes and the census against recorded calls.
// No timing is checked, only that the figures are there and add up.
#include <gtest/gtest.h>

#include "bench/step_bench.h"
#include "cli/model_registry.h"

namespace dtrain::bench {
namespace {

double pass_flops(const nn::Layer& layer, std::size_t batch, bool input_grad, nn::Pass pass) {
  double flops = 0.0;
  for (const auto& p : layer.matrix_products(batch, input_grad)) {
    if (p.pass == pass) flops += p.flops();
  }
  return flops;
}

const LayerStepFigures& figures(const StepBenchResult& r, const std::string& network,
                                const std::string& name) {
  for (const auto& l : r.layers) {
    if (l.network == network && l.name == name) return l;
  }
  ADD_FAILURE() << "no layer " << network << "." << name;
  return r.layers.front();
}

bool has_note(const StepBenchResult& r, const std::string& text) {
  for (const auto& n : r.notes) {
    if (n.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(StepBench, ClassifierStepCountsEveryLayerOnceAndExplainsTheDirectKernel) {
  const auto spec = cli::parse_model_spec(R"(
      name: "tiny" input_height: 6 input_width: 6 input_channels: 1
      layers { type: "conv2d" name: "conv" filters: 4 kernel: 3 }
      layers { type: "relu" name: "act" }
      layers { type: "flatten" name: "flat" }
      layers { type: "dense" name: "fc" units: 3 })",
                                          "tiny");
  const auto r = run_step_bench(spec, {.batch = 4, .iterations = 2, .warmup = 1});
  EXPECT_EQ(r.task, "classify");
  EXPECT_EQ(r.batch, 4u);
  ASSERT_EQ(r.layers.size(), 4u);
  for (const auto& l : r.layers) {
    EXPECT_EQ(l.network, "model");
    EXPECT_EQ(l.forward_passes, 1) << l.name;
    EXPECT_EQ(l.backward_passes, 1) << l.name;
  }
  // conv: 4x4 outputs of 9-tap patches, 4 filters, batch 4 = 64 rows; the first layer has no
  // input gradient, so its backward is the weight gradient alone.
  const auto& conv = figures(r, "model", "conv");
  EXPECT_DOUBLE_EQ(conv.forward_flops, 2.0 * 64 * 4 * 9);
  EXPECT_DOUBLE_EQ(conv.backward_flops, 2.0 * 64 * 4 * 9);
  ASSERT_EQ(conv.direct_roles.size(), 2u);  // small K: forward and weight grad
  EXPECT_GT(conv.sgemm_ms, 0.0);            // its products at sgemm's rate, though none runs there
  const auto& fc = figures(r, "model", "fc");
  EXPECT_DOUBLE_EQ(fc.forward_flops, 2.0 * 4 * 3 * 64);
  EXPECT_DOUBLE_EQ(fc.backward_flops, 2 * 2.0 * 4 * 3 * 64);
  EXPECT_GT(fc.sgemm_ms, 0.0);
  EXPECT_FALSE(figures(r, "model", "act").has_products);
  EXPECT_TRUE(has_note(r, "conv: forward and weight grad run in a direct kernel"));
  EXPECT_TRUE(has_note(r, "act, flat"));
  // Three sgemm calls (fc's), as recorded; five shapes with the conv's two direct ones.
  EXPECT_TRUE(r.gemm_census_matches);
  EXPECT_EQ(r.recorded_gemm_calls, 3u);
  EXPECT_EQ(r.gemms.size(), 5u);
  for (const auto& g : r.gemms) {
    EXPECT_GT(g.sgemm_us, 0.0) << g.shape.to_string();
    EXPECT_EQ(g.calls, 1) << g.shape.to_string();
  }
  EXPECT_GT(r.step_ms, 0.0);
  EXPECT_GT(r.direct_at_sgemm_ms, 0.0);
  // The roofline counts every product, the direct kernels' at sgemm's rate too.
  EXPECT_NEAR(r.roofline_ms, conv.sgemm_ms + fc.sgemm_ms, 1e-9 * r.roofline_ms);
  EXPECT_GT(r.roofline_ms, r.direct_at_sgemm_ms);
  EXPECT_DOUBLE_EQ(r.step_flops(), conv.flops() + fc.flops());
  const auto json = step_bench_json(r);
  EXPECT_EQ(json["layers"].size(), 4u);
  EXPECT_EQ(json["gemms"].size(), 5u);
  EXPECT_TRUE(json["roofline"].contains("fraction"));
}

TEST(StepBench, GanStepRunsTheDiscriminatorThreeTimesAndItsInputGradientOnce) {
  const auto spec = cli::load_model_config("gan");
  const auto r = run_step_bench(spec, {.batch = 2, .iterations = 1, .warmup = 0});
  ASSERT_EQ(r.task, "gan");
  auto networks = nn::build_networks(spec);
  const auto& d = *networks[1].model;
  ASSERT_EQ(networks[1].role, "discriminator");
  for (std::size_t i = 0; i < d.num_layers(); ++i) {
    const auto& f = figures(r, "discriminator", d.layer(i).name());
    EXPECT_EQ(f.forward_passes, 3) << f.name;  // on real, on fake, and for the generator
    EXPECT_EQ(f.backward_passes, 3) << f.name;
    EXPECT_DOUBLE_EQ(f.forward_flops, 3 * pass_flops(d.layer(i), 2, false, nn::Pass::kForward));
  }
  // Only the generator's pass asks the first discriminator layer for its input gradient.
  const auto& first = d.layer(0);
  EXPECT_DOUBLE_EQ(figures(r, "discriminator", first.name()).backward_flops,
                   2 * pass_flops(first, 2, false, nn::Pass::kBackward) +
                       pass_flops(first, 2, true, nn::Pass::kBackward));
  const auto& g = *networks[0].model;
  for (std::size_t i = 0; i < g.num_layers(); ++i) {
    const auto& f = figures(r, "generator", g.layer(i).name());
    EXPECT_EQ(f.forward_passes, 1) << f.name;
    EXPECT_EQ(f.backward_passes, 1) << f.name;
  }
  EXPECT_TRUE(r.gemm_census_matches);
  EXPECT_TRUE(has_note(r, "GAN step as in training"));
}

TEST(StepBench, LanguageModelGetsASyntheticVocabulary) {
  auto spec = cli::load_model_config("charlstm");
  spec.input_height = 5;  // 5 steps keep the test quick
  const auto r = run_step_bench(spec, {.batch = 2, .iterations = 1, .warmup = 0});
  EXPECT_EQ(r.task, "language_model");
  ASSERT_EQ(r.layers.size(), 3u);
  EXPECT_TRUE(r.gemm_census_matches);
  EXPECT_TRUE(has_note(r, "synthetic vocabulary of 96 tokens"));
  // The output layer has 96 units: the vocabulary's size.
  EXPECT_DOUBLE_EQ(figures(r, "model", "logits").forward_flops, 2.0 * 2 * 5 * 96 * 256);
}

}  // namespace
}  // namespace dtrain::bench
