// Checkpoints through the dtrain binary: a signal gives exit 75 and a checkpoint from which
// the resumed run ends bit-identical to an uninterrupted one; inspect and eval; and each
// bad checkpoint input gives its documented exit code and a message naming the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "testing/run_command.h"

namespace dtrain::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kRun = "--data synthetic --batch-size 32 --progress never ";
const std::string kMlp = kRun + "--model mlp ";

void expect_output_has(const CommandResult& r, const std::string& text) {
  EXPECT_NE(r.output.find(text), std::string::npos) << "missing '" << text << "' in:\n" << r.output;
}

json inspect_json(const std::string& path) {
  const auto r = run_dtrain(0, "inspect " + path + " --json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return json::parse(r.output);
}

TEST(CheckpointCli, SignalStopsWithExit75AndResumeIsBitIdentical) {
  const auto dir = make_temp_dir("signal");
  // The uninterrupted reference run.
  auto r = run_dtrain(2, kRun + "--model cnn --epochs 2 --checkpoint-dir " + dir + "/straight");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The same run, sent SIGUSR1 (mpirun forwards it to the ranks) once it has saved once.
  const std::string interrupted = dir + "/interrupted";
  const std::string train =
      std::string(DTRAIN_MPIEXEC) + " -n 2 --oversubscribe --bind-to none " + DTRAIN_BINARY + " " +
      kRun + "--model cnn --epochs 2 --checkpoint-every-steps 20 --checkpoint-dir " + interrupted;
  r = run_command("bash -c '" + train + " & pid=$!; for i in $(seq 600); do [ -f " + interrupted +
                  "/latest ] && break; sleep 0.05; done; kill -USR1 $pid; wait $pid; echo " +
                  "exit=$?'");
  expect_output_has(r, "exit=75");
  expect_output_has(r, "stopped by signal");
  const auto stopped = inspect_json(interrupted);
  EXPECT_GT(stopped["step"].get<int>(), 0);
  EXPECT_LT(stopped["step"].get<int>(), 2 * (6000 / 32)) << "the signal came too late to test";
  r = run_dtrain(2, kRun + "--model cnn --epochs 2 --checkpoint-every-steps 20 --checkpoint-dir " +
                        interrupted + " --resume");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_output_has(r, "resuming from");
  const auto a = inspect_json(dir + "/straight"), b = inspect_json(interrupted);
  EXPECT_EQ(a["step"], b["step"]);
  EXPECT_EQ(a["params_sha256"], b["params_sha256"]);
}

TEST(CheckpointCli, InspectAndEvalReportTheCheckpoint) {
  const auto dir = make_temp_dir("inspect");
  auto r = run_dtrain(2, kMlp + "--epochs 1 --checkpoint-dir " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = inspect_json(dir);
  for (const char* key : {"model", "step", "epoch", "world_size", "num_params", "params_sha256",
                          "optimizer", "metrics"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["model"], "mlp");
  EXPECT_EQ(j["step"], 6000 / 32);
  EXPECT_EQ(j["world_size"], 2);
  EXPECT_EQ(j["num_params"], 784 * 256 + 256 + 256 * 10 + 10);
  EXPECT_EQ(j["optimizer"], "adam");
  EXPECT_EQ(j["metrics"].size(), 1u);
  r = run_dtrain(0, "inspect " + dir);
  EXPECT_EQ(r.exit_code, 0);
  expect_output_has(r, "checksum ok");
  r = run_dtrain(2, "eval --checkpoint " + dir + " --data synthetic --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto e = json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(e["test_examples"], 1000);
  EXPECT_GT(e["test_acc"].get<double>(), 0.8);
}

TEST(CheckpointCli, DamagedFilesAreExit3NamingTheFile) {
  const auto dir = make_temp_dir("damaged");
  ASSERT_EQ(
      run_dtrain(0, kMlp + "--epochs 1 --max-steps 5 --checkpoint-dir " + dir + "/good").exit_code,
      0);
  const std::string good = dir + "/good/ckpt-5.pb";
  std::ifstream in(good, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto write = [&](const std::string& name, const std::string& content) {
    std::ofstream(dir + "/" + name, std::ios::binary) << content;
    return dir + "/" + name;
  };
  std::string flipped = bytes;
  flipped[bytes.size() / 2] = static_cast<char>(flipped[bytes.size() / 2] ^ 1);
  const std::vector<std::string> bad{write("truncated.pb", bytes.substr(0, bytes.size() / 3)),
                                     write("flipped.pb", flipped),
                                     write("empty.pb", ""),
                                     write("random.pb", std::string(3000, '\x5a')),
                                     dir + "/good/..",
                                     dir + "/missing.pb"};
  for (const auto& path : bad) {
    const auto r = run_dtrain(0, "inspect " + path);
    EXPECT_EQ(r.exit_code, 3) << path << "\n" << r.output;
    EXPECT_NE(r.output.find(fs::path(path).filename().string()), std::string::npos) << r.output;
  }
  // `latest` naming a file that is gone.
  fs::create_directories(dir + "/dangling");
  write("dangling/latest", "ckpt-99.pb\n");
  auto r = run_dtrain(0, kMlp + "--checkpoint-dir " + dir + "/dangling --resume");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  expect_output_has(r, "ckpt-99.pb");
  // Resuming from a damaged file fails before training, on every rank.
  r = run_dtrain(2, kMlp + "--resume " + dir + "/flipped.pb");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  expect_output_has(r, "flipped.pb");
}

TEST(CheckpointCli, ModelMismatchNamesBothModels) {
  const auto dir = make_temp_dir("mismatch");
  ASSERT_EQ(run_dtrain(0, kMlp + "--epochs 1 --max-steps 3 --checkpoint-dir " + dir).exit_code, 0);
  const auto r =
      run_dtrain(0, "--data synthetic --model cnn --batch-size 32 --resume " + dir + "/ckpt-3.pb");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  expect_output_has(r, "mlp");
  expect_output_has(r, "cnn");
}

TEST(CheckpointCli, UnwritableDirectoryIsRejectedBeforeTraining) {
  const auto dir = make_temp_dir("unwritable");
  std::ofstream(dir + "/file") << "x";
  const auto r = run_dtrain(2, kMlp + "--checkpoint-dir " + dir + "/file/sub");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  expect_output_has(r, "--checkpoint-dir");
  EXPECT_EQ(r.output.find("epoch 1/"), std::string::npos) << "trained before failing";
}

}  // namespace
}  // namespace dtrain::testing
