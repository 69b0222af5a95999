// The dtrain binary end to end: training under mpiexec -np 2 on synthetic data with the
// metrics file checked line by line, and the documented exit codes for bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "testing/idx_files.h"
#include "testing/run_command.h"

namespace dtrain::testing {
namespace {

using nlohmann::json;

void expect_output_has(const CommandResult& r, const std::string& text) {
  EXPECT_NE(r.output.find(text), std::string::npos) << "missing '" << text << "' in:\n" << r.output;
}

TEST(DtrainTrain, TwoRanksOnSyntheticDataWritesTheMetricsFile) {
  const auto dir = make_temp_dir("train");
  const auto metrics = dir + "/metrics.jsonl";
  const auto r = run_dtrain(
      2, "--data synthetic --epochs 2 --batch-size 64 --progress never --metrics " + metrics);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_output_has(r, "epoch 2/2");
  expect_output_has(r, "test_acc");
  const auto lines = read_lines(metrics);
  ASSERT_EQ(lines.size(), 3u) << r.output;
  const std::int64_t steps_per_epoch = 6000 / 64;
  for (int e = 0; e < 2; ++e) {
    const auto line = json::parse(lines[e]);
    EXPECT_EQ(line["event"], "epoch");
    EXPECT_EQ(line["epoch"], e + 1);
    EXPECT_EQ(line["step"], (e + 1) * steps_per_epoch);
    for (const char* key : {"train_loss", "train_acc", "val_loss", "val_acc", "samples_per_sec",
                            "epoch_seconds", "comm_seconds"}) {
      ASSERT_TRUE(line.contains(key)) << key << " in " << lines[e];
      EXPECT_TRUE(line[key].is_number()) << key;
    }
    EXPECT_GT(line["samples_per_sec"].get<double>(), 0.0);
    EXPECT_GE(line["comm_seconds"].get<double>(), 0.0);
  }
  // The synthetic set is learnable: two epochs of the cnn get far above chance (0.1).
  EXPECT_LT(json::parse(lines[1])["train_loss"].get<double>(),
            json::parse(lines[0])["train_loss"].get<double>());
  const auto final_line = json::parse(lines[2]);
  EXPECT_EQ(final_line["event"], "final");
  EXPECT_EQ(final_line["world_size"], 2);
  EXPECT_GT(final_line["test_acc"].get<double>(), 0.8);
  EXPECT_TRUE(final_line["test_loss"].is_number());
  EXPECT_TRUE(final_line["seconds"].is_number());
}

TEST(DtrainTrain, MaxStepsCutsTheEpochAndStillReports) {
  const auto dir = make_temp_dir("max_steps");
  const auto metrics = dir + "/m.jsonl";
  const auto r = run_dtrain(2,
                            "--data synthetic --model mlp --epochs 3 --max-steps 10 --optimizer "
                            "sgd --lr 0.05 --allreduce mpi --progress never --metrics " +
                                metrics);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto lines = read_lines(metrics);
  ASSERT_EQ(lines.size(), 2u) << r.output;
  EXPECT_EQ(json::parse(lines[0])["step"], 10);
  EXPECT_EQ(json::parse(lines[1])["event"], "final");
}

TEST(DtrainTrain, ConfigFileIsReadLikeTheCommandLine) {
  const auto dir = make_temp_dir("config");
  {
    std::ofstream ini(dir + "/run.ini");
    ini << "data = synthetic\nmodel = mlp\nepochs = 1\nmax-steps = 3\nprogress = never\n"
        << "metrics = " << dir << "/m.jsonl\n";
  }
  const auto r = run_dtrain(0, "--config " + dir + "/run.ini");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(json::parse(read_lines(dir + "/m.jsonl").at(0))["step"], 3);
}

TEST(DtrainErrors, MissingDataDirectoryIsExit3NamingPathAndPackage) {
  const auto r = run_dtrain(2, "--data /nonexistent/fashion --epochs 1");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  expect_output_has(r, "/nonexistent/fashion");
  expect_output_has(r, "dataset-fashion-mnist");
}

void write_gz(const std::string& path, const Bytes& bytes) {
  write_file(path, bytes, true);
}

// An IDX file whose payload holds `payload` bytes, whatever its header promises.
Bytes idx(std::uint32_t magic, const std::vector<std::uint32_t>& dims, std::size_t payload) {
  return idx_bytes(magic, dims, Bytes(payload, 1));
}

TEST(DtrainErrors, MalformedIdxFilesAreExit3NamingTheFile) {
  const auto dir = make_temp_dir("bad_idx");
  write_gz(dir + "/train-images-idx3-ubyte.gz", idx(0x803, {20, 28, 28}, 20 * 784));
  write_gz(dir + "/train-labels-idx1-ubyte.gz", idx(0x801, {20}, 20));
  write_gz(dir + "/t10k-images-idx3-ubyte.gz", idx(0x12345678, {10, 28, 28}, 10 * 784));
  write_gz(dir + "/t10k-labels-idx1-ubyte.gz", idx(0x801, {10}, 10));
  auto r = run_dtrain(0, "--data " + dir + " --val-size 4 --batch-size 4 --epochs 1");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  expect_output_has(r, "t10k-images-idx3-ubyte.gz");
  // Truncated: the header promises more images than the file holds.
  write_gz(dir + "/t10k-images-idx3-ubyte.gz", idx(0x803, {10, 28, 28}, 5 * 784));
  r = run_dtrain(0, "--data " + dir + " --val-size 4 --batch-size 4 --epochs 1");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  expect_output_has(r, "t10k-images-idx3-ubyte.gz");
  // Image and label counts disagree.
  write_gz(dir + "/t10k-images-idx3-ubyte.gz", idx(0x803, {10, 28, 28}, 10 * 784));
  write_gz(dir + "/t10k-labels-idx1-ubyte.gz", idx(0x801, {9}, 9));
  r = run_dtrain(0, "--data " + dir + " --val-size 4 --batch-size 4 --epochs 1");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  expect_output_has(r, "t10k-labels-idx1-ubyte.gz");
}

TEST(DtrainErrors, InvalidOptionsAreExit2NamingTheOption) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"--batch-size 0", "--batch-size"},
      {"--lr -0.5", "--lr"},
      {"--optimizer adagrad", "--optimizer"},
      {"--model resnet", "--model"},
      {"--epochs 0", "--epochs"},
      {"--bogus", "bogus"}};
  for (const auto& [args, option] : cases) {
    const auto r = run_dtrain(0, "--data synthetic " + args);
    EXPECT_EQ(r.exit_code, 2) << args << ":\n" << r.output;
    expect_output_has(r, option);
  }
  // Needs the rank count: a global batch smaller than the number of ranks.
  const auto r = run_dtrain(2, "--data synthetic --batch-size 1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  expect_output_has(r, "--batch-size");
}

TEST(DtrainCli, HelpAndVersion) {
  auto r = run_dtrain(0, "--help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* opt : {"--model", "--batch-size", "--allreduce", "(=adam)", "(=5)"}) {
    expect_output_has(r, opt);
  }
  r = run_dtrain(0, "--version");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* part : {"dtrain ", "MPI:", "Open MPI", "OpenBLAS", "protobuf: 3."}) {
    expect_output_has(r, part);
  }
}

TEST(DtrainBench, AllreduceBenchPrintsExactResultsAsJson) {
  const auto r = run_dtrain(2, "bench allreduce --max-bytes 65536 --iters 3 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int rows = 0;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '{') continue;
    const auto j = json::parse(line);
    EXPECT_EQ(j["wrong"], 0) << line;
    EXPECT_EQ(j["ranks"], 2);
    EXPECT_GT(j["time_us_p50"].get<double>(), 0.0);
    ++rows;
  }
  EXPECT_EQ(rows, 2 * 14);  // ring and mpi, 8 B .. 64 KiB
}

}  // namespace
}  // namespace dtrain::testing
