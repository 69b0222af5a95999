// The overlap, compression and timeline options end to end (mpiexec -np 2, synthetic data):
// - --timeline writes one Chrome trace of both ranks: valid JSON, for every rank and step a
//   "ready" and a "reduce" event per bucket, each reduce starting after its bucket was
//   ready and ending before that step's optimizer; the metrics file has
//   exposed_comm_seconds;
// - a transport failure injected into the communication thread ends the job with
//   "rank 1: ..." and a failing exit code, without hanging;
// - bad values of the new options are exit 2 naming the option.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "testing/run_command.h"

namespace dtrain::testing {
namespace {

using nlohmann::json;

void expect_output_has(const CommandResult& r, const std::string& text) {
  EXPECT_NE(r.output.find(text), std::string::npos) << "missing '" << text << "' in:\n" << r.output;
}

TEST(DtrainTimeline, EveryBucketOfEveryStepOnEveryRankNestsCorrectly) {
  const auto dir = make_temp_dir("timeline");
  const auto trace = dir + "/trace.json";
  const auto metrics = dir + "/metrics.jsonl";
  const int steps = 6;
  const auto r = run_dtrain(2, "--data synthetic --epochs 1 --max-steps " + std::to_string(steps) +
                                   " --bucket-mb 0.01 --progress never --timeline " + trace +
                                   " --metrics " + metrics);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream in(trace);
  ASSERT_TRUE(in) << trace;
  const json doc = json::parse(in);  // throws (fails the test) if it is not JSON
  const auto& events = doc.at("traceEvents");
  // (rank, step, bucket) -> ready time, reduce start and end; (rank, step) -> optimizer start.
  std::map<std::tuple<int, int, int>, double> ready, reduce_begin, reduce_end;
  std::map<std::pair<int, int>, double> optimizer;
  std::map<int, int> forward_spans;
  for (const auto& e : events) {
    const std::string cat = e.value("cat", "");
    if (cat == "forward") ++forward_spans[e.at("pid").get<int>()];
    if (!e.contains("args")) continue;
    const auto& a = e.at("args");
    const int rank = e.at("pid").get<int>();
    if (cat == "optimizer") {
      optimizer[{rank, a.at("step").get<int>()}] = e.at("ts").get<double>();
      continue;
    }
    if (cat != "ready" && cat != "reduce") continue;
    const auto key = std::make_tuple(rank, a.at("step").get<int>(), a.at("bucket").get<int>());
    if (cat == "ready") {
      EXPECT_FALSE(ready.count(key)) << "two ready events for one bucket";
      EXPECT_EQ(e.at("tid").get<int>(), 0) << "ready is the main thread's";
      ready[key] = e.at("ts").get<double>();
    } else {
      EXPECT_FALSE(reduce_begin.count(key)) << "two reductions of one bucket";
      EXPECT_EQ(e.at("tid").get<int>(), 1) << "reductions run on the communication thread";
      reduce_begin[key] = e.at("ts").get<double>();
      reduce_end[key] = e.at("ts").get<double>() + e.at("dur").get<double>();
    }
  }
  // The cnn at 0.01 MiB buckets: fc2 | fc1 | conv1, three buckets.
  EXPECT_EQ(ready.size(), 2u * steps * 3) << "one ready event per bucket, step and rank";
  EXPECT_EQ(reduce_begin.size(), ready.size());
  for (const auto& [key, t_ready] : ready) {
    const auto [rank, step, bucket] = key;
    ASSERT_TRUE(reduce_begin.count(key))
        << "rank " << rank << " step " << step << " bucket " << bucket << " was never reduced";
    EXPECT_GE(reduce_begin[key], t_ready) << "reduced before it was ready";
    const std::pair<int, int> at{rank, step};
    ASSERT_TRUE(optimizer.count(at));
    EXPECT_LE(reduce_end[key], optimizer[at]) << "optimizer ran before the sum";
  }
  EXPECT_GT(forward_spans[0], 0);
  EXPECT_GT(forward_spans[1], 0);
  const auto lines = read_lines(metrics);
  ASSERT_FALSE(lines.empty());
  const auto epoch = json::parse(lines[0]);
  EXPECT_GE(epoch.at("exposed_comm_seconds").get<double>(), 0.0);
  EXPECT_GT(epoch.at("comm_seconds").get<double>(), 0.0);
}

TEST(DtrainOverlap, ATransportFailureOnTheCommunicationThreadEndsTheJob) {
  // Rank 1's 5th bucket (step 2: three buckets per step) fails on its communication thread.
  const auto r =
      run_command("DTRAIN_INJECT_COMM_FAULT=1:5 timeout 120 " + std::string(DTRAIN_MPIEXEC) +
                  " -n 2 --oversubscribe --bind-to none " + DTRAIN_BINARY +
                  " --data synthetic --epochs 1 --max-steps 20 " + "--progress never");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.exit_code, 124) << "the job hung until timeout killed it:\n" << r.output;
  expect_output_has(r, "rank 1: injected transport failure");
}

TEST(DtrainOverlap, BadOptionValuesAreExit2NamingTheOption) {
  for (const auto& [args, option] : std::vector<std::pair<std::string, std::string>>{
           {"--overlap maybe", "--overlap"},
           {"--bucket-mb 0", "--bucket-mb"},
           {"--bucket-mb 2x", "--bucket-mb"},
           {"--grad-compression int8", "--grad-compression"},
           {"--error-feedback", "--error-feedback"}}) {
    const auto r = run_dtrain(0, "--data synthetic " + args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    expect_output_has(r, option);
  }
}

TEST(DtrainOverlap, OverlapAndCompressionTrainOnTwoRanks) {
  const auto r = run_dtrain(2,
                            "--data synthetic --epochs 1 --max-steps 8 --progress never "
                            "--grad-compression bf16 --error-feedback --overlap on");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_output_has(r, "gradients bf16 + error feedback");
}

}  // namespace
}  // namespace dtrain::testing
