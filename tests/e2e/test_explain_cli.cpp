// dtrain explain on a cnn trained briefly on Debian's Fashion-MNIST: a picture per example and
// attributions.npy; integrated gradients' completeness and the model-randomization sanity
// check (Adebayo et al. 2018) as the command reports them; options and checkpoints it must
// refuse (exit 2).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "data/npy.h"
#include "testing/run_command.h"

namespace dtrain::testing {
namespace {

namespace fs = std::filesystem;

std::string trained(const std::string& model, const std::string& tag) {
  const std::string dir = make_temp_dir(tag);
  const auto r = run_dtrain(2, "--model " + model + " --epochs 1 --max-steps 150 --val-size 500 " +
                                   "--progress never --checkpoint-dir " + dir);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return dir;
}

std::vector<double> numbers_after(const std::string& output, const std::string& label) {
  std::vector<double> values;
  const std::regex re(label + " (-?[0-9.]+)");
  for (auto it = std::sregex_iterator(output.begin(), output.end(), re);
       it != std::sregex_iterator(); ++it) {
    values.push_back(std::stod((*it)[1]));
  }
  return values;
}

TEST(ExplainCli, PicturesCompletenessAndTheRandomizationCheck) {
  const std::string ckpt = trained("cnn", "explain_cnn");
  const std::string out = make_temp_dir("explain_out");
  const auto r = run_dtrain(0, "explain --checkpoint " + ckpt +
                                   " --test-examples 10 --method integrated-gradients "
                                   "--sanity-check --output-dir " +
                                   out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(fs::exists(out + "/explain-" + std::to_string(i) + ".png")) << i;
  }
  const auto maps = data::read_npy(out + "/attributions.npy");
  EXPECT_EQ(maps.shape, (std::vector<std::uint64_t>{10, 28, 28}));
  // Completeness within 1% at 64 steps, for every example.
  const auto errors = numbers_after(r.output, "completeness error");
  ASSERT_EQ(errors.size(), 10u) << r.output;
  for (double e : errors) EXPECT_LT(e, 1.0) << r.output;
  // A trained model's maps differ from an untrained one's: median rank correlation < 0.5.
  auto correlations = numbers_after(r.output, "random model's map");
  ASSERT_EQ(correlations.size(), 10u) << r.output;
  std::sort(correlations.begin(), correlations.end());
  EXPECT_LT(correlations[5], 0.5) << r.output;
  // The other methods run on the same checkpoint.
  for (const char* method : {"saliency", "gradcam"}) {
    const auto m = run_dtrain(0, "explain --checkpoint " + ckpt + " --test-examples 2 --method " +
                                     method + " --output-dir " + out + "/" + method);
    EXPECT_EQ(m.exit_code, 0) << m.output;
    EXPECT_TRUE(fs::exists(out + "/" + method + "/explain-1.png")) << method;
  }
}

TEST(ExplainCli, RefusesBadOptionsAndNonClassifiers) {
  const std::string out = make_temp_dir("explain_bad");
  for (const std::string& args :
       {"explain --test-examples 2 --output-dir " + out,  // no checkpoint
        "explain --checkpoint x --output-dir " + out,     // neither --input nor --test-examples
        "explain --checkpoint x --test-examples 2 --method lime --output-dir " + out,
        "explain --checkpoint x --test-examples 2 --steps 0 --output-dir " + out}) {
    const auto r = run_dtrain(0, args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
  }
  const std::string autoencoder = trained("autoencoder", "explain_ae");
  const auto r = run_dtrain(
      0, "explain --checkpoint " + autoencoder + " --test-examples 1 --output-dir " + out);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("classifier"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace dtrain::testing
