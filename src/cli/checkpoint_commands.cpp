// dtrain inspect and dtrain eval: read a checkpoint, report on it.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "ckpt/checkpoint_codec.h"
#include "ckpt/checkpoint_files.h"
#include "cli/commands.h"
#include "dist/mpi/mpi_communicator.h"
#include "tensor/blas.h"
#include "train/trainer.h"

namespace dtrain::cli {

namespace {

std::size_t num_params(const train::TrainState& s) {
  std::size_t n = 0;
  for (const auto& slot : s.slots) n += slot.size;
  return n;
}

}  // namespace

int run_inspect(const CliOptions& o) {
  const std::string path = ckpt::resolve_checkpoint_path(o.checkpoint);
  const std::string bytes = ckpt::read_checkpoint_bytes(path);
  const auto s = ckpt::decode_checkpoint(bytes, path);  // verifies the SHA-256
  nlohmann::json metrics = nlohmann::json::array();
  for (const auto& line : s.metrics) metrics.push_back(nlohmann::json::parse(line));
  nlohmann::json j{{"file", path},
                   {"bytes", bytes.size()},
                   {"format_version", ckpt::kCheckpointFormatVersion},
                   {"checksum", "ok"},
                   {"model", s.model.name},
                   {"model_option", s.model_name},
                   {"layers", s.model.layers.size()},
                   {"num_params", num_params(s)},
                   {"step", s.global_step},
                   {"epoch", s.epoch},
                   {"step_in_epoch", s.step_in_epoch},
                   {"world_size", s.world_size},
                   {"optimizer", s.optimizer.kind},
                   {"optimizer_steps", s.optimizer_steps},
                   {"global_batch", s.global_batch},
                   {"lr", s.lr},
                   {"seed", s.seed},
                   {"epochs", s.epochs},
                   {"metrics", metrics},
                   {"params_sha256", ckpt::params_sha256(s)}};
  if (o.json) {
    std::printf("%s\n", j.dump().c_str());
    return kExitOk;
  }
  std::printf("%s: dtrain checkpoint, format %u, %zu bytes, checksum ok\n", path.c_str(),
              ckpt::kCheckpointFormatVersion, bytes.size());
  std::printf("  model          %s (--model %s), %zu layers, %zu parameters\n",
              s.model.name.c_str(), s.model_name.c_str(), s.model.layers.size(), num_params(s));
  std::printf("  position       global step %lld, epoch %d (%lld steps into it)\n",
              static_cast<long long>(s.global_step), s.epoch,
              static_cast<long long>(s.step_in_epoch));
  std::printf("  run            %d rank(s), global batch %d, %s lr %g, seed %llu, %d epochs\n",
              s.world_size, s.global_batch, s.optimizer.kind.c_str(), static_cast<double>(s.lr),
              static_cast<unsigned long long>(s.seed), s.epochs);
  std::printf("  params_sha256  %s\n", ckpt::params_sha256(s).c_str());
  for (const auto& m : metrics) {
    if (m.value("event", "") != "epoch") continue;
    std::printf("  epoch %-3d      train_loss %.4f  val_acc %.4f\n", m.value("epoch", 0),
                m.value("train_loss", 0.0), m.value("val_acc", 0.0));
  }
  return kExitOk;
}

int run_eval(const CliOptions& o) {
  dist::MpiCommunicator comm("ring");
  tensor::set_blas_threads(o.threads);
  train::TrainState state;
  std::unique_ptr<nn::Sequential> model;
  data::DataSplits data;
  std::string path;
  agree_on_setup(comm, [&] {
    path = ckpt::resolve_checkpoint_path(o.checkpoint);
    state = ckpt::decode_checkpoint(ckpt::read_checkpoint_bytes(path), path);
    model = nn::build_model(state.model);
    if (model->arena().arena_size() != state.params.size()) {
      throw CheckpointError(path + ": the stored parameters do not fit model '" + state.model.name +
                            "'");
    }
    std::copy(state.params.begin(), state.params.end(), model->arena().params().begin());
    CliOptions data_options = o;
    data_options.train.seed = state.seed;  // the synthetic set is generated from the run's seed
    data = load_data(data_options);
  });
  train::EvalResult r;
  run_guarded(comm, [&] { r = train::evaluate(*model, data.test, comm, 500); });
  if (comm.rank() != 0) return kExitOk;
  if (o.json) {
    std::printf("%s\n", nlohmann::json{{"event", "eval"},
                                       {"checkpoint", path},
                                       {"step", state.global_step},
                                       {"test_loss", r.loss},
                                       {"test_acc", r.accuracy},
                                       {"test_examples", r.count}}
                            .dump()
                            .c_str());
  } else {
    std::printf("%s (step %lld): test_loss %.4f  test_acc %.4f  (%lld test examples)\n",
                path.c_str(), static_cast<long long>(state.global_step), r.loss, r.accuracy,
                static_cast<long long>(r.count));
  }
  return kExitOk;
}

}  // namespace dtrain::cli
