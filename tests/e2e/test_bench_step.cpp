// `dtrain bench step` end to end: one process, no launcher; its JSON holds every layer of the
// model and the roofline figures, its table the same rows; bad values exit 2 naming the option.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "testing/run_command.h"

namespace dtrain::testing {
namespace {

using nlohmann::json;

TEST(DtrainBenchStep, CnnJsonHasEveryLayerAndTheRoofline) {
  const auto r = run_dtrain(0, "bench step --model cnn --batch 8 --iterations 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json j = json::parse(r.output);
  EXPECT_EQ(j["model"], "cnn");
  EXPECT_EQ(j["task"], "classify");
  EXPECT_EQ(j["batch"], 8);
  EXPECT_EQ(j["threads"], 1);
  EXPECT_EQ(j["iterations"], 2);
  EXPECT_TRUE(j["cpu"].is_string());
  EXPECT_EQ(j["load_average"].size(), 3u);
  // The layers of models/cnn.pbtxt, relu1 after pool1 as Sequential runs them.
  std::vector<std::string> names;
  for (const auto& l : j["layers"]) {
    names.push_back(l["name"]);
    for (const char* key : {"forward_ms", "backward_ms", "forward_flops", "backward_flops",
                            "gflops", "share", "sgemm_ms", "roofline_fraction"}) {
      EXPECT_TRUE(l[key].is_number()) << key << " of " << l["name"];
    }
    EXPECT_EQ(l["forward_passes"], 1);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"conv1", "pool1", "relu1", "flatten", "fc1", "relu2",
                                             "fc2"}));
  // fc1: 5408 -> 128 at batch 8, forward 2*8*128*5408 FLOPs, backward twice that.
  EXPECT_DOUBLE_EQ(j["layers"][4]["forward_flops"].get<double>(), 2.0 * 8 * 128 * 5408);
  EXPECT_DOUBLE_EQ(j["layers"][4]["backward_flops"].get<double>(), 4.0 * 8 * 128 * 5408);
  // fc1 and fc2: three sgemm calls each; conv1's two direct products are listed too.
  std::set<std::string> users;
  int sgemm_calls = 0;
  for (const auto& g : j["gemms"]) {
    for (const auto& u : g["used_by"]) users.insert(u);
    if (g["via_blas"]) sgemm_calls += g["calls"].get<int>();
    EXPECT_GT(g["sgemm_gflops"].get<double>(), 0.0);
  }
  EXPECT_EQ(sgemm_calls, 6);
  EXPECT_EQ(users.count("fc1 input grad"), 1u);
  EXPECT_EQ(users.count("conv1 forward"), 1u);
  EXPECT_TRUE(j["gemm_census"]["matches"]);
  for (const char* key : {"step_ms", "samples_per_s", "fraction", "direct_at_sgemm_ms"}) {
    EXPECT_TRUE(j["roofline"][key].is_number()) << key;
  }
  for (const char* key : {"step_ms", "samples_per_s", "optimizer_ms", "zero_grad_ms", "other_ms",
                          "step_flops", "step_gflops"}) {
    EXPECT_TRUE(j[key].is_number()) << key;
  }
  EXPECT_GT(j["samples_per_s"].get<double>(), 0.0);
}

TEST(DtrainBenchStep, TablePrintsTheLayersAndTheRoofline) {
  const auto r =
      run_dtrain(0, "bench step --model mlp --batch 4 --iterations 1 --warmup 0 --threads 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* text : {"model mlp (classify), batch 4, 2 BLAS thread(s)", "fc1", "whole step",
                           "optimizer (adam)", "roofline: the step's", "GEMM census"}) {
    EXPECT_NE(r.output.find(text), std::string::npos) << text << " in:\n" << r.output;
  }
}

TEST(DtrainBenchStep, BadValuesExitTwoNamingTheOption) {
  for (const auto& [args, option] :
       std::vector<std::pair<std::string, std::string>>{{"--batch 0", "--batch"},
                                                        {"--batch -3", "--batch"},
                                                        {"--batch many", "--batch"},
                                                        {"--threads 0", "--threads"},
                                                        {"--iterations 0", "--iterations"},
                                                        {"--warmup -1", "--warmup"},
                                                        {"--model no_such_model", "--model"},
                                                        {"--no-such-option", "no-such-option"}}) {
    const auto r = run_dtrain(0, "bench step " + args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.output;
    EXPECT_NE(r.output.find(option), std::string::npos) << args << ": " << r.output;
  }
  const auto help = run_dtrain(0, "bench step --help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* option :
       {"--model", "--batch", "--threads", "--iterations", "--warmup", "--json"}) {
    EXPECT_NE(help.output.find(option), std::string::npos) << option;
  }
  const auto unknown = run_dtrain(0, "bench stepp");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("bench step"), std::string::npos) << unknown.output;
}

}  // namespace
}  // namespace dtrain::testing
