#pragma once
// What a model family trains for: classify (labels, softmax cross-entropy), reconstruct (an
// autoencoder: MSE against its own input) or gan (a generator and a discriminator).
// The Trainer owns the one loop every family shares (epochs, steps, stop requests,
// gradient averaging, optimizer steps, checkpoints, the metrics file); a Task owns what
// one step computes on this rank's examples, which figures an epoch reports and how a
// data set is evaluated. So a new family adds a Task, not a copy of the loop.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "data/dataset.h"
#include "nn/model_config.h"
#include "nn/sequential.h"
#include "render/confusion_matrix.h"

namespace dtrain::train {

// This rank's part of one global batch.
struct StepBatch {
  const tensor::Tensor& x;               // [n, example shape]
  std::span<const std::int32_t> labels;  // empty unless the task needs labels
  std::size_t first_position = 0;        // position of x[0] in the global batch
  std::uint64_t step_seed = 0;           // derive_seed(seed, global step): same on all ranks
  std::uint64_t rank_seed = 0;           // derive_seed(seed, global step, rank): dropout
  double normalizer = 1.0;               // the global batch size
  // --accumulate: false for the 2nd..Nth micro-batch of a step, whose gradients add to
  // the step's (the task zeroes gradients only when true).
  bool zero_grads = true;
  nn::BatchStatsReducer* batch_stats = nullptr;  // sums over ranks (null: one rank)
};

// Loss and accuracy of a classifier.
struct EvalResult {
  double loss = 0.0;  // mean over the examples
  double accuracy = 0.0;
  std::int64_t count = 0;
  render::ConfusionMatrix confusion;  // over every rank's examples
};

// Figures for the metrics file (`json`) and for rank 0's epoch / final line (`text`).
struct Report {
  nlohmann::json json = nlohmann::json::object();
  std::string text;
  std::int64_t examples = 0;  // a final report: examples evaluated
  EvalResult classifier;      // a classifier's final report: its test figures
};

// What the pictures of --output-dir are captioned with and where they go.
struct OutputContext {
  std::string output_dir;
  std::string model_name;  // the model spec's name
  int epoch = 0;           // the epoch just finished (write_epoch_outputs)
  int image_scale = 0;     // --image-scale (0: automatic, see image_grid.h)
};

struct TaskModel {
  std::string role;  // "model", "generator", "discriminator" (checkpoint order)
  nn::Sequential* model;
};

// The Trainer's part of a step, for model i (models() order).
class ModelUpdates {
 public:
  virtual ~ModelUpdates() = default;
  // Pass to the backward pass that completes model i's parameter gradients for the step
  // (and to no other): it hears of each layer whose gradients are final, so their buckets
  // start reducing over ranks while backward goes on. Null when nothing listens.
  virtual const nn::ParamGradsFinal* grads_final(std::size_t model_index) = 0;
  // Once model i's local gradients are complete: wait for their sum over ranks, check them
  // (and this rank's loss) are finite, apply the optimizer. Collective.
  virtual void update(std::size_t model_index, double local_loss) = 0;
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string kind() const = 0;
  const std::vector<TaskModel>& models() const { return models_; }
  // Shape of one training example (the data the loop gathers).
  virtual const tensor::Shape& example_shape() const = 0;
  virtual bool needs_labels() const { return false; }
  // Length of the per-epoch running sums train_step adds to (reduced over ranks).
  virtual std::size_t num_sums() const = 0;
  // Zeroes gradients (when batch.zero_grads), runs forward/backward (the last backward of
  // each model with updates.grads_final) and calls updates.update once per model, in an
  // order that is the same on every rank. With --accumulate N the Trainer calls it N times
  // per step; only the last call's grads_final and update reduce and step.
  virtual void train_step(const StepBatch& batch, std::span<double> sums,
                          ModelUpdates& updates) = 0;
  // The epoch's figures from the reduced sums, plus validation on `val`. Collective.
  virtual Report epoch_report(std::span<const double> sums, const data::Dataset& val,
                              comm::Communicator& comm, int eval_batch) = 0;
  // The figures of the final line, on `test`. Collective.
  virtual Report final_report(const data::Dataset& test, comm::Communicator& comm,
                              int eval_batch) = 0;
  // Rank 0 only, at each epoch end when --output-dir is set: images of the model's work.
  // Returns the file written (empty: none). Must not change anything training depends on.
  virtual std::string write_epoch_outputs(const OutputContext& /*out*/,
                                          const data::DataSplits& /*data*/) {
    return {};
  }
  // The same after final_report (e.g. a classifier's test-set confusion matrix).
  virtual std::string write_final_outputs(const OutputContext& /*out*/,
                                          const data::DataSplits& /*data*/) {
    return {};
  }

 protected:
  std::vector<TaskModel> models_;
  std::vector<nn::Network> owned_;  // networks built by make_task
};

// Builds the spec's networks (nn::build_networks) and the task that trains them; the task
// owns them. seed: the run's seed (a GAN's fixed noise for its sample grid derives from it).
std::unique_ptr<Task> make_task(const nn::ModelConfig& spec, std::uint64_t seed);
// A classify or reconstruct task over a network the caller owns.
std::unique_ptr<Task> make_single_model_task(const std::string& kind, nn::Sequential& model);
// The families, one source file each; the networks belong to the caller.
std::unique_ptr<Task> make_classify_task(nn::Sequential& model);
std::unique_ptr<Task> make_reconstruct_task(nn::Sequential& model);
std::unique_ptr<Task> make_language_model_task(nn::Sequential& model);
// range: the generator's image range (real images are mapped to it for the discriminator).
std::unique_ptr<Task> make_gan_task(nn::Sequential& generator, nn::Sequential& discriminator,
                                    nn::ImageRange range, std::uint64_t seed);

// Evaluations, sharded over ranks without padding and reduced, so every example counts once.
EvalResult evaluate(nn::Sequential& model, const data::Dataset& ds, comm::Communicator& comm,
                    int eval_batch);

// Reconstruction error of an autoencoder: mean over examples and pixels of (y - x)^2.
struct ReconstructionResult {
  double mse = 0.0;
  std::int64_t count = 0;
};
ReconstructionResult evaluate_reconstruction(nn::Sequential& model, const data::Dataset& ds,
                                             comm::Communicator& comm, int eval_batch);

// A language model's figures on sequences [T + 1, 1, 1] of token ids (language_model_task.cpp):
// mean cross-entropy (nats) and bits per character over every position of every sequence.
struct LanguageModelResult {
  double loss = 0.0, bits_per_char = 0.0;
  std::int64_t positions = 0, sequences = 0;
};
LanguageModelResult evaluate_language_model(nn::Sequential& model, const data::Dataset& ds,
                                            comm::Communicator& comm, int eval_batch);
// Sequences [n, T + 1, 1, 1] -> the model's inputs [n, T, 1, 1] (ids 0..T-1 of each) and
// its n * T targets (ids 1..T), sample-major.
void split_inputs_targets(const nn::Sequential& model, const tensor::Tensor& sequences,
                          tensor::Tensor& inputs, std::vector<std::int32_t>& targets);

// A GAN's losses on a data set: d_loss = BCE(D(x), 1) + BCE(D(G(z)), 0) and the generator's
// non-saturating g_loss = BCE(D(G(z)), 1), means over the examples, with one noise vector
// per example index drawn from `seed` (so the figure does not depend on the rank count);
// real images are mapped to the generator's `range` first.
struct GanEvalResult {
  double d_loss = 0.0, g_loss = 0.0;
  std::int64_t count = 0;
};
GanEvalResult evaluate_gan(nn::Sequential& generator, nn::Sequential& discriminator,
                           nn::ImageRange range, const data::Dataset& ds, comm::Communicator& comm,
                           int eval_batch, std::uint64_t seed);

}  // namespace dtrain::train
