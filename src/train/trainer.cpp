#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>

#include "comm/liveness/progress_state.h"
#include "core/errors.h"
#include "core/hash.h"
#include "data/batch.h"
#include "train/replica_check.h"
#include "train/stop_signal.h"

namespace dtrain::train {

using Clock = std::chrono::steady_clock;
using tensor::Shape;

std::uint64_t TrainConfig::fingerprint() const {
  Fingerprint f;
  f.add(model_name).add(epochs).add(global_batch).add(lr).add(linear_lr_scaling);
  f.add(warmup_epochs).add(seed).add(max_steps).add(eval_batch);
  f.add(optimizer.kind).add(optimizer.momentum).add(optimizer.beta1).add(optimizer.beta2);
  f.add(optimizer.epsilon).add(allreduce_fingerprint);
  // Not overlap: it changes when buckets are reduced, never what they sum to.
  f.add(bucket_mb).add(grad_compression).add(error_feedback);
  return f.value();
}

void TrainConfig::apply_model_defaults(bool lr_given) {
  const auto& d = model_spec.defaults;
  if (!lr_given && d.lr > 0.0f) lr = d.lr;
  if (optimizer.kind == "adam" && d.adam_beta1 > 0.0f) optimizer.beta1 = d.adam_beta1;
}

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

namespace {

// Runs `write` on rank 0 alone; every rank learns the outcome, so a failed write (disk full,
// unwritable directory) ends all ranks together with rank 0's message instead of leaving
// the others waiting in the next collective.
template <typename F>
void rank0_then_agree(comm::Communicator& comm, F&& write, const std::string& failure_prefix,
                      const std::string& other_ranks_message) {
  const Failure failure = comm.rank() == 0 ? capture_failure(std::forward<F>(write)) : Failure{};
  if (comm.allreduce_max(failure.exit_code != 0 ? 1 : 0) == 0) return;
  TrainingError error(comm.rank() == 0 ? failure_prefix + failure.message : other_ranks_message);
  error.mark_collective();
  throw error;
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
      sampler_(data.train.size(), static_cast<std::size_t>(config.global_batch), comm.rank(),
               comm.size(), config.seed),
      timeline_(config.timeline_path.empty() ? nullptr : std::make_unique<Timeline>()),
      synchronizer_(reduce_comm_, comm_thread_.get(), sync_options(config, timeline_.get())),
      schedule_(config.lr, config.linear_lr_scaling, config.global_batch,
                static_cast<std::int64_t>(config.warmup_epochs *
                                          static_cast<double>(sampler_.steps_per_epoch()))),
      metrics_(comm.rank() == 0 ? config.metrics_path : std::string(), false),
      progress_(config.progress, comm.rank() == 0 && config.log_epochs,
                RunPlan{config.epochs, static_cast<std::int64_t>(sampler_.steps_per_epoch()),
                        config.max_steps},
                config.global_batch),
      store_(store),
      updates_(*this),
      epoch_sums_(task_.num_sums(), 0.0) {
  if (task_.needs_labels() && data.train.num_classes == 0) {
    throw ConfigError("model '" + config.model_name +
                      "' is a classifier but the data set has no labels");
  }
  const auto& models = task_.models();
  for (const auto& m : models) {
    require_same_on_all_ranks(
        comm_, m.model->arena().layout_fingerprint(),
        m.role == "model" ? std::string("parameter layout") : "parameter layout of the " + m.role);
    optimizers_.push_back(optim::make_optimizer(config.optimizer, m.model->arena().arena_size()));
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
  return trainer_.synchronizer_.overlapping() ? &hooks.at(i) : nullptr;
}

void Trainer::restore(const TrainState& state) {
  auto mismatch = [&](const std::string& what) {
    CheckpointError error("the checkpoint does not fit this run: " + what);
    error.mark_collective();
    throw error;
  };
  const auto& models = task_.models();
  const auto saved_models = state.models();
  bool same_layout = saved_models.size() == models.size();
  for (std::size_t m = 0; same_layout && m < models.size(); ++m) {
    const auto& arena = models[m].model->arena();
    const auto& slots = arena.slots();
    const auto& saved = saved_models[m];
    same_layout = saved.role == models[m].role && saved.slots.size() == slots.size() &&
                  saved.params.size() == arena.arena_size();
    for (std::size_t i = 0; same_layout && i < slots.size(); ++i) {
      same_layout = saved.slots[i].name == slots[i].name &&
                    saved.slots[i].shape == slots[i].shape &&
                    saved.slots[i].offset == slots[i].offset;
    }
  }
  if (!same_layout) {
    mismatch("it holds model '" + state.model.name + "' (" + state.model_name +
             ") but --model is '" + config_.model_name + "' with another parameter layout");
  }
  if (state.optimizer.kind != config_.optimizer.kind) {
    mismatch("it was trained with --optimizer " + state.optimizer.kind + ", this run uses " +
             config_.optimizer.kind);
  }
  if (state.global_batch != config_.global_batch) {
    mismatch("it was trained with --batch-size " + std::to_string(state.global_batch) +
             ", this run uses " + std::to_string(config_.global_batch) +
             " (the position in the epoch is counted in global batches)");
  }
  if (state.seed != config_.seed) {
    mismatch("it was trained with --seed " + std::to_string(state.seed) + ", this run uses " +
             std::to_string(config_.seed) + " (the data order depends on it)");
  }
  for (std::size_t m = 0; m < models.size(); ++m) {
    const auto& saved = saved_models[m];
    std::copy(saved.params.begin(), saved.params.end(), models[m].model->arena().params().begin());
    optimizers_[m]->set_steps(saved.optimizer_steps);
    auto& arrays = optimizers_[m]->state();
    if (arrays.size() != saved.optimizer_state.size()) mismatch("optimizer state arrays differ");
    for (std::size_t i = 0; i < arrays.size(); ++i) {
      if (arrays[i].values.size() != saved.optimizer_state[i].values.size()) {
        mismatch("optimizer state '" + arrays[i].name + "' has another size");
      }
      arrays[i].values = saved.optimizer_state[i].values;
    }
  }
  restore_residuals(state);
  global_step_ = state.global_step;
  last_saved_step_ = state.global_step;
  const auto steps = static_cast<std::int64_t>(sampler_.steps_per_epoch());
  if (state.step_in_epoch >= steps) {
    start_epoch_ = state.epoch + 1;
    start_step_ = 0;
  } else {
    start_epoch_ = state.epoch;
    start_step_ = state.step_in_epoch;
    if (state.epoch_sums.size() != epoch_sums_.size()) mismatch("the epoch's sums differ");
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

std::vector<std::vector<float>> Trainer::gather_residuals(std::size_t model) {
  const auto mine = synchronizer_.residual(model);
  if (mine.empty()) return {};
  // One broadcast per rank: simple, and a checkpoint is rare next to the steps between.
  std::vector<std::vector<float>> all;
  std::vector<float> buffer(mine.size());
  for (int r = 0; r < comm_.size(); ++r) {
    if (r == comm_.rank()) std::copy(mine.begin(), mine.end(), buffer.begin());
    comm_.broadcast(std::span<float>(buffer), r);
    if (comm_.rank() == 0) all.push_back(buffer);
  }
  return all;
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
  for (std::size_t m = 0; m < task_.models().size(); ++m) residuals.push_back(gather_residuals(m));
  std::string written;
  rank0_then_agree(
      comm_,
      [&] {
        TrainState state;
        state.model = config_.model_spec;
        const auto& models = task_.models();
        std::vector<ModelState> saved_models;
        for (std::size_t m = 0; m < models.size(); ++m) {
          ModelState saved;
          saved.role = models[m].role;
          saved.slots = models[m].model->arena().slots();
          const auto params = models[m].model->arena().params();
          for (float p : params) {
            if (!std::isfinite(p))
              throw TrainingError("parameters are not finite; not saving them");
          }
          saved.params.assign(params.begin(), params.end());
          saved.optimizer_steps = optimizers_[m]->steps();
          saved.optimizer_state = optimizers_[m]->state();
          saved.error_feedback = std::move(residuals[m]);
          saved_models.push_back(std::move(saved));
        }
        state.set_models(std::move(saved_models));
        state.optimizer = config_.optimizer;
        state.epoch = epoch;
        state.step_in_epoch = step_in_epoch;
        state.global_step = global_step_;
        state.seed = config_.seed;
        state.world_size = comm_.size();
        state.global_batch = config_.global_batch;
        state.lr = config_.lr;
        state.linear_lr_scaling = config_.linear_lr_scaling;
        state.warmup_epochs = config_.warmup_epochs;
        state.epochs = config_.epochs;
        state.max_steps = config_.max_steps;
        state.model_name = config_.model_name;
        state.epoch_sums = sums;
        state.metrics = metrics_lines_;
        written = store_->save(std::move(state));
      },
      "writing a checkpoint at step " + std::to_string(global_step_) + " failed: ",
      "rank 0 failed to write a checkpoint");
  last_saved_step_ = global_step_;
  result.last_checkpoint = written;
  if (comm_.rank() == 0 && config_.log_epochs) progress_.message("checkpoint: " + written);
}

void Trainer::check_finite(std::span<const float> grads, double local_loss,
                           const std::string& role) {
  // x*0 is 0 for finite x and NaN for inf/NaN, so one pass of sums checks the whole
  // (already reduced, hence identical on every rank) gradient array. 16 independent sums:
  // one sum is a chain of dependent adds the compiler may not reorder (0.9 ms per cnn step
  // here, measured with perf); lanes vectorize, and any order finds a NaN.
  constexpr std::size_t kLanes = 16;
  float lanes[kLanes] = {};
  const std::size_t n = grads.size(), whole = n - n % kLanes;
  for (std::size_t i = 0; i < whole; i += kLanes) {
    for (std::size_t l = 0; l < kLanes; ++l) lanes[l] += grads[i + l] * 0.0f;
  }
  for (std::size_t i = whole; i < n; ++i) lanes[0] += grads[i] * 0.0f;
  float probe = 0.0f;
  for (float lane : lanes) probe += lane;
  if (std::isfinite(probe) && std::isfinite(local_loss)) return;
  // Every rank sees the same reduced gradients, so every rank gets here together.
  const auto bad = comm_.allgather(std::isfinite(local_loss) ? 0 : 1);
  std::string ranks;
  for (std::size_t r = 0; r < bad.size(); ++r) {
    if (bad[r]) ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
  }
  TrainingError error("non-finite " + std::string(ranks.empty() ? "gradient" : "loss") +
                      (role == "model" ? std::string() : " of the " + role) + " at step " +
                      std::to_string(global_step_ + 1) +
                      (ranks.empty() ? "" : " on rank(s) " + ranks) +
                      " (try a lower --lr); no checkpoint written for this state");
  error.mark_collective();
  throw error;
}

void Trainer::train_step(std::size_t step_in_epoch) {
  synchronizer_.set_step(global_step_ + 1);
  comm::liveness::ProgressState::instance().set_step(global_step_ + 1);
  TimelineSpan step_span(
      timeline_.get(), Timeline::kMain, "step", "step",
      timeline_ ? "\"step\":" + std::to_string(global_step_ + 1) : std::string());
  {
    TimelineSpan span(timeline_.get(), Timeline::kMain, "data", "data");
    const auto indices = sampler_.local_indices(step_in_epoch);
    data::gather_images(data_.train, indices, batch_x_.data());
    if (task_.needs_labels()) data::gather_labels(data_.train, indices, batch_y_.data());
  }
  const auto step = static_cast<std::uint64_t>(global_step_);
  const StepBatch batch{
      .x = batch_x_,
      .labels = batch_y_,
      .first_position = sampler_.local_offset(),
      .step_seed = derive_seed(config_.seed, step, kStepStream),
      .rank_seed = derive_seed(config_.seed, step, static_cast<std::uint64_t>(comm_.rank())),
      .normalizer = static_cast<double>(config_.global_batch),
      .batch_stats = comm_.size() > 1 ? &batch_stats_ : nullptr};
  task_.train_step(batch, epoch_sums_, updates_);
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
  check_finite(arena.grads(), local_loss, m.role);
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
  comm::liveness::PhaseScope phase(comm::liveness::Phase::kOutputs);
  // Rank 0 gathers: every rank's part goes to it in one broadcast per rank (lengths first).
  const std::string mine = timeline_->trace_events(comm_.rank());
  const auto lengths = comm_.allgather(static_cast<std::uint64_t>(mine.size()));
  std::vector<std::string> parts;
  for (int r = 0; r < comm_.size(); ++r) {
    std::string part = r == comm_.rank() ? mine : std::string(lengths[r], '\0');
    comm_.broadcast(std::as_writable_bytes(std::span<char>(part.data(), part.size())), r);
    if (comm_.rank() == 0) parts.push_back(std::move(part));
  }
  rank0_then_agree(
      comm_,
      [&] {
        std::ofstream out(config_.timeline_path, std::ios::binary | std::ios::trunc);
        out << Timeline::trace_file(parts);
        out.flush();
        if (!out) throw ConfigError("cannot write '" + config_.timeline_path + "'");
        if (config_.log_epochs) progress_.message("timeline: " + config_.timeline_path);
      },
      "--timeline: ", "rank 0 failed to write the timeline");
}

TrainResult Trainer::run() {
  if (timeline_) {
    comm_.barrier();  // one origin for every rank's clock (one host: the same clock)
    timeline_->set_origin(Clock::now());
  }
  const auto run_start = Clock::now();
  // Setup (data, configuration checks) is over: from here a wait on a peer is bounded by
  // --comm-timeout, except in the phases that set their own (evaluation, checkpoint, outputs).
  comm::liveness::PhaseScope training(comm::liveness::Phase::kTraining);
  TrainResult result;
  const auto steps = static_cast<std::int64_t>(sampler_.steps_per_epoch());
  auto limit_reached = [&] { return config_.max_steps > 0 && global_step_ >= config_.max_steps; };
  // Where the run stands (epoch, steps done in it), for the final checkpoint.
  int position_epoch = start_epoch_;
  std::int64_t position_step = start_step_;
  for (int epoch = start_epoch_; epoch <= config_.epochs && !limit_reached(); ++epoch) {
    sampler_.start_epoch(epoch);
    std::int64_t step = epoch == start_epoch_ ? start_step_ : 0;
    progress_.start_epoch(epoch, step);
    synchronizer_.reset_seconds();
    if (step == 0) std::fill(epoch_sums_.begin(), epoch_sums_.end(), 0.0);
    result_samples_this_epoch_ = 0;
    comm_.barrier();  // time the epoch from a common start
    const auto epoch_start = Clock::now();
    bool stop = false;
    for (; step < steps && !limit_reached(); ++step) {
      train_step(static_cast<std::size_t>(step));
      position_epoch = epoch;
      position_step = step + 1;
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
    const double epoch_seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    result.train_seconds += epoch_seconds;
    result.samples += result_samples_this_epoch_;
    if (stop) {
      save_checkpoint(epoch, step, result);
      result.stopped_by_signal = true;
      result.checkpoint_written_at_stop = store_ != nullptr;
      result.steps = global_step_;
      result.seconds = std::chrono::duration<double>(Clock::now() - run_start).count();
      write_timeline();
      return result;
    }
    if (result_samples_this_epoch_ == 0 && step < steps) break;  // nothing ran (step limit)
    if (step < steps) {
      // Cut short by --max-steps: report what ran, like a full epoch.
      finish_epoch(epoch, epoch_seconds, result);
      break;
    }
    finish_epoch(epoch, epoch_seconds, result);
    if (store_ && (config_.checkpoint_every_steps == 0 ||
                   global_step_ % config_.checkpoint_every_steps == 0)) {
      save_checkpoint(epoch, steps, result);
    }
    if (agree_on_stop()) {
      if (store_ && last_saved_step_ != global_step_) save_checkpoint(epoch, steps, result);
      result.stopped_by_signal = true;
      result.checkpoint_written_at_stop = store_ != nullptr;
      result.steps = global_step_;
      result.seconds = std::chrono::duration<double>(Clock::now() - run_start).count();
      write_timeline();
      return result;
    }
  }
  if (store_ && last_saved_step_ != global_step_) {
    save_checkpoint(position_epoch, position_step, result);  // the final state, any cadence
  }
  result.steps = global_step_;
  {
    comm::liveness::PhaseScope phase(comm::liveness::Phase::kEvaluation);
    TimelineSpan span(timeline_.get(), Timeline::kMain, "evaluate test", "evaluate");
    result.final_report = task_.final_report(data_.test, comm_, eval_batch());
  }
  result.test = result.final_report.classifier;
  result.seconds = std::chrono::duration<double>(Clock::now() - run_start).count();
  nlohmann::json line{{"event", "final"},
                      {"world_size", comm_.size()},
                      {"steps", result.steps},
                      {"seconds", result.seconds}};
  line.update(result.final_report.json);
  write_metrics(line);
  write_outputs(0);
  write_timeline();
  return result;
}

}  // namespace dtrain::train
