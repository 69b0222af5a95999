#include "train/trainer.h"

#include <chrono>
#include <cmath>

#include "core/errors.h"
#include "core/hash.h"
#include "data/batch.h"
#include "nn/loss.h"
#include "train/replica_check.h"

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
                 const TrainConfig& config)
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
      progress_(config.progress, comm.rank() == 0 && config.log_epochs, config.epochs) {
  if (data.train.num_classes == 0) {
    throw ConfigError("model '" + config.model_name +
                      "' is a classifier but the data set has no labels");
  }
  require_same_on_all_ranks(comm_, model_.arena().layout_fingerprint(), "parameter layout");
  require_same_on_all_ranks(comm_, config_.fingerprint(), "run configuration");
  if (comm_.rank() == 0) model_.init_params(config_.seed);
  comm_.broadcast(model_.arena().params(), 0);
  batch_x_.resize(model_.input_shape().with_batch(sampler_.local_batch()));
  batch_y_.resize(sampler_.local_batch());
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

TrainResult Trainer::run() {
  const auto run_start = Clock::now();
  TrainResult result;
  const auto steps = static_cast<std::int64_t>(sampler_.steps_per_epoch());
  bool step_limit_reached = false;
  for (int epoch = 1; epoch <= config_.epochs && !step_limit_reached; ++epoch) {
    sampler_.start_epoch(epoch);
    progress_.start_epoch(epoch, steps);
    synchronizer_.reset_comm_seconds();
    epoch_loss_ = 0.0;
    epoch_correct_ = epoch_examples_ = 0;
    comm_.barrier();  // time the epoch from a common start
    const auto epoch_start = Clock::now();
    std::int64_t step = 0;
    for (; step < steps; ++step) {
      if (config_.max_steps > 0 && global_step_ >= config_.max_steps) {
        step_limit_reached = true;
        break;
      }
      train_step(static_cast<std::size_t>(step));
      progress_.step(step + 1, (step + 1) * config_.global_batch);
    }
    comm_.barrier();
    const double epoch_seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    if (config_.max_steps > 0 && global_step_ >= config_.max_steps) step_limit_reached = true;
    if (step == 0) break;  // the limit fell exactly on the previous epoch's end

    double sums[3] = {epoch_loss_, static_cast<double>(epoch_correct_),
                      static_cast<double>(epoch_examples_)};
    comm_.allreduce_sum(std::span<double>(sums, 3));
    const EvalResult val = evaluate(model_, data_.val, comm_, config_.eval_batch);
    EpochSummary s;
    s.epoch = epoch;
    s.step = global_step_;
    s.train_loss = sums[0] / sums[2];
    s.train_acc = sums[1] / sums[2];
    s.val_loss = val.loss;
    s.val_acc = val.accuracy;
    s.epoch_seconds = epoch_seconds;
    s.samples_per_sec = sums[2] / epoch_seconds;
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
    metrics_.write(line);
    result.epochs_completed = epoch;
    result.train_seconds += epoch_seconds;
    result.samples += static_cast<std::int64_t>(sums[2]);
  }
  result.steps = global_step_;
  result.test = evaluate(model_, data_.test, comm_, config_.eval_batch);
  result.seconds = std::chrono::duration<double>(Clock::now() - run_start).count();
  metrics_.write({{"event", "final"},
                  {"test_loss", result.test.loss},
                  {"test_acc", result.test.accuracy},
                  {"world_size", comm_.size()},
                  {"steps", result.steps},
                  {"seconds", result.seconds}});
  return result;
}

}  // namespace dtrain::train
