#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include "ckpt/checkpoint_codec.h"
#include "ckpt/checkpoint_files.h"
#include "cli/commands.h"
#include "cli/model_registry.h"
#include "comm/fault_injection.h"
#include "comm/mpi/mpi_communicator.h"
#include "comm/mpi/mpi_watchdog.h"
#include "core/exit_reason.h"
#include "data/data_source.h"
#include "data/text_dataset.h"
#include "nn/language_model_spec.h"
#include "nn/model_config.h"
#include "tensor/blas.h"
#include "train/stop_signal.h"
#include "train/trainer.h"

namespace dtrain::cli {

namespace {

std::string banner(const TrainOptions& o, const train::TrainConfig& config, const train::Task& task,
                   const data::DataSplits& data, const comm::Communicator& comm) {
  const int p = comm.size();
  const int b = o.train.global_batch;
  std::size_t params = 0;
  std::string parts;
  for (const auto& m : task.models()) {
    params += m.model->arena().num_params();
    if (task.models().size() > 1) {
      parts += (parts.empty() ? ": " : " + ") + m.role + " " +
               std::to_string(m.model->arena().num_params());
    }
  }
  // --accumulate N: the ranks' parts of each of the N micro-batches.
  const int n = config.accumulate, m = b / n;
  const std::string micro =
      n > 1 ? std::to_string(n) + " micro-batches of " + std::to_string(m) + ", " : "";
  char line[768];
  std::snprintf(line, sizeof line,
                "dtrain: model %s (task %s, %zu parameters%s), %s: %zu train / %zu val / %zu "
                "test\n"
                "dtrain: %d rank(s) x %d BLAS thread(s), global batch %d (%s%d-%d per rank), "
                "%s lr %g, %s allreduce, overlap %s, gradients %s%s",
                config.model_spec.name.c_str(), task.kind().c_str(), params, parts.c_str(),
                data.description.c_str(), data.train.size(), data.val.size(), data.test.size(), p,
                o.threads, b, micro.c_str(), m / p, (m + p - 1) / p, config.optimizer.kind.c_str(),
                static_cast<double>(config.lr), o.allreduce.c_str(), o.overlap.c_str(),
                config.grad_compression.c_str(), config.error_feedback ? " + error feedback" : "");
  return line;
}

// --output-dir is created and probed on rank 0 before training, like --checkpoint-dir, so
// a typo fails at start-up and not at the first epoch end.
void prepare_output_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    throw ConfigError("--output-dir: cannot create directory '" + dir + "'" +
                      (ec ? ": " + ec.message() : std::string(" (a file is in the way)")));
  }
  const std::string probe = dir + "/.write-probe";
  {
    std::ofstream out(probe);
    out << "ok";
    out.flush();
    if (!out) throw ConfigError("--output-dir: '" + dir + "' is not writable");
  }
  std::filesystem::remove(probe, ec);
}

// Collective: rank 0 reads and validates the checkpoint, then every rank gets its bytes.
std::optional<train::TrainState> load_resume_state(comm::Communicator& comm, const TrainOptions& o,
                                                   std::string& source) {
  std::string bytes;
  agree_on_setup(comm, [&] {
    if (comm.rank() != 0 || !o.resume) return;
    if (o.resume_path.empty()) {
      const auto latest = ckpt::CheckpointDirectory(o.checkpoint_dir, o.keep).latest();
      if (!latest) return;  // nothing saved yet: a fresh start (what a requeued job wants)
      source = *latest;
    } else {
      source = ckpt::resolve_checkpoint_path(o.resume_path);
    }
    bytes = ckpt::read_checkpoint_bytes(source);
    ckpt::decode_checkpoint(bytes, source);  // validate on rank 0 before anyone relies on it
  });
  std::uint64_t size = bytes.size();
  comm.broadcast(std::as_writable_bytes(std::span<std::uint64_t>(&size, 1)), 0);
  if (size == 0) return std::nullopt;
  bytes.resize(size);
  comm.broadcast(std::as_writable_bytes(std::span<char>(bytes.data(), bytes.size())), 0);
  return ckpt::decode_checkpoint(bytes, source);
}

}  // namespace

data::DataSplits load_data(data::DataOptions options, std::uint64_t seed) {
  if (options.num_classes < 0) {
    throw ConfigError("--num-classes: got " + std::to_string(options.num_classes) +
                      ", expected an integer >= 0 (0: 1 + the largest label)");
  }
  options.seed = seed;
  return data::load_data_splits(options);
}

data::DataSplits load_language_model_data(const data::DataOptions& options,
                                          nn::ModelConfig& model) {
  if (!options.path.starts_with(data::kTextDataPrefix)) {
    throw ConfigError("model '" + model.name + "' is a language model: it needs --data " +
                      "text:FILE (got --data " + options.path + ")");
  }
  data::DataOptions d = options;
  d.seq_len = model.input_height;
  auto data = data::load_data_splits(d);
  nn::resolve_vocabulary(model, data.vocabulary);
  return data;
}

void check_data_fits(const train::Task& task, const data::DataSplits& data,
                     const std::string& model_name, const std::string& data_path) {
  if (task.needs_labels() && data.train.num_classes == 0) {
    throw ConfigError("--model " + model_name + " is a classifier but --data " + data_path +
                      " has no labels");
  }
  const auto& in = task.example_shape();
  const data::Dataset& d = data.test.size() > 0 ? data.test : data.train;
  if (in[0] != std::size_t(d.height) || in[1] != std::size_t(d.width) ||
      in[2] != std::size_t(d.channels)) {
    throw ConfigError("--model " + model_name + " expects inputs " + in.to_string() +
                      " but --data " + data_path + " holds " + d.shape_text() + " examples");
  }
}

int run_train(const TrainOptions& given) {
  TrainOptions o = given;  // the model's own recipe may fill in the batch size below
  // Handlers first: a warning signal that arrives while data loads must not kill the job;
  // the flag it sets makes the ranks stop (with a checkpoint) at the first step boundary.
  train::install_stop_signal_handlers();
  comm::MpiCommunicator mpi_comm(o.allreduce, comm::MpiCommunicator::kChunkByTopology,
                                 o.allreduce_table);
  // After the communicator (its start is collective too) and before setup, so a rank that
  // stops while the others load data is named once training would have begun.
  const auto watchdog = comm::start_watchdog(
      {.comm_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(o.comm_timeout * 1000)),
       .stall_warning =
           std::chrono::milliseconds(static_cast<std::int64_t>(o.stall_warning * 1000))});
  std::optional<comm::FaultInjectingCommunicator> faulty;
  if (const auto plan = comm::fault_plan_from_environment()) faulty.emplace(mpi_comm, *plan);
  comm::Communicator& comm = faulty ? static_cast<comm::Communicator&>(*faulty) : mpi_comm;
  tensor::set_blas_threads(o.threads);

  std::unique_ptr<train::Task> task;
  nn::ModelConfig model_config;
  data::DataSplits data;
  std::optional<ckpt::CheckpointDirectory> checkpoints;
  agree_on_setup(comm, [&] {
    model_config = load_model_config(o.train.model_name);
    if (!o.batch_size_given && model_config.defaults.batch_size > 0) {
      o.train.global_batch = model_config.defaults.batch_size;
    }
    if (o.train.global_batch < comm.size()) {
      throw ConfigError("--batch-size: got " + std::to_string(o.train.global_batch) +
                        (o.batch_size_given ? "" : " (the model's defaults.batch_size)") +
                        ", expected at least the number of ranks (" + std::to_string(comm.size()) +
                        "): it is the GLOBAL batch");
    }
    // A language model's data depend on it (the sequence length) and it on its data (the
    // vocabulary), so its data load first.
    const bool language_model = model_config.task_kind() == nn::kTaskLanguageModel;
    if (language_model) data = load_language_model_data(o.data, model_config);
    task = train::make_task(model_config, o.train.seed);
    if (!o.train.output_dir.empty() && comm.rank() == 0) prepare_output_dir(o.train.output_dir);
    if (!o.checkpoint_dir.empty()) {
      checkpoints.emplace(o.checkpoint_dir, o.keep);
      if (comm.rank() == 0) checkpoints->prepare();  // fail before training, not after
    }
    if (!language_model) data = load_data(o.data, o.train.seed);
    check_data_fits(*task, data, o.train.model_name, o.data.path);
    // The sampler's checks (batch no larger than the training set) belong to setup too.
    data::ShardedSampler probe(data.train.size(), std::size_t(o.train.global_batch), comm.rank(),
                               comm.size(), o.train.seed);
  });

  std::string resume_source;
  const auto resume = load_resume_state(comm, o, resume_source);
  std::optional<ckpt::FileCheckpointStore> store;
  if (checkpoints) store.emplace(*checkpoints);

  train::TrainConfig config = o.train;
  config.model_spec = model_config;
  config.apply_model_defaults(o.lr_given);
  config.stop_on_signals = true;
  config.allreduce_fingerprint = mpi_comm.allreduce_fingerprint();
  train::TrainResult result;
  run_guarded(comm, [&] {
    train::Trainer trainer(comm, *task, data, config, store ? &*store : nullptr,
                           resume ? &*resume : nullptr);
    if (comm.rank() == 0) {
      std::printf("%s\n", banner(o, config, *task, data, comm).c_str());
      if (resume) {
        std::printf("dtrain: resuming from %s (epoch %d, global step %lld, saved by %d rank(s))\n",
                    resume_source.c_str(), resume->epoch,
                    static_cast<long long>(resume->global_step), resume->world_size);
      }
      std::fflush(stdout);
    }
    result = trainer.run();
  });
  train::remove_stop_signal_handlers();
  if (result.stopped_by_signal) {
    if (comm.rank() == 0) {
      if (result.checkpoint_written_at_stop) {
        // srun may kill the other ranks once this one exits 75 (--kill-on-bad-exit) and then
        // report their 143: the batch script reads the truth here (slurm/train.sbatch).
        append_exit_reason("stopped-with-checkpoint step " + std::to_string(result.steps));
        std::printf(
            "dtrain: stopped by signal %d at step %lld; checkpoint %s written, continue "
            "with --resume\n",
            train::stop_signal_number(), static_cast<long long>(result.steps),
            result.last_checkpoint.c_str());
      } else {
        std::fprintf(stderr,
                     "dtrain: stopped by signal %d at step %lld; no --checkpoint-dir, so nothing "
                     "was saved\n",
                     train::stop_signal_number(), static_cast<long long>(result.steps));
      }
      std::fflush(stdout);
      std::fflush(stderr);
    }
    return result.checkpoint_written_at_stop ? kExitStopped : kExitRuntime;
  }
  if (comm.rank() == 0 && o.plot) {
    const auto dot = o.train.metrics_path.rfind('.');
    const std::string png =
        (dot == std::string::npos ? o.train.metrics_path : o.train.metrics_path.substr(0, dot)) +
        ".png";
    plot_metrics(o.train.metrics_path, png);
  }
  if (comm.rank() == 0) {
    std::printf("%s  (%lld test examples; %lld steps, %.1f s, %.0f samples/s in training)\n",
                result.final_report.text.c_str(),
                static_cast<long long>(result.final_report.examples),
                static_cast<long long>(result.steps), result.seconds,
                result.train_seconds > 0 ? result.samples / result.train_seconds : 0.0);
    std::fflush(stdout);
  }
  return kExitOk;
}

}  // namespace dtrain::cli
