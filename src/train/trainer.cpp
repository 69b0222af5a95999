#include "train/trainer.h"

#include <chrono>
#include <cmath>

#include "core/errors.h"
#include "core/hash.h"
#include "data/batch.h"
#include "nn/loss.h"
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
  f.add(optimizer.epsilon);
  return f.value();
}

EvalResult evaluate(nn::Sequential& model, const data::Dataset& ds, dist::Communicator& comm,
                    int eval_batch) {
  const auto shard = data::eval_shard(ds.size(), comm.rank(), comm.size());
  tensor::Tensor x;
  std::vector<std::int32_t> y;
  double sums[3] = {0.0, 0.0, 0.0};  // loss, correct, count
  for (std::size_t done = 0; done < shard.count;) {
    const std::size_t n = std::min<std::size_t>(eval_batch, shard.count - done);
    x.resize(model.input_shape().with_batch(n));
    y.resize(n);
    data::gather_range(ds, shard.begin + done, n, x.data());
    data::gather_range_labels(ds, shard.begin + done, n, y.data());
    const auto& logits = model.forward(x, {.training = false});
    const auto stats = nn::softmax_cross_entropy(logits, y, 1.0, nullptr);
    sums[0] += stats.loss_sum;
    sums[1] += static_cast<double>(stats.correct);
    sums[2] += static_cast<double>(n);
    done += n;
  }
  comm.allreduce_sum(std::span<double>(sums, 3));
  EvalResult r;
  r.count = static_cast<std::int64_t>(sums[2]);
  if (r.count > 0) {
    r.loss = sums[0] / sums[2];
    r.accuracy = sums[1] / sums[2];
  }
  return r;
}

Trainer::Trainer(dist::Communicator& comm, nn::Sequential& model, const data::DataSplits& data,
                 const TrainConfig& config, CheckpointStore* store, const TrainState* resume)
    : comm_(comm),
      model_(model),
      data_(data),
      config_(config),
      optimizer_(optim::make_optimizer(config.optimizer, model.arena().arena_size())),
      sampler_(data.train.size(), static_cast<std::size_t>(config.global_batch), comm.rank(),
               comm.size(), config.seed),
      synchronizer_(comm),
      schedule_(config.lr, config.linear_lr_scaling, config.global_batch,
                static_cast<std::int64_t>(config.warmup_epochs *
                                          static_cast<double>(sampler_.steps_per_epoch()))),
      metrics_(comm.rank() == 0 ? config.metrics_path : std::string(), false),
      progress_(config.progress, comm.rank() == 0 && config.log_epochs, config.epochs),
      store_(store) {
  if (data.train.num_classes == 0) {
    throw ConfigError("model '" + config.model_name +
                      "' is a classifier but the data set has no labels");
  }
  require_same_on_all_ranks(comm_, model_.arena().layout_fingerprint(), "parameter layout");
  require_same_on_all_ranks(comm_, config_.fingerprint(), "run configuration");
  if (resume) {
    restore(*resume);
  } else {
    if (comm_.rank() == 0) model_.init_params(config_.seed);
  }
  // Rank 0's parameters are the truth; a resumed state is the same on every rank anyway.
  comm_.broadcast(model_.arena().params(), 0);
  batch_x_.resize(model_.input_shape().with_batch(sampler_.local_batch()));
  batch_y_.resize(sampler_.local_batch());
}

void Trainer::restore(const TrainState& state) {
  auto mismatch = [&](const std::string& what) {
    CheckpointError error("the checkpoint does not fit this run: " + what);
    error.mark_collective();
    throw error;
  };
  const auto& slots = model_.arena().slots();
  bool same_layout =
      state.slots.size() == slots.size() && state.params.size() == model_.arena().arena_size();
  for (std::size_t i = 0; same_layout && i < slots.size(); ++i) {
    same_layout = state.slots[i].name == slots[i].name && state.slots[i].shape == slots[i].shape &&
                  state.slots[i].offset == slots[i].offset;
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
  std::copy(state.params.begin(), state.params.end(), model_.arena().params().begin());
  optimizer_->set_steps(state.optimizer_steps);
  auto& arrays = optimizer_->state();
  if (arrays.size() != state.optimizer_state.size()) mismatch("optimizer state arrays differ");
  for (std::size_t i = 0; i < arrays.size(); ++i) {
    if (arrays[i].values.size() != state.optimizer_state[i].values.size()) {
      mismatch("optimizer state '" + arrays[i].name + "' has another size");
    }
    arrays[i].values = state.optimizer_state[i].values;
  }
  global_step_ = state.global_step;
  last_saved_step_ = state.global_step;
  const auto steps = static_cast<std::int64_t>(sampler_.steps_per_epoch());
  if (state.step_in_epoch >= steps) {
    start_epoch_ = state.epoch + 1;
    start_step_ = 0;
  } else {
    start_epoch_ = state.epoch;
    start_step_ = state.step_in_epoch;
    if (comm_.rank() == 0) {  // the sums are over all ranks: count them once
      epoch_loss_ = state.epoch_sums[0];
      epoch_correct_ = static_cast<std::int64_t>(state.epoch_sums[1]);
      epoch_examples_ = static_cast<std::int64_t>(state.epoch_sums[2]);
    }
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

void Trainer::save_checkpoint(int epoch, std::int64_t step_in_epoch, TrainResult& result) {
  if (!store_) return;
  double sums[3] = {epoch_loss_, static_cast<double>(epoch_correct_),
                    static_cast<double>(epoch_examples_)};
  comm_.allreduce_sum(std::span<double>(sums, 3));
  int code = 0;
  std::string message, written;
  if (comm_.rank() == 0) {
    try {
      TrainState state;
      state.model = config_.model_spec;
      state.slots = model_.arena().slots();
      const auto params = model_.arena().params();
      for (float p : params) {
        if (!std::isfinite(p)) throw TrainingError("parameters are not finite; not saving them");
      }
      state.params.assign(params.begin(), params.end());
      state.optimizer = config_.optimizer;
      state.optimizer_steps = optimizer_->steps();
      state.optimizer_state = optimizer_->state();
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
      state.epoch_sums = {sums[0], sums[1], sums[2]};
      state.metrics = metrics_lines_;
      written = store_->save(state);
    } catch (const Error& e) {
      code = e.exit_code();
      message = e.what();
    } catch (const std::exception& e) {
      code = kExitRuntime;
      message = e.what();
    }
  }
  // Only rank 0 writes; every rank learns the outcome, so a failed write ends the job on
  // all ranks together with rank 0's message.
  code = comm_.allreduce_max(code);
  if (code != 0) {
    TrainingError error(comm_.rank() == 0 ? "writing a checkpoint at step " +
                                                std::to_string(global_step_) + " failed: " + message
                                          : "rank 0 failed to write a checkpoint");
    error.mark_collective();
    throw error;
  }
  last_saved_step_ = global_step_;
  result.last_checkpoint = written;
  if (comm_.rank() == 0 && config_.log_epochs) progress_.message("checkpoint: " + written);
}

void Trainer::check_finite(double local_loss) {
  // x*0 is 0 for finite x and NaN for inf/NaN, so one vectorizable pass checks the whole
  // (already reduced, hence identical on every rank) gradient array.
  float probe = 0.0f;
  for (float g : model_.arena().grads()) probe += g * 0.0f;
  if (std::isfinite(probe) && std::isfinite(local_loss)) return;
  // Every rank sees the same reduced gradients, so every rank gets here together.
  const auto bad = comm_.allgather(std::isfinite(local_loss) ? 0 : 1);
  std::string ranks;
  for (std::size_t r = 0; r < bad.size(); ++r) {
    if (bad[r]) ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
  }
  TrainingError error("non-finite " + std::string(ranks.empty() ? "gradient" : "loss") +
                      " at step " + std::to_string(global_step_ + 1) +
                      (ranks.empty() ? "" : " on rank(s) " + ranks) +
                      " (try a lower --lr); no checkpoint written for this state");
  error.mark_collective();
  throw error;
}

void Trainer::train_step(std::size_t step_in_epoch) {
  const auto indices = sampler_.local_indices(step_in_epoch);
  data::gather_images(data_.train, indices, batch_x_.data());
  data::gather_labels(data_.train, indices, batch_y_.data());

  model_.arena().zero_grads();
  const nn::ForwardContext ctx{
      .training = true,
      .noise_seed = derive_seed(config_.seed, static_cast<std::uint64_t>(global_step_),
                                static_cast<std::uint64_t>(comm_.rank()))};
  const auto& logits = model_.forward(batch_x_, ctx);
  const auto stats = nn::softmax_cross_entropy(logits, batch_y_, config_.global_batch, &dlogits_);
  model_.backward(batch_x_, dlogits_);
  synchronizer_.synchronize(model_.arena().grads());
  check_finite(stats.loss_sum);
  optimizer_->step(model_.arena().params(), model_.arena().grads(), schedule_.at(global_step_));
  ++global_step_;
  epoch_loss_ += stats.loss_sum;
  epoch_correct_ += stats.correct;
  epoch_examples_ += static_cast<std::int64_t>(indices.size());
}

void Trainer::finish_epoch(int epoch, double epoch_seconds, TrainResult& result) {
  double sums[3] = {epoch_loss_, static_cast<double>(epoch_correct_),
                    static_cast<double>(epoch_examples_)};
  comm_.allreduce_sum(std::span<double>(sums, 3));
  const EvalResult val = evaluate(model_, data_.val, comm_, config_.eval_batch);
  EpochSummary s;
  s.epoch = epoch;
  s.step = global_step_;
  s.train_loss = sums[2] > 0 ? sums[0] / sums[2] : 0.0;
  s.train_acc = sums[2] > 0 ? sums[1] / sums[2] : 0.0;
  s.val_loss = val.loss;
  s.val_acc = val.accuracy;
  s.epoch_seconds = epoch_seconds;
  s.samples_per_sec = epoch_seconds > 0 ? result_samples_this_epoch_ / epoch_seconds : 0.0;
  s.comm_seconds = synchronizer_.comm_seconds();
  progress_.end_epoch(s);
  nlohmann::json line{{"event", "epoch"},
                      {"epoch", s.epoch},
                      {"step", s.step},
                      {"train_loss", s.train_loss},
                      {"train_acc", s.train_acc},
                      {"samples_per_sec", s.samples_per_sec},
                      {"epoch_seconds", s.epoch_seconds},
                      {"comm_seconds", s.comm_seconds}};
  if (val.count > 0) {
    line["val_loss"] = s.val_loss;
    line["val_acc"] = s.val_acc;
  }
  write_metrics(line);
  result.epochs_completed = epoch;
}

TrainResult Trainer::run() {
  const auto run_start = Clock::now();
  TrainResult result;
  const auto steps = static_cast<std::int64_t>(sampler_.steps_per_epoch());
  auto limit_reached = [&] { return config_.max_steps > 0 && global_step_ >= config_.max_steps; };
  // Where the run stands (epoch, steps done in it), for the final checkpoint.
  int position_epoch = start_epoch_;
  std::int64_t position_step = start_step_;
  for (int epoch = start_epoch_; epoch <= config_.epochs && !limit_reached(); ++epoch) {
    sampler_.start_epoch(epoch);
    std::int64_t step = epoch == start_epoch_ ? start_step_ : 0;
    progress_.start_epoch(epoch, steps);
    synchronizer_.reset_comm_seconds();
    if (step == 0) {
      epoch_loss_ = 0.0;
      epoch_correct_ = epoch_examples_ = 0;
    }
    result_samples_this_epoch_ = 0;
    comm_.barrier();  // time the epoch from a common start
    const auto epoch_start = Clock::now();
    bool stop = false;
    for (; step < steps && !limit_reached(); ++step) {
      train_step(static_cast<std::size_t>(step));
      position_epoch = epoch;
      position_step = step + 1;
      result_samples_this_epoch_ += config_.global_batch;
      progress_.step(step + 1, (step + 1) * config_.global_batch);
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
      return result;
    }
  }
  if (store_ && last_saved_step_ != global_step_) {
    save_checkpoint(position_epoch, position_step, result);  // the final state, any cadence
  }
  result.steps = global_step_;
  result.test = evaluate(model_, data_.test, comm_, config_.eval_batch);
  result.seconds = std::chrono::duration<double>(Clock::now() - run_start).count();
  write_metrics({{"event", "final"},
                 {"test_loss", result.test.loss},
                 {"test_acc", result.test.accuracy},
                 {"world_size", comm_.size()},
                 {"steps", result.steps},
                 {"seconds", result.seconds}});
  return result;
}

}  // namespace dtrain::train
