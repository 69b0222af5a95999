// Synchronized batchnorm under real MPI (run by CTest at np = 2, 3, 4): a cnn with
// batchnorm after its convolution and its hidden dense layer reaches the same parameters
// (running statistics included) at np=P as at np=1 with the same global batch after 20
// steps, with the gradient buckets reduced on the main thread and on the communication
// thread. Unsynced batchnorm normalizes each rank's slice alone: the test prints how far it
// ends from np=1 and checks it is visibly different, and that replicas still agree.
#include <gtest/gtest.h>

#include <iostream>

#include "comm/mpi/mpi_communicator.h"
#include "comm/self_communicator.h"
#include "data/synthetic.h"
#include "nn/model_config.h"
#include "testing/small_problem.h"
#include "train/trainer.h"

namespace dtrain {
namespace {

using testing::relative_difference;

nn::ModelConfig batchnorm_cnn(bool sync) {
  return {"batchnorm_cnn",
          28,
          28,
          1,
          {{.type = "conv2d", .filters = 4, .kernel = 3, .stride = 2},
           {.type = "batchnorm", .sync = sync},
           {.type = "relu"},
           {.type = "maxpool2d", .kernel = 2},
           {.type = "flatten"},
           {.type = "dense", .units = 16},
           {.type = "batchnorm", .sync = sync},
           {.type = "relu"},
           {.type = "dense", .units = 10}}};
}

train::TrainConfig config_for(bool overlap, const std::string& optimizer) {
  train::TrainConfig c;
  c.model_name = "batchnorm_cnn";
  c.epochs = 1;
  c.global_batch = 30;  // not a multiple of 4: uneven slices, so counts must be summed too
  c.lr = optimizer == "sgd" ? 0.1f : 0.05f;
  c.optimizer.kind = optimizer;
  c.max_steps = 20;
  c.seed = 5;
  c.overlap = overlap;
  c.progress = train::ProgressMode::kNever;
  c.log_epochs = false;
  return c;
}

std::vector<float> train_params(comm::Communicator& comm, bool sync, bool overlap,
                                const std::string& optimizer = "momentum") {
  static const data::DataSplits data = data::make_synthetic(600, 60, 90, 5);
  auto model = nn::build_model(batchnorm_cnn(sync));
  train::Trainer trainer(comm, *model, data, config_for(overlap, optimizer));
  EXPECT_EQ(trainer.run().steps, 20);
  const auto p = model->arena().params();
  return {p.begin(), p.end()};
}

// Not Adam: a bias right before a batchnorm has a gradient that is zero up to rounding (the
// normalization subtracts its effect), and Adam divides by the gradient's own size, so that
// rounding becomes steps of lr in directions that differ between np=1 and np=P (measured
// 9e-4 relative here after 20 steps). SGD and momentum scale the rounding by lr instead.
class SyncBatchNorm : public ::testing::TestWithParam<std::string> {};

TEST_P(SyncBatchNorm, SameParametersAsOneRankAfterTwentySteps) {
  comm::SelfCommunicator self;
  const auto single = train_params(self, true, false, GetParam());
  for (const bool overlap : {false, true}) {
    comm::MpiCommunicator comm("auto");
    const auto parallel = train_params(comm, true, overlap, GetParam());
    ASSERT_EQ(parallel.size(), single.size());
    const double rel = relative_difference(parallel, single);
    if (comm.rank() == 0) {
      std::cout << "synced batchnorm, " << GetParam() << ", np=" << comm.size() << " overlap "
                << overlap << " vs np=1 after 20 steps: relative difference " << rel << "\n";
    }
    EXPECT_LE(rel, 1e-5) << "np=" << comm.size() << " overlap " << overlap;
  }
}

INSTANTIATE_TEST_SUITE_P(Optimizers, SyncBatchNorm, ::testing::Values("sgd", "momentum"));

TEST(UnsyncedBatchNorm, DiffersFromOneRankButReplicasAgree) {
  comm::SelfCommunicator self;
  const auto single = train_params(self, false, false);
  comm::MpiCommunicator comm("auto");
  const auto parallel = train_params(comm, false, true);
  const double rel = relative_difference(parallel, single);
  if (comm.rank() == 0) {
    std::cout << "unsynced batchnorm, np=" << comm.size()
              << " vs np=1 after 20 steps: relative difference " << rel << "\n";
  }
  EXPECT_GT(rel, 1e-4);
  // Every rank ends with rank 0's bits (parameters and running statistics).
  std::vector<float> root = parallel;
  comm.broadcast(std::span<float>(root), 0);
  EXPECT_EQ(root, parallel) << "rank " << comm.rank();
}

}  // namespace
}  // namespace dtrain
