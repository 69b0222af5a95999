// Data-parallel semantics under real MPI (run by CTest at np = 2, 3, 4):
// - np=1 and np=P with the same global batch reach the same parameters (docs/design.md "Distributed semantics");
// - replicas stay bit-identical after training steps;
// - a parameter-layout or configuration mismatch fails on every rank, never hangs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/errors.h"
#include "data/synthetic.h"
#include "comm/mpi/mpi_communicator.h"
#include "comm/self_communicator.h"
#include "nn/model_config.h"
#include "testing/mpi_test_env.h"
#include "testing/small_problem.h"
#include "train/replica_check.h"
#include "train/trainer.h"

namespace dtrain {
namespace {

using testing::relative_difference;
using testing::small_cnn;

const data::DataSplits& small_data() {
  static const data::DataSplits splits = data::make_synthetic(600, 60, 90, 5);
  return splits;
}

train::TrainConfig config_for(const std::string& optimizer, int steps) {
  train::TrainConfig c;
  c.model_name = "small_cnn";
  c.epochs = 1;
  c.global_batch = 30;  // not a multiple of 4: uneven per-rank slices
  c.lr = optimizer == "sgd" ? 0.05f : 0.002f;
  c.optimizer.kind = optimizer;
  c.max_steps = steps;
  c.seed = 11;
  c.progress = train::ProgressMode::kNever;
  c.log_epochs = false;
  return c;
}

std::vector<float> train_params(comm::Communicator& comm, const train::TrainConfig& config,
                                train::TrainResult* result = nullptr) {
  auto model = nn::build_model(small_cnn());
  train::Trainer trainer(comm, *model, small_data(), config);
  auto r = trainer.run();
  if (result) *result = r;
  const auto p = model->arena().params();
  return {p.begin(), p.end()};
}

class DataParallel : public ::testing::TestWithParam<std::string> {};

TEST_P(DataParallel, SameParametersAsOneRankWithTheSameGlobalBatch) {
  comm::SelfCommunicator self;
  const auto config = config_for(GetParam(), 5);
  const auto single = train_params(self, config);  // every rank computes the np=1 reference
  comm::MpiCommunicator comm("ring");
  train::TrainResult result;
  const auto parallel = train_params(comm, config, &result);
  EXPECT_EQ(result.steps, 5);
  ASSERT_EQ(single.size(), parallel.size());
  const double rel = relative_difference(parallel, single);
  EXPECT_LE(rel, 1e-5) << "np=" << comm.size() << " vs np=1, optimizer " << GetParam();
  // And it actually trained: the parameters moved away from their initial values.
  comm::SelfCommunicator self0;
  auto init_config = config;
  init_config.max_steps = 0;
  init_config.epochs = 1;
  auto model = nn::build_model(small_cnn());
  model->init_params(config.seed);
  const auto p0 = model->arena().params();
  EXPECT_GT(relative_difference(single, {p0.begin(), p0.end()}), 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Optimizers, DataParallel, ::testing::Values("sgd", "momentum", "adam"));

TEST(DataParallel, ReplicasStayBitIdenticalWithBothAllreduces) {
  for (const char* algo : {"ring", "mpi"}) {
    comm::MpiCommunicator comm(algo);
    const auto params = train_params(comm, config_for("adam", 12));
    const auto hashes = comm.allgather(test::fingerprint(params));
    for (std::size_t r = 1; r < hashes.size(); ++r) {
      EXPECT_EQ(hashes[r], hashes[0]) << algo << ": rank " << r << " diverged from rank 0";
    }
  }
}

TEST(DataParallel, EvaluationCountsEveryExampleOnce) {
  comm::MpiCommunicator comm("ring");
  auto model = nn::build_model(small_cnn());
  model->init_params(3);
  // 90 test examples over 2, 3 or 4 ranks (uneven for 4), and a set smaller than the ranks.
  const auto full = train::evaluate(*model, small_data().test, comm, 7);
  comm::SelfCommunicator self;
  const auto local = train::evaluate(*model, small_data().test, self, 1000);
  EXPECT_EQ(full.count, 90);
  EXPECT_NEAR(full.loss, local.loss, 1e-6);  // other batch sizes, other GEMM rounding
  EXPECT_DOUBLE_EQ(full.accuracy, local.accuracy);
  EXPECT_EQ(full.confusion.total(), 90);  // the confusion matrix counts every example once
  EXPECT_EQ(full.confusion.counts, local.confusion.counts);
  data::Dataset tiny = small_data().test;
  tiny.pixels.resize(tiny.sample_size() * 1);
  tiny.labels.resize(1);
  EXPECT_EQ(train::evaluate(*model, tiny, comm, 7).count, 1);
}

TEST(DataParallel, LayoutMismatchFailsOnEveryRankWithAClearMessage) {
  comm::MpiCommunicator comm("ring");
  auto config = small_cnn();
  if (comm.rank() == comm.size() - 1) config.layers[4].units = 17;  // one rank differs
  auto model = nn::build_model(config);
  try {
    train::Trainer trainer(comm, *model, small_data(), config_for("adam", 1));
    ADD_FAILURE() << "rank " << comm.rank() << " did not detect the mismatch";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("parameter layout"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(comm.size() - 1)), std::string::npos) << msg;
    EXPECT_TRUE(e.collective());
  }
}

TEST(DataParallel, ConfigurationMismatchFailsOnEveryRank) {
  comm::MpiCommunicator comm("ring");
  auto model = nn::build_model(small_cnn());
  auto config = config_for("adam", 1);
  if (comm.rank() == 1) config.lr = 0.5f;
  EXPECT_THROW(train::Trainer(comm, *model, small_data(), config), ConfigError);
}

}  // namespace
}  // namespace dtrain
