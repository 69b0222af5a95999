#include "train/checkpointing.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/errors.h"

namespace dtrain::train {

namespace {

[[noreturn]] void mismatch(const std::string& what) {
  CheckpointError error("the checkpoint does not fit this run: " + what);
  error.mark_collective();
  throw error;
}

bool same_layout(const TrainState& state, const std::vector<TaskModel>& models) {
  const auto saved_models = state.models();
  if (saved_models.size() != models.size()) return false;
  for (std::size_t m = 0; m < models.size(); ++m) {
    const auto& arena = models[m].model->arena();
    const auto& slots = arena.slots();
    const auto& saved = saved_models[m];
    if (saved.role != models[m].role || saved.slots.size() != slots.size() ||
        saved.params.size() != arena.arena_size()) {
      return false;
    }
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (saved.slots[i].name != slots[i].name || saved.slots[i].shape != slots[i].shape ||
          saved.slots[i].offset != slots[i].offset) {
        return false;
      }
    }
  }
  return true;
}

template <typename T>
void same_option(const char* option, const T& saved, const T& now, const std::string& why) {
  if (saved == now) return;
  std::ostringstream text;
  text << "it was trained with " << option << " " << saved << ", this run uses " << now << " ("
       << why << ")";
  mismatch(text.str());
}

// The recipe's newer options: a resumed run continues the same schedule, clipping and
// decay, so a run resumed with other values would silently not be the run it continues.
void check_recipe_fits(const TrainState& state, const TrainConfig& config) {
  const std::string exact = "a resumed run continues the same recipe";
  same_option("--lr-schedule", state.schedule.kind, config.schedule.kind, exact);
  same_option("--min-lr", state.schedule.min_lr, config.schedule.min_lr, exact);
  same_option("--warmup-steps", state.schedule.warmup_steps, config.schedule.warmup_steps, exact);
  if (config.schedule.kind == "step") {
    same_option("--lr-decay-steps", state.schedule.decay_steps, config.schedule.decay_steps, exact);
    same_option("--lr-decay-factor", state.schedule.decay_factor, config.schedule.decay_factor,
                exact);
  }
  same_option("--clip-grad-norm", state.clip_grad_norm, config.clip_grad_norm, exact);
  same_option("--monitor", state.monitor.empty() ? std::string("(default)") : state.monitor,
              config.monitor.empty() ? std::string("(default)") : config.monitor,
              "the best score so far is in its terms");
  same_option("--accumulate", state.accumulate, config.accumulate,
              "the position in the epoch is counted in micro-batches of batch / accumulate");
  same_option("--weight-decay", state.optimizer.weight_decay, config.optimizer.weight_decay, exact);
}

}  // namespace

TrainState capture_state(const TrainConfig& config, LiveModels live,
                         std::vector<std::vector<std::vector<float>>> residuals,
                         RunPosition position, int world_size, std::vector<double> epoch_sums,
                         std::vector<std::string> metrics) {
  TrainState state;
  state.model = config.model_spec;
  std::vector<ModelState> saved_models;
  for (std::size_t m = 0; m < live.models.size(); ++m) {
    const auto& arena = live.models[m].model->arena();
    ModelState saved;
    saved.role = live.models[m].role;
    saved.slots = arena.slots();
    const auto params = arena.params();
    for (float p : params) {
      if (!std::isfinite(p)) throw TrainingError("parameters are not finite; not saving them");
    }
    saved.params.assign(params.begin(), params.end());
    saved.optimizer_steps = live.optimizers[m]->steps();
    saved.optimizer_state = live.optimizers[m]->state();
    saved.error_feedback = std::move(residuals[m]);
    saved_models.push_back(std::move(saved));
  }
  state.set_models(std::move(saved_models));
  state.optimizer = config.optimizer;
  state.epoch = position.epoch;
  state.step_in_epoch = position.step_in_epoch;
  state.global_step = position.global_step;
  state.world_size = world_size;
  // The run's configuration: what check_state_fits compares on resume, and what
  // `dtrain inspect` reports.
  state.seed = config.seed;
  state.global_batch = config.global_batch;
  state.lr = config.lr;
  state.linear_lr_scaling = config.linear_lr_scaling;
  state.warmup_epochs = config.warmup_epochs;
  state.schedule = config.schedule;
  state.clip_grad_norm = config.clip_grad_norm;
  state.accumulate = config.accumulate;
  state.early_stopping = config.early_stopping;
  state.monitor = config.monitor;
  state.keep_best = config.keep_best;
  state.epochs = config.epochs;
  state.max_steps = config.max_steps;
  state.model_name = config.model_name;
  state.epoch_sums = std::move(epoch_sums);
  state.metrics = std::move(metrics);
  return state;
}

void check_state_fits(const TrainState& state, const TrainConfig& config, LiveModels live) {
  if (!same_layout(state, live.models)) {
    mismatch("it holds model '" + state.model.name + "' (" + state.model_name +
             ") but --model is '" + config.model_name + "' with another parameter layout");
  }
  if (state.optimizer.kind != config.optimizer.kind) {
    mismatch("it was trained with --optimizer " + state.optimizer.kind + ", this run uses " +
             config.optimizer.kind);
  }
  if (state.global_batch != config.global_batch) {
    mismatch("it was trained with --batch-size " + std::to_string(state.global_batch) +
             ", this run uses " + std::to_string(config.global_batch) +
             " (the position in the epoch is counted in global batches)");
  }
  if (state.seed != config.seed) {
    mismatch("it was trained with --seed " + std::to_string(state.seed) + ", this run uses " +
             std::to_string(config.seed) + " (the data order depends on it)");
  }
  check_recipe_fits(state, config);
  const auto saved_models = state.models();
  for (std::size_t m = 0; m < live.models.size(); ++m) {
    const auto& arrays = live.optimizers[m]->state();
    const auto& saved = saved_models[m].optimizer_state;
    if (arrays.size() != saved.size()) mismatch("optimizer state arrays differ");
    for (std::size_t i = 0; i < arrays.size(); ++i) {
      if (arrays[i].values.size() != saved[i].values.size()) {
        mismatch("optimizer state '" + arrays[i].name + "' has another size");
      }
    }
  }
}

void restore_models(const TrainState& state, LiveModels live) {
  TrainState::for_each_model(
      state, [&, m = std::size_t{0}](const std::string&, const auto&, const auto& params,
                                     std::int64_t optimizer_steps, const auto& optimizer_state,
                                     const auto&) mutable {
        std::copy(params.begin(), params.end(), live.models[m].model->arena().params().begin());
        auto& optimizer = *live.optimizers[m];
        optimizer.set_steps(optimizer_steps);
        auto& arrays = optimizer.state();
        for (std::size_t i = 0; i < arrays.size(); ++i)
          arrays[i].values = optimizer_state[i].values;
        ++m;
      });
}

std::vector<std::vector<float>> gather_to_rank0(comm::Communicator& comm,
                                                std::span<const float> mine) {
  if (mine.empty()) return {};
  std::vector<std::vector<float>> all;
  std::vector<float> buffer(mine.size());
  for (int r = 0; r < comm.size(); ++r) {
    if (r == comm.rank()) std::copy(mine.begin(), mine.end(), buffer.begin());
    comm.broadcast(std::span<float>(buffer), r);
    if (comm.rank() == 0) all.push_back(buffer);
  }
  return all;
}

}  // namespace dtrain::train
