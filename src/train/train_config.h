#pragma once
// Everything a training run is configured with, filled by the CLI from its options.
#include <cstdint>
#include <string>

#include "nn/model_config.h"
#include "optim/lr_schedule.h"
#include "optim/optimizer.h"

namespace dtrain::train {

enum class ProgressMode { kAuto, kAlways, kNever };

struct TrainConfig {
  std::string model_name = "cnn";
  int epochs = 5;
  int global_batch = 128;  // --batch-size: the GLOBAL batch, split over ranks
  float lr = 0.001f;
  bool linear_lr_scaling = false;
  double warmup_epochs = 0.0;
  // --lr-schedule and its options, --warmup-steps (optim/lr_schedule.h).
  optim::ScheduleConfig schedule;
  // --clip-grad-norm: the averaged gradient's global norm is scaled down to this (0: off).
  float clip_grad_norm = 0.0f;
  // --accumulate N: each optimizer step sums the gradients of N micro-batches of
  // global_batch / N examples (train/micro_batches.h); 1: one batch per step.
  int accumulate = 1;
  // --early-stopping PATIENCE (0: off), --monitor (empty: the task's loss), --keep-best
  // (train/early_stopping.h).
  int early_stopping = 0;
  std::string monitor;
  bool keep_best = false;
  std::uint64_t seed = 0;
  std::int64_t max_steps = 0;  // 0: no limit
  // Examples per forward pass during evaluation; 0: the global batch, at most 500. Not the
  // rank's share, so the results do not depend on the rank count; at np=1 evaluation runs
  // in the activation buffers training grew (a fixed 500 took 23 MB more for the cnn).
  int eval_batch = 0;
  optim::OptimizerConfig optimizer;
  std::string metrics_path;  // empty: no metrics file
  ProgressMode progress = ProgressMode::kAuto;
  bool log_epochs = true;  // rank 0 prints one line per epoch (tests turn it off)
  // Checkpoints (with a CheckpointStore): 0 = at each epoch end, N = every N global steps.
  std::int64_t checkpoint_every_steps = 0;
  // Stop at a step boundary on SIGTERM/SIGINT/SIGUSR1 (see stop_signal.h).
  bool stop_on_signals = false;
  std::string output_dir;  // rank 0 writes the task's images here at epoch ends (empty: none)
  int image_scale = 0;     // --image-scale: pixels per image pixel in grids (0: automatic)
  // Gradient communication (comm/gradient_synchronizer.h): reduce buckets on a
  // communication thread while backward runs; bucket size in MiB (<= 0: auto); 16-bit
  // gradients on the wire ("none", "fp16", "bf16") with optional error feedback.
  bool overlap = true;
  double bucket_mb = 0.0;
  std::string grad_compression = "none";
  bool error_feedback = false;
  // --timeline: rank 0 writes every rank's Chrome trace here at the end (empty: none).
  std::string timeline_path;
  // Hash of --allreduce and its size->algorithm table (comm::MpiCommunicator): part of the
  // fingerprint, so ranks that would pick different algorithms refuse to start.
  std::uint64_t allreduce_fingerprint = 0;
  nn::ModelConfig model_spec;  // saved in checkpoints so a file describes its own network
  // Takes model_spec.defaults (the model's own recipe) where the command line left the
  // choice open: the learning rate unless --lr was given; Adam's beta1.
  void apply_model_defaults(bool lr_given);
  // Ranks compare a fingerprint of this configuration at start-up.
  std::uint64_t fingerprint() const;
};

// The learning rate schedule of a run of `steps_per_epoch` global steps per epoch: warmup
// from --warmup-steps or --warmup-epochs, cosine over epochs x steps per epoch (or
// --max-steps, when that comes first).
optim::LrSchedule make_lr_schedule(const TrainConfig& config, std::int64_t steps_per_epoch);

}  // namespace dtrain::train
