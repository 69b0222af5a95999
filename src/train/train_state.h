#pragma once
// The state a checkpoint holds, as plain data. The trainer fills and consumes it; src/ckpt
// turns it into protobuf and files, so train/ stays free of protobuf (docs/design.md "Layout").
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "nn/model_config.h"
#include "nn/param_arena.h"
#include "optim/lr_schedule.h"
#include "optim/optimizer.h"
#include "train/early_stopping.h"

namespace dtrain::train {

// One trained network and its optimizer's state (a GAN has two, each with its own Adam).
struct ModelState {
  std::string role;  // "model", or "generator" / "discriminator"
  std::vector<nn::ParamSlot> slots;
  std::vector<float> params;  // the whole arena
  std::int64_t optimizer_steps = 0;
  std::vector<optim::StateArray> optimizer_state;
  // --error-feedback residuals, one whole arena per rank (rank order); empty without it.
  std::vector<std::vector<float>> error_feedback;
};

struct TrainState {
  nn::ModelConfig model;  // the whole spec (a GAN's holds both networks)
  // The first network (a classifier's or autoencoder's only one, a GAN's generator) is
  // kept flat here, so single-network code reads state.params directly; the others follow
  // in other_models. models() / set_models() see them all in checkpoint order.
  std::string role = "model";
  std::vector<nn::ParamSlot> slots;
  std::vector<float> params;         // the whole arena
  optim::OptimizerConfig optimizer;  // kind and hyper-parameters, the same for every model
  std::int64_t optimizer_steps = 0;
  std::vector<optim::StateArray> optimizer_state;
  std::vector<std::vector<float>> error_feedback;
  std::vector<ModelState> other_models;  // a GAN's discriminator
  int epoch = 1;                         // epoch in progress, from 1
  std::int64_t step_in_epoch = 0;  // steps of `epoch` done; == steps per epoch: epoch complete
  std::int64_t global_step = 0;
  std::uint64_t seed = 0;
  int world_size = 1;
  // Run configuration at save time (checked or reported on resume).
  int global_batch = 0;
  float lr = 0.0f;
  bool linear_lr_scaling = false;
  double warmup_epochs = 0.0;
  optim::ScheduleConfig schedule;  // --lr-schedule, --min-lr, --warmup-steps, step decay
  float clip_grad_norm = 0.0f;
  int early_stopping = 0;  // --early-stopping, --monitor, --keep-best and where they stand
  std::string monitor;
  bool keep_best = false;
  EarlyStoppingState early;
  int accumulate = 1;  // --accumulate (steps are saved whole: no micro-batch is pending)
  int epochs = 0;
  std::int64_t max_steps = 0;
  std::string model_name;
  // The task's running sums of the epoch in progress (classifier: loss, correct, examples),
  // summed over all ranks, so a run resumed mid-epoch reports the same epoch figures as an
  // uninterrupted one.
  std::vector<double> epoch_sums;
  std::vector<std::string> metrics;  // metrics-file lines written so far

  // Calls f(role, slots, params, optimizer_steps, optimizer_state, error_feedback) for every
  // network in checkpoint order, by reference (const or not, as `state` is): what encoding a
  // checkpoint reads, and may free as it goes, without the copies models() makes.
  template <typename State, typename F>
  static void for_each_model(State& state, F&& f) {
    f(state.role, state.slots, state.params, state.optimizer_steps, state.optimizer_state,
      state.error_feedback);
    for (auto& m : state.other_models) {
      f(m.role, m.slots, m.params, m.optimizer_steps, m.optimizer_state, m.error_feedback);
    }
  }

  // Every network in checkpoint order (nn::build_networks'), as copies.
  std::vector<ModelState> models() const {
    std::vector<ModelState> all{
        {role, slots, params, optimizer_steps, optimizer_state, error_feedback}};
    all.insert(all.end(), other_models.begin(), other_models.end());
    return all;
  }
  void set_models(std::vector<ModelState> all) {
    auto& first = all.front();
    role = std::move(first.role);
    slots = std::move(first.slots);
    params = std::move(first.params);
    optimizer_steps = first.optimizer_steps;
    optimizer_state = std::move(first.optimizer_state);
    error_feedback = std::move(first.error_feedback);
    other_models.assign(std::make_move_iterator(all.begin() + 1),
                        std::make_move_iterator(all.end()));
  }
};

// Where the trainer's checkpoints go. Only rank 0 calls save(); implementations write
// atomically (src/ckpt). Throws on failure; the trainer makes every rank agree on it.
class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  // Returns a description of what was written (e.g. the file name) for the log.
  // Takes the state by value: a store may free its arrays while encoding them.
  virtual std::string save(TrainState state) = 0;
};

}  // namespace dtrain::train
