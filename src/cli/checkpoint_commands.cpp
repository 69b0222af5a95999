// dtrain inspect and dtrain eval: read a checkpoint, report on it.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "ckpt/checkpoint_codec.h"
#include "ckpt/checkpoint_files.h"
#include "cli/commands.h"
#include "comm/mpi/mpi_communicator.h"
#include "eval/frechet_distance.h"
#include "eval/gan_judge.h"
#include "tensor/blas.h"
#include "train/task.h"
#include "train/trainer.h"

namespace dtrain::cli {

namespace {

std::size_t num_params(const train::ModelState& m) {
  std::size_t n = 0;
  for (const auto& slot : m.slots) n += slot.size;
  return n;
}

std::size_t num_params(const train::TrainState& s) {
  std::size_t n = 0;
  for (const auto& m : s.models()) n += num_params(m);
  return n;
}

std::size_t num_layers(const nn::ModelConfig& c) {
  std::size_t n = c.layers.size();
  for (const auto& g : c.generator) n += num_layers(g);
  for (const auto& d : c.discriminator) n += num_layers(d);
  return n;
}

// The classifier that judges a GAN's samples (eval --classifier).
std::unique_ptr<train::Task> load_classifier(const std::string& option, const train::Task& gan) {
  if (gan.kind() != nn::kTaskGan) {
    throw ConfigError("--classifier: judges a GAN's samples, but --checkpoint holds a " +
                      gan.kind() + " model");
  }
  const std::string path = ckpt::resolve_checkpoint_path(option);
  const auto state = ckpt::decode_checkpoint(ckpt::read_checkpoint_bytes(path), path);
  auto task = train::make_task(state.model, state.seed);
  if (task->kind() != nn::kTaskClassify ||
      task->models()[0].model->arena().arena_size() != state.params.size()) {
    throw ConfigError("--classifier: " + path + " holds a " + task->kind() +
                      " model, not a classifier whose parameters fit");
  }
  std::copy(state.params.begin(), state.params.end(),
            task->models()[0].model->arena().params().begin());
  return task;
}

// Frechet distances in the classifier's features (train/frechet_distance.h): the samples
// against the whole test set, and the test set's first half against its second, the floor
// that real images themselves reach. Left out when too few images give no covariance.
void report_frechet(const eval::SampleJudgement& samples, const data::Dataset& test,
                    nn::Sequential& classifier, train::Report& r) {
  if (samples.count < 2 || test.size() < 4) return;
  const auto real = eval::judge_images(test, classifier, test.size());
  const std::size_t dim = real.features.dim, half = test.size() / 2;
  const std::span<const float> rows(real.features.values);
  const double fd = eval::frechet_distance(eval::feature_moments(samples.features.values, dim),
                                           eval::feature_moments(rows, dim));
  const double floor = eval::frechet_distance(eval::feature_moments(rows.first(half * dim), dim),
                                              eval::feature_moments(rows.subspan(half * dim), dim));
  r.json["frechet_distance"] = fd;  // NaN (null in JSON) when the features are not finite
  r.json["frechet_distance_real_halves"] = floor;
  r.json["frechet_real_images"] = real.count;
  r.json["frechet_features"] = {{"layer", real.features.layer}, {"size", dim}};
  char text[200];
  std::snprintf(text, sizeof text,
                "; Frechet distance %.3f to %lld test images (their halves: %.3f), %zu features "
                "of %s",
                fd, static_cast<long long>(real.count), floor, dim, real.features.layer.c_str());
  r.text += text;
}

}  // namespace

int run_inspect(const InspectOptions& o) {
  const std::string path = ckpt::resolve_checkpoint_path(o.checkpoint);
  const std::string bytes = ckpt::read_checkpoint_bytes(path);
  const auto s = ckpt::decode_checkpoint(bytes, path);  // verifies the SHA-256
  nlohmann::json metrics = nlohmann::json::array();
  for (const auto& line : s.metrics) metrics.push_back(nlohmann::json::parse(line));
  // params_sha256 covers the models in this order (a GAN: generator, then discriminator).
  nlohmann::json models = nlohmann::json::array();
  std::string roles;
  for (const auto& m : s.models()) {
    models.push_back(
        {{"role", m.role}, {"num_params", num_params(m)}, {"optimizer_steps", m.optimizer_steps}});
    roles += (roles.empty() ? "" : ", ") + m.role + " " + std::to_string(num_params(m));
  }
  nlohmann::json j{{"file", path},
                   {"bytes", bytes.size()},
                   {"format_version", ckpt::kCheckpointFormatVersion},
                   {"checksum", "ok"},
                   {"model", s.model.name},
                   {"model_option", s.model_name},
                   {"task", s.model.task_kind()},
                   {"layers", num_layers(s.model)},
                   {"models", models},
                   {"num_params", num_params(s)},
                   {"step", s.global_step},
                   {"epoch", s.epoch},
                   {"step_in_epoch", s.step_in_epoch},
                   {"world_size", s.world_size},
                   {"optimizer", s.optimizer.kind},
                   {"optimizer_steps", s.optimizer_steps},
                   {"global_batch", s.global_batch},
                   {"lr", s.lr},
                   {"adam_beta1", s.optimizer.beta1},
                   {"weight_decay", s.optimizer.weight_decay},
                   {"lr_schedule", s.schedule.kind},
                   {"min_lr", s.schedule.min_lr},
                   {"warmup_epochs", s.warmup_epochs},
                   {"warmup_steps", s.schedule.warmup_steps},
                   {"lr_decay_steps", s.schedule.decay_steps},
                   {"lr_decay_factor", s.schedule.decay_factor},
                   {"clip_grad_norm", s.clip_grad_norm},
                   {"accumulate", s.accumulate},
                   {"early_stopping", s.early_stopping},
                   {"monitor", s.monitor},
                   {"keep_best", s.keep_best},
                   {"best_epoch", s.early.best_epoch},
                   {"best_score", s.early.best_score},
                   {"best_step", s.early.best_step},
                   {"epochs_without_improvement", s.early.epochs_without_improvement},
                   {"seed", s.seed},
                   {"epochs", s.epochs},
                   {"metrics", metrics},
                   {"params_sha256", ckpt::params_sha256(s)}};
  if (s.model.task_kind() == nn::kTaskGan) {
    j["image_range"] =
        s.model.image_range == nn::ImageRange::kMinusOneToOne ? "minus_one_to_one" : "zero_to_one";
  }
  if (o.json) {
    std::printf("%s\n", j.dump().c_str());
    return kExitOk;
  }
  std::printf("%s: dtrain checkpoint, format %u, %zu bytes, checksum ok\n", path.c_str(),
              ckpt::kCheckpointFormatVersion, bytes.size());
  std::printf("  model          %s (--model %s, task %s), %zu layers, %zu parameters (%s)\n",
              s.model.name.c_str(), s.model_name.c_str(), s.model.task_kind().c_str(),
              num_layers(s.model), num_params(s), roles.c_str());
  std::printf("  position       global step %lld, epoch %d (%lld steps into it)\n",
              static_cast<long long>(s.global_step), s.epoch,
              static_cast<long long>(s.step_in_epoch));
  std::printf("  run            %d rank(s), global batch %d, %s lr %g, seed %llu, %d epochs\n",
              s.world_size, s.global_batch, s.optimizer.kind.c_str(), static_cast<double>(s.lr),
              static_cast<unsigned long long>(s.seed), s.epochs);
  std::printf("  params_sha256  %s\n", ckpt::params_sha256(s).c_str());
  for (const auto& m : metrics) {
    if (m.value("event", "") != "epoch") continue;
    std::string figures;
    for (const char* key : {"train_loss", "val_acc", "train_mse", "val_mse", "d_loss", "g_loss"}) {
      if (!m.contains(key)) continue;
      char text[64];
      std::snprintf(text, sizeof text, "  %s %.4f", key, m[key].get<double>());
      figures += text;
    }
    std::printf("  epoch %-3d    %s\n", m.value("epoch", 0), figures.c_str());
  }
  return kExitOk;
}

int run_eval(const EvalOptions& o) {
  comm::MpiCommunicator comm("ring");
  tensor::set_blas_threads(o.threads);
  train::TrainState state;
  std::unique_ptr<train::Task> task, classifier;
  data::DataSplits data;
  std::string path;
  agree_on_setup(comm, [&] {
    path = ckpt::resolve_checkpoint_path(o.checkpoint);
    state = ckpt::decode_checkpoint(ckpt::read_checkpoint_bytes(path), path);
    task = train::make_task(state.model, state.seed);
    const auto& models = task->models();
    const auto saved = state.models();
    bool fits = models.size() == saved.size();
    for (std::size_t i = 0; fits && i < models.size(); ++i) {
      fits = models[i].model->arena().arena_size() == saved[i].params.size();
    }
    if (!fits) {
      throw CheckpointError(path + ": the stored parameters do not fit model '" + state.model.name +
                            "'");
    }
    for (std::size_t i = 0; i < models.size(); ++i) {
      const auto& p = saved[i].params;
      std::copy(p.begin(), p.end(), models[i].model->arena().params().begin());
    }
    if (!o.classifier.empty()) classifier = load_classifier(o.classifier, *task);
    if (state.model.task_kind() == nn::kTaskLanguageModel) {
      nn::ModelConfig resolved = state.model;
      data = load_language_model_data(o.data, resolved);
      if (resolved.vocabulary != state.model.vocabulary) {
        throw DataError(
            o.data.path + ": its vocabulary (" + std::to_string(data.vocabulary.size()) +
            " distinct bytes) is not the one model '" + state.model.name + "' was trained with (" +
            std::to_string(state.model.vocabulary.size()) + ")");
      }
    } else {
      data = load_data(o.data, state.seed);  // the synthetic set is generated from the run's seed
    }
    check_data_fits(*task, data, state.model_name, o.data.path);
  });
  // A classifier: test loss and accuracy; an autoencoder: test MSE; a GAN: its two losses.
  train::Report r;
  run_guarded(comm, [&] { r = task->final_report(data.test, comm, 500); });
  if (comm.rank() != 0) return kExitOk;
  if (classifier) {
    // Rank 0 alone: a thousand samples are cheap, and the figure is then rank-count free.
    const auto judged = eval::judge_samples(*task->models()[0].model, state.model.image_range,
                                            *classifier->models()[0].model,
                                            static_cast<std::size_t>(o.samples), state.seed);
    int present = 0, confident_present = 0;
    for (std::size_t c = 0; c < judged.class_counts.size(); ++c) {
      present += judged.class_counts[c] > 0;
      confident_present += judged.confident_class_counts[c] > 0;
    }
    r.json["samples"] = judged.count;
    r.json["confident_share"] = judged.confident_share;
    r.json["classes_present"] = present;
    r.json["confident_classes_present"] = confident_present;
    r.json["class_counts"] = judged.class_counts;
    // The ceiling to read the share against: the same classifier on as many real images.
    const auto real = eval::judge_images(data.test, *classifier->models()[0].model,
                                         static_cast<std::size_t>(o.samples));
    r.json["real_images"] = real.count;
    r.json["real_confident_share"] = real.confident_share;
    char text[300];
    std::snprintf(text, sizeof text,
                  "; %lld samples: %.1f%% classified with confidence >= 0.9, %d of %zu classes "
                  "(%d among the confident ones); %lld real test images: %.1f%%",
                  static_cast<long long>(judged.count), 100.0 * judged.confident_share, present,
                  judged.class_counts.size(), confident_present, static_cast<long long>(real.count),
                  100.0 * real.confident_share);
    r.text += text;
    report_frechet(judged, data.test, *classifier->models()[0].model, r);
  }
  if (o.json) {
    nlohmann::json j{{"event", "eval"},
                     {"checkpoint", path},
                     {"step", state.global_step},
                     {"task", task->kind()},
                     {"test_examples", r.examples}};
    j.update(r.json);
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s (step %lld): %s  (%lld test examples)\n", path.c_str(),
                static_cast<long long>(state.global_step), r.text.c_str(),
                static_cast<long long>(r.examples));
  }
  return kExitOk;
}

}  // namespace dtrain::cli
