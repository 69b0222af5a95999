#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/model_registry.h"
#include "data/fashion_mnist.h"
#include "data/synthetic.h"
#include "dist/mpi/mpi_communicator.h"
#include "nn/model_config.h"
#include "tensor/blas.h"
#include "train/trainer.h"

namespace dtrain::cli {

namespace {

// --data synthetic: sizes chosen so an e2e run takes seconds; --val-size does not apply.
constexpr std::size_t kSyntheticTrain = 6000, kSyntheticVal = 1000, kSyntheticTest = 1000;

data::DataSplits load_data(const CliOptions& o) {
  if (o.data == "synthetic") {
    return data::make_synthetic(kSyntheticTrain, kSyntheticVal, kSyntheticTest, o.train.seed);
  }
  return data::load_idx_directory(o.data, o.val_size);
}

std::string banner(const CliOptions& o, const nn::Sequential& model, const data::DataSplits& data,
                   const dist::Communicator& comm) {
  const int p = comm.size();
  const int b = o.train.global_batch;
  char line[512];
  std::snprintf(line, sizeof line,
                "dtrain: model %s (%zu parameters), %s: %zu train / %zu val / %zu test\n"
                "dtrain: %d rank(s) x %d BLAS thread(s), global batch %d (%d-%d per rank), "
                "%s lr %g, %s allreduce",
                model.name().c_str(), model.arena().num_params(), data.description.c_str(),
                data.train.size(), data.val.size(), data.test.size(), p, o.threads, b, b / p,
                (b + p - 1) / p, o.train.optimizer.kind.c_str(), static_cast<double>(o.train.lr),
                o.allreduce.c_str());
  return line;
}

}  // namespace

int run_train(const CliOptions& o) {
  dist::MpiCommunicator comm(o.allreduce);
  tensor::set_blas_threads(o.threads);

  std::unique_ptr<nn::Sequential> model;
  data::DataSplits data;
  agree_on_setup(comm, [&] {
    if (o.train.global_batch < comm.size()) {
      throw ConfigError("--batch-size: got " + std::to_string(o.train.global_batch) +
                        ", expected at least the number of ranks (" + std::to_string(comm.size()) +
                        "): it is the GLOBAL batch");
    }
    model = nn::build_model(load_model_config(o.train.model_name));
    data = load_data(o);
    const auto& in = model->input_shape();
    if (in[0] != std::size_t(data.train.height) || in[1] != std::size_t(data.train.width) ||
        in[2] != std::size_t(data.train.channels)) {
      throw ConfigError("--model " + o.train.model_name + " expects inputs " + in.to_string() +
                        " but --data " + o.data + " holds " + std::to_string(data.train.height) +
                        "x" + std::to_string(data.train.width) + "x" +
                        std::to_string(data.train.channels) + " images");
    }
    // The sampler's checks (batch no larger than the training set) belong to setup too.
    data::ShardedSampler probe(data.train.size(), std::size_t(o.train.global_batch), comm.rank(),
                               comm.size(), o.train.seed);
  });

  train::TrainResult result;
  run_guarded(comm, [&] {
    train::Trainer trainer(comm, *model, data, o.train);
    if (comm.rank() == 0) std::printf("%s\n", banner(o, *model, data, comm).c_str());
    result = trainer.run();
  });
  if (comm.rank() == 0) {
    std::printf(
        "test_loss %.4f  test_acc %.4f  (%lld test examples; %lld steps, %.1f s, %.0f "
        "samples/s in training)\n",
        result.test.loss, result.test.accuracy, static_cast<long long>(result.test.count),
        static_cast<long long>(result.steps), result.seconds,
        result.train_seconds > 0 ? result.samples / result.train_seconds : 0.0);
    std::fflush(stdout);
  }
  return kExitOk;
}

}  // namespace dtrain::cli
