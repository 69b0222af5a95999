#include "train/task.h"

#include "core/errors.h"

namespace dtrain::train {

namespace {

// A task that owns the networks it trains.
class OwningTask final : public Task {
 public:
  OwningTask(std::vector<nn::Network> networks, std::unique_ptr<Task> inner)
      : inner_(std::move(inner)) {
    owned_ = std::move(networks);
    models_ = inner_->models();
  }
  std::string kind() const override { return inner_->kind(); }
  const tensor::Shape& example_shape() const override { return inner_->example_shape(); }
  bool needs_labels() const override { return inner_->needs_labels(); }
  std::size_t num_sums() const override { return inner_->num_sums(); }
  void train_step(const StepBatch& b, std::span<double> sums, ModelUpdates& updates) override {
    inner_->train_step(b, sums, updates);
  }
  Report epoch_report(std::span<const double> sums, const data::Dataset& val,
                      comm::Communicator& comm, int eval_batch) override {
    return inner_->epoch_report(sums, val, comm, eval_batch);
  }
  Report final_report(const data::Dataset& test, comm::Communicator& comm,
                      int eval_batch) override {
    return inner_->final_report(test, comm, eval_batch);
  }
  std::string write_epoch_outputs(const OutputContext& out, const data::DataSplits& data) override {
    return inner_->write_epoch_outputs(out, data);
  }
  std::string write_final_outputs(const OutputContext& out, const data::DataSplits& data) override {
    return inner_->write_final_outputs(out, data);
  }

 private:
  std::unique_ptr<Task> inner_;
};

}  // namespace

std::unique_ptr<Task> make_single_model_task(const std::string& kind, nn::Sequential& model) {
  if (kind == nn::kTaskClassify) return make_classify_task(model);
  if (kind == nn::kTaskReconstruct) return make_reconstruct_task(model);
  if (kind == nn::kTaskLanguageModel) return make_language_model_task(model);
  throw ConfigError("task '" + kind + "' does not train a single network");
}

std::unique_ptr<Task> make_task(const nn::ModelConfig& spec, std::uint64_t seed) {
  auto networks = nn::build_networks(spec);
  std::unique_ptr<Task> inner =
      spec.task_kind() == nn::kTaskGan
          ? make_gan_task(*networks[0].model, *networks[1].model, spec.image_range, seed)
          : make_single_model_task(spec.task_kind(), *networks[0].model);
  return std::make_unique<OwningTask>(std::move(networks), std::move(inner));
}

}  // namespace dtrain::train
