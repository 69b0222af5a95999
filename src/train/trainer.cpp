#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>

#include "comm/liveness/progress_state.h"
#include "core/errors.h"
#include "core/hash.h"
#include "data/batch.h"
#include "optim/grad_clip.h"
#include "optim/weight_decay.h"
#include "train/checkpointing.h"
#include "train/finite_check.h"
#include "train/micro_batches.h"
#include "train/rank0_write.h"
#include "train/replica_check.h"
#include "train/stop_signal.h"
#include "train/timeline_file.h"

namespace dtrain::train {

using Clock = std::chrono::steady_clock;
using tensor::Shape;

namespace {

// Separates the GAN's per-step noise stream from the per-rank dropout streams.
constexpr std::uint64_t kStepStream = 0x6e6f697365ULL;  // "noise"

std::unique_ptr<comm::CommThread> comm_thread_for(const comm::Communicator& comm,
                                                  const TrainConfig& config) {
  if (!config.overlap || comm.size() == 1) return nullptr;
  return std::make_unique<comm::CommThread>();
}

comm::SyncOptions sync_options(const TrainConfig& config, Timeline* timeline) {
  return {.bucket_mb = config.bucket_mb,
          .compression = comm::parse_compression(config.grad_compression),
          .error_feedback = config.error_feedback,
          .timeline = timeline};
}

// The layers' parameter ranges in the form the bucket planner takes.
std::vector<comm::LayerParams> layer_params(const nn::Sequential& model) {
  std::vector<comm::LayerParams> layers;
  for (std::size_t i = 0; i < model.num_layers(); ++i) {
    const auto& r = model.layer_params(i);
    layers.push_back({i, r.begin, r.end});
  }
  return layers;
}

}  // namespace

Trainer::Trainer(comm::Communicator& comm, nn::Sequential& model, const data::DataSplits& data,
                 const TrainConfig& config, CheckpointStore* store, const TrainState* resume)
    : Trainer(comm, make_single_model_task(config.model_spec.task_kind(), model), nullptr, data,
              config, store, resume) {}

Trainer::Trainer(comm::Communicator& comm, Task& task, const data::DataSplits& data,
                 const TrainConfig& config, CheckpointStore* store, const TrainState* resume)
    : Trainer(comm, nullptr, &task, data, config, store, resume) {}

Trainer::Trainer(comm::Communicator& comm, std::unique_ptr<Task> owned, Task* task,
                 const data::DataSplits& data, const TrainConfig& config, CheckpointStore* store,
                 const TrainState* resume)
    : comm_thread_(comm_thread_for(comm, config)),
      threaded_comm_(comm_thread_
                         ? std::make_unique<comm::ThreadedCommunicator>(comm, *comm_thread_)
                         : nullptr),
      comm_(threaded_comm_ ? static_cast<comm::Communicator&>(*threaded_comm_) : comm),
      reduce_comm_(comm),
      batch_stats_(comm_),
      owned_task_(std::move(owned)),
      task_(owned_task_ ? *owned_task_ : *task),
      data_(data),
      config_(config),
      sampler_(data.train.size(), micro_batch_size(config, comm.size()), comm.rank(), comm.size(),
               config.seed),
      timeline_(config.timeline_path.empty() ? nullptr : std::make_unique<Timeline>()),
      synchronizer_(reduce_comm_, comm_thread_.get(), sync_options(config, timeline_.get())),
      schedule_(make_lr_schedule(config, static_cast<std::int64_t>(steps_per_epoch()))),
      metrics_(comm.rank() == 0 ? config.metrics_path : std::string(), false),
      progress_(
          config.progress, comm.rank() == 0 && config.log_epochs,
          RunPlan{config.epochs, static_cast<std::int64_t>(steps_per_epoch()), config.max_steps},
          config.global_batch),
      store_(store),
      updates_(*this),
      epoch_sums_(task_.num_sums(), 0.0) {
  if (task_.needs_labels() && data.train.num_classes == 0) {
    throw ConfigError("model '" + config.model_name +
                      "' is a classifier but the data set has no labels");
  }
  const auto& models = task_.models();
  if (config.accumulate > 1 && models.size() > 1) {
    throw ConfigError("--accumulate: the " + task_.kind() +
                      " step updates two networks in turn, each on gradients through the "
                      "other, and does not accumulate; use a smaller --batch-size instead");
  }
  const auto& decay_layers = config.model_spec.defaults.weight_decay_layers;
  if (config.optimizer.kind == "adamw") {
    std::vector<const nn::Sequential*> networks;
    for (const auto& m : models) networks.push_back(m.model);
    optim::check_layer_names(networks, decay_layers);
  }
  grad_norms_.assign(models.size(), 0.0);
  if (config.early_stopping > 0 || config.keep_best) {
    early_.emplace(config.early_stopping, config.monitor, task_.kind());
    if (data.val.size() == 0) {
      throw ConfigError(
          std::string(config.early_stopping > 0 ? "--early-stopping" : "--keep-best") +
          ": judges epochs by the validation set, which is empty (--val-size 0)");
    }
  }
  for (const auto& m : models) {
    require_same_on_all_ranks(
        comm_, m.model->arena().layout_fingerprint(),
        m.role == "model" ? std::string("parameter layout") : "parameter layout of the " + m.role);
    optimizers_.push_back(optim::make_optimizer(config.optimizer, m.model->arena().arena_size(),
                                                config.optimizer.kind == "adamw"
                                                    ? optim::decayed_ranges(*m.model, decay_layers)
                                                    : std::vector<optim::ParamRange>{}));
    const auto layers = layer_params(*m.model);
    // The gradients live in a communicator array: where ranks share a host, the peers read
    // them in place (hierarchical allreduce without staging copies).
    auto& arena = m.model->arena();
    arena.place_grads(comm_.allocate_array(arena.arena_size()));
    const std::size_t index = synchronizer_.add_model(arena.grads(), layers);
    updates_.hooks.push_back(
        [this, index](std::size_t layer) { synchronizer_.layer_final(index, layer); });
    m.model->set_timeline(timeline_.get());
  }
  require_same_on_all_ranks(comm_, config_.fingerprint(), "run configuration");
  if (resume) {
    restore(*resume);
  } else if (comm_.rank() == 0) {
    // The first model from the seed itself (a classifier's parameters stay what they were
    // before tasks existed), any other from a stream of its own.
    for (std::size_t i = 0; i < models.size(); ++i) {
      models[i].model->init_params(i == 0 ? config_.seed
                                          : derive_seed(config_.seed, 0x6d6f64656cULL, i));
    }
  }
  // Rank 0's parameters are the truth; a resumed state is the same on every rank anyway.
  for (const auto& m : models) comm_.broadcast(m.model->arena().params(), 0);
  batch_x_.resize(task_.example_shape().with_batch(sampler_.local_batch()));
  if (task_.needs_labels()) batch_y_.resize(sampler_.local_batch());
}

Trainer::~Trainer() {
  for (const auto& m : task_.models()) m.model->set_timeline(nullptr);
  // The thread's jobs point into the synchronizer and the models' gradients: end it first.
  threaded_comm_.reset();
  comm_thread_.reset();
}

const nn::ParamGradsFinal* Trainer::StepUpdates::grads_final(std::size_t i) {
  return last_micro_batch && trainer_.synchronizer_.overlapping() ? &hooks.at(i) : nullptr;
}

void Trainer::StepUpdates::update(std::size_t i, double local_loss) {
  if (last_micro_batch) {
    trainer_.update(i, earlier_loss + local_loss);
  } else {
    earlier_loss += local_loss;
  }
}

void Trainer::restore(const TrainState& state) {
  const LiveModels live{task_.models(), optimizers_};
  check_state_fits(state, config_, live);
  restore_models(state, live);
  restore_residuals(state);
  global_step_ = state.global_step;
  last_saved_step_ = state.global_step;
  if (early_) early_->restore(state.early);
  const auto steps = static_cast<std::int64_t>(steps_per_epoch());
  if (state.step_in_epoch >= steps) {
    start_epoch_ = state.epoch + 1;
    start_step_ = 0;
  } else {
    start_epoch_ = state.epoch;
    start_step_ = state.step_in_epoch;
    if (state.epoch_sums.size() != epoch_sums_.size()) {
      CheckpointError error("the checkpoint does not fit this run: the epoch's sums differ");
      error.mark_collective();
      throw error;
    }
    // The sums are over all ranks: count them once.
    if (comm_.rank() == 0) epoch_sums_ = state.epoch_sums;
  }
  if (comm_.rank() == 0) {
    // The metrics file restarts from what the checkpoint had seen, so it ends up as the
    // uninterrupted run's file even when a later, lost part had already been written.
    metrics_lines_.clear();
    for (const auto& line : state.metrics) write_metrics(nlohmann::json::parse(line));
  }
}

void Trainer::write_metrics(const nlohmann::json& line) {
  if (comm_.rank() != 0) return;
  metrics_.write(line);
  metrics_lines_.push_back(line.dump());
}

bool Trainer::agree_on_stop() {
  if (!config_.stop_on_signals) return false;
  return comm_.allreduce_max(stop_requested() ? 1 : 0) != 0;
}

void Trainer::restore_residuals(const TrainState& state) {
  const auto saved_models = state.models();
  for (std::size_t m = 0; m < saved_models.size(); ++m) {
    auto residual = synchronizer_.residual(m);
    if (residual.empty()) continue;
    std::fill(residual.begin(), residual.end(), 0.0f);
    const auto& saved = saved_models[m].error_feedback;
    if (saved.size() == static_cast<std::size_t>(comm_.size())) {
      const auto& mine = saved[static_cast<std::size_t>(comm_.rank())];
      std::copy(mine.begin(), mine.end(), residual.begin());
    } else if (!saved.empty() && comm_.rank() == 0 && config_.log_epochs) {
      // Each residual is one rank's own rounding error: it has no place on other ranks.
      progress_.message(
          "error feedback restarts from zero: the checkpoint holds the residuals "
          "of " +
          std::to_string(saved.size()) + " rank(s), this run has " + std::to_string(comm_.size()));
    }
  }
}

void Trainer::save_checkpoint(int epoch, std::int64_t step_in_epoch, TrainResult& result) {
  if (!store_) return;
  // Rank 0 may write for long while the others wait: the watchdog excuses this phase.
  comm::liveness::PhaseScope phase(comm::liveness::Phase::kCheckpoint);
  TimelineSpan span(timeline_.get(), Timeline::kMain, "checkpoint", "checkpoint");
  std::vector<double> sums = epoch_sums_;
  comm_.allreduce_sum(std::span<double>(sums));
  std::vector<std::vector<std::vector<float>>> residuals;
  for (std::size_t m = 0; m < task_.models().size(); ++m) {
    residuals.push_back(gather_to_rank0(comm_, synchronizer_.residual(m)));
  }
  std::string written;
  rank0_then_agree(
      comm_,
      [&] {
        auto state = capture_state(
            config_, {task_.models(), optimizers_}, std::move(residuals),
            {.epoch = epoch, .step_in_epoch = step_in_epoch, .global_step = global_step_},
            comm_.size(), std::move(sums), metrics_lines_);
        if (early_) state.early = early_->state();
        written = store_->save(std::move(state));
      },
      "writing a checkpoint at step " + std::to_string(global_step_) + " failed: ",
      "rank 0 failed to write a checkpoint");
  last_saved_step_ = global_step_;
  result.last_checkpoint = written;
  if (comm_.rank() == 0 && config_.log_epochs) progress_.message("checkpoint: " + written);
}

void Trainer::train_step(std::size_t step_in_epoch) {
  synchronizer_.set_step(global_step_ + 1);
  comm::liveness::ProgressState::instance().set_step(global_step_ + 1);
  TimelineSpan step_span(
      timeline_.get(), Timeline::kMain, "step", "step",
      timeline_ ? "\"step\":" + std::to_string(global_step_ + 1) : std::string());
  const auto step = static_cast<std::uint64_t>(global_step_);
  const int n = config_.accumulate;
  updates_.earlier_loss = 0.0;
  // --accumulate: micro-batches k = 0..n-1 of the step (micro_batches.h); n = 1: the batch.
  for (int k = 0; k < n; ++k) {
    {
      TimelineSpan span(timeline_.get(), Timeline::kMain, "data", "data");
      const auto indices = sampler_.local_indices(step_in_epoch * n + k);
      data::gather_images(data_.train, indices, batch_x_.data());
      if (task_.needs_labels()) data::gather_labels(data_.train, indices, batch_y_.data());
    }
    const StepBatch batch{
        .x = batch_x_,
        .labels = batch_y_,
        .first_position = k * sampler_.global_batch() + sampler_.local_offset(),
        .step_seed = derive_seed(config_.seed, step, kStepStream),
        .rank_seed = micro_batch_seed(
            derive_seed(config_.seed, step, static_cast<std::uint64_t>(comm_.rank())), k),
        .normalizer = static_cast<double>(config_.global_batch),
        .zero_grads = k == 0,
        .batch_stats = comm_.size() > 1 ? &batch_stats_ : nullptr};
    updates_.last_micro_batch = k == n - 1;
    task_.train_step(batch, epoch_sums_, updates_);
  }
  ++global_step_;
}

void Trainer::update(std::size_t i, double local_loss) {
  const auto& m = task_.models()[i];
  auto& arena = m.model->arena();
  synchronizer_.finish(i);
  TimelineSpan span(
      timeline_.get(), Timeline::kMain, "optimizer " + m.role, "optimizer",
      timeline_ ? "\"step\":" + std::to_string(global_step_ + 1) + ",\"model\":" + std::to_string(i)
                : std::string());
  check_finite(comm_, arena.grads(), local_loss, m.role, global_step_ + 1);
  if (config_.clip_grad_norm > 0.0f) {
    // The reduced gradient is the same bits on every rank: so are its norm and scale.
    grad_norms_[i] = optim::global_norm(arena.grads());
    optim::clip_to_norm(arena.grads(), grad_norms_[i], config_.clip_grad_norm);
  }
  optimizers_[i]->step(arena.params(), arena.grads(), schedule_.at(global_step_));
}

void Trainer::finish_epoch(int epoch, double epoch_seconds, TrainResult& result) {
  comm::liveness::PhaseScope phase(comm::liveness::Phase::kEvaluation);
  std::vector<double> sums = epoch_sums_;
  comm_.allreduce_sum(std::span<double>(sums));
  Report report;
  {
    TimelineSpan span(timeline_.get(), Timeline::kMain, "evaluate", "evaluate");
    report = task_.epoch_report(sums, data_.val, comm_, eval_batch());
  }
  EpochSummary s;
  s.epoch = epoch;
  s.step = global_step_;
  s.figures = report.text;
  s.epoch_seconds = epoch_seconds;
  s.samples_per_sec = epoch_seconds > 0 ? result_samples_this_epoch_ / epoch_seconds : 0.0;
  s.comm_seconds = synchronizer_.comm_seconds();
  progress_.end_epoch(s);
  nlohmann::json line{{"event", "epoch"},
                      {"epoch", s.epoch},
                      {"step", s.step},
                      {"samples_per_sec", s.samples_per_sec},
                      {"epoch_seconds", s.epoch_seconds},
                      {"comm_seconds", s.comm_seconds},
                      {"exposed_comm_seconds", synchronizer_.exposed_seconds()}};
  line.update(report.json);
  if (config_.clip_grad_norm > 0.0f) {
    // The last step's norm before clipping, per model ("grad_norm", or "grad_norm_<role>").
    const auto& models = task_.models();
    for (std::size_t i = 0; i < models.size(); ++i) {
      line[models[i].role == "model" ? std::string("grad_norm") : "grad_norm_" + models[i].role] =
          grad_norms_[i];
    }
  }
  if (early_) {
    // The figure is the same on every rank (evaluation is reduced), so is the decision.
    epoch_improved_ =
        early_->observe(epoch, global_step_, report.json.value(early_->monitor(), 0.0));
    early_->add_epoch_keys(line);
  }
  write_metrics(line);
  write_outputs(epoch);
  result.epochs_completed = epoch;
}

void Trainer::write_outputs(int epoch) {
  if (config_.output_dir.empty()) return;
  comm::liveness::PhaseScope phase(comm::liveness::Phase::kOutputs);
  const OutputContext out{
      .output_dir = config_.output_dir,
      .model_name = config_.model_spec.name.empty() ? config_.model_name : config_.model_spec.name,
      .epoch = epoch,
      .image_scale = config_.image_scale};
  rank0_then_agree(
      comm_,
      [&] {
        const auto path = epoch > 0 ? task_.write_epoch_outputs(out, data_)
                                    : task_.write_final_outputs(out, data_);
        if (!path.empty() && config_.log_epochs) progress_.message("image: " + path);
      },
      "--output-dir: ", "rank 0 failed to write an image");
}

void Trainer::write_timeline() {
  if (!timeline_) return;
  write_timeline_file(comm_, *timeline_, config_.timeline_path, [&](const std::string& path) {
    if (config_.log_epochs) progress_.message("timeline: " + path);
  });
}

// An epoch: its steps (checkpoints at the --checkpoint-every-steps cadence; a stop request
// agreed on between steps), timed from a common start. Returns how it ended.
Trainer::EpochOutcome Trainer::train_epoch(int epoch, TrainResult& result) {
  const auto steps = static_cast<std::int64_t>(steps_per_epoch());
  sampler_.start_epoch(epoch);
  std::int64_t step = epoch == start_epoch_ ? start_step_ : 0;
  progress_.start_epoch(epoch, step);
  synchronizer_.reset_seconds();
  if (step == 0) std::fill(epoch_sums_.begin(), epoch_sums_.end(), 0.0);
  result_samples_this_epoch_ = 0;
  comm_.barrier();  // time the epoch from a common start
  const auto epoch_start = Clock::now();
  bool stop = false;
  for (; step < steps && !step_limit_reached(); ++step) {
    train_step(static_cast<std::size_t>(step));
    position_ = {.epoch = epoch, .step_in_epoch = step + 1, .global_step = global_step_};
    result_samples_this_epoch_ += config_.global_batch;
    progress_.step(step + 1);
    const bool epoch_done = step + 1 == steps;
    if (!epoch_done && config_.checkpoint_every_steps > 0 &&
        global_step_ % config_.checkpoint_every_steps == 0) {
      save_checkpoint(epoch, step + 1, result);
    }
    // At the epoch's last step the stop is handled after the epoch is reported.
    if (!epoch_done && agree_on_stop()) {
      stop = true;
      ++step;
      break;
    }
  }
  comm_.barrier();
  const double seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
  result.train_seconds += seconds;
  result.samples += result_samples_this_epoch_;
  if (stop) return {EpochEnd::kStopRequested, seconds};
  if (step == steps) return {EpochEnd::kComplete, seconds};
  // Cut short by --max-steps.
  return {result_samples_this_epoch_ == 0 ? EpochEnd::kNothingRan : EpochEnd::kStepLimit, seconds};
}

// A stop request (SIGTERM, SIGUSR1, SIGINT) that every rank agreed on: save where the run
// stands unless that step is saved already, and end the run (exit 75 when a store is set).
TrainResult Trainer::stop_early(TrainResult& result) {
  if (last_saved_step_ != global_step_) {
    save_checkpoint(position_.epoch, position_.step_in_epoch, result);
  }
  result.stopped_by_signal = true;
  result.checkpoint_written_at_stop = store_ != nullptr;
  result.steps = global_step_;
  result.seconds = std::chrono::duration<double>(Clock::now() - run_start_).count();
  write_timeline();
  return result;
}

// The end of a run that was not stopped: the final state saved (whatever the cadence), the
// test set evaluated, the final metrics line, pictures and timeline.
void Trainer::finish_run(TrainResult& result) {
  if (last_saved_step_ != global_step_) {
    save_checkpoint(position_.epoch, position_.step_in_epoch, result);
  }
  result.steps = global_step_;
  {
    comm::liveness::PhaseScope phase(comm::liveness::Phase::kEvaluation);
    TimelineSpan span(timeline_.get(), Timeline::kMain, "evaluate test", "evaluate");
    result.final_report = task_.final_report(data_.test, comm_, eval_batch());
  }
  result.test = result.final_report.classifier;
  result.seconds = std::chrono::duration<double>(Clock::now() - run_start_).count();
  nlohmann::json line{{"event", "final"},
                      {"world_size", comm_.size()},
                      {"steps", result.steps},
                      {"seconds", result.seconds}};
  line.update(result.final_report.json);
  if (early_) early_->add_final_keys(line, result.stopped_early, config_.keep_best);
  write_metrics(line);
  write_outputs(0);
  write_timeline();
}

// The run, one epoch at a time: train it, report it (metrics line, validation, pictures),
// checkpoint it, and stop early where every rank agreed to.
TrainResult Trainer::run() {
  if (timeline_) {
    comm_.barrier();  // one origin for every rank's clock (one host: the same clock)
    timeline_->set_origin(Clock::now());
  }
  run_start_ = Clock::now();
  // Setup (data, configuration checks) is over: from here a wait on a peer is bounded by
  // --comm-timeout, except in the phases that set their own (evaluation, checkpoint, outputs).
  comm::liveness::PhaseScope training(comm::liveness::Phase::kTraining);
  TrainResult result;
  position_ = {.epoch = start_epoch_, .step_in_epoch = start_step_, .global_step = global_step_};
  for (int epoch = start_epoch_; epoch <= config_.epochs && !step_limit_reached(); ++epoch) {
    const auto [end, seconds] = train_epoch(epoch, result);
    if (end == EpochEnd::kStopRequested) return stop_early(result);
    if (end == EpochEnd::kNothingRan) break;
    finish_epoch(epoch, seconds, result);  // a cut-short epoch reports what ran
    if (end == EpochEnd::kStepLimit) break;
    if (config_.checkpoint_every_steps == 0 || global_step_ % config_.checkpoint_every_steps == 0 ||
        (config_.keep_best && epoch_improved_)) {
      save_checkpoint(epoch, position_.step_in_epoch, result);
    }
    if (early_ && early_->should_stop()) {
      result.stopped_early = true;
      if (comm_.rank() == 0 && config_.log_epochs) {
        progress_.message("early stopping: " + early_->monitor() + " has not improved for " +
                          std::to_string(config_.early_stopping) + " epoch(s); best epoch " +
                          std::to_string(early_->state().best_epoch));
      }
      break;
    }
    if (agree_on_stop()) return stop_early(result);
  }
  finish_run(result);
  return result;
}

}  // namespace dtrain::train
