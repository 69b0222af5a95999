#include "train/early_stopping.h"

#include <algorithm>

#include "core/errors.h"
#include "nn/model_config.h"

namespace dtrain::train {

std::vector<std::string> EarlyStopping::keys_for(const std::string& task_kind) {
  if (task_kind == nn::kTaskClassify) return {"val_loss", "val_acc"};
  if (task_kind == nn::kTaskLanguageModel) return {"val_loss", "val_bpc"};
  if (task_kind == nn::kTaskReconstruct) return {"val_mse"};
  return {};  // a GAN's losses are no measure of its quality
}

EarlyStopping::EarlyStopping(int patience, std::string monitor, const std::string& task_kind)
    : patience_(patience), monitor_(std::move(monitor)) {
  const auto keys = keys_for(task_kind);
  if (monitor_.empty() && !keys.empty()) monitor_ = keys.front();
  if (std::find(keys.begin(), keys.end(), monitor_) == keys.end()) {
    std::string known;
    for (const auto& k : keys) known += (known.empty() ? "" : ", ") + k;
    throw ConfigError("--monitor: a " + task_kind + " model's epochs report " +
                      (known.empty() ? std::string("no validation figure to monitor") : known) +
                      (monitor_.empty() ? std::string() : ", not " + monitor_));
  }
}

bool EarlyStopping::observe(int epoch, std::int64_t step, double score) {
  const bool better = state_.best_epoch == 0 ||
                      (higher_is_better() ? score > state_.best_score : score < state_.best_score);
  if (better) {
    state_.best_epoch = epoch;
    state_.best_score = score;
    state_.best_step = step;
    state_.epochs_without_improvement = 0;
  } else {
    ++state_.epochs_without_improvement;
  }
  return better;
}

void EarlyStopping::add_epoch_keys(nlohmann::json& line) const {
  line["best_epoch"] = state_.best_epoch;
  line["best_score"] = state_.best_score;
}

void EarlyStopping::add_final_keys(nlohmann::json& line, bool stopped_early, bool keep_best) const {
  line["stopped_early"] = stopped_early;
  add_epoch_keys(line);
  if (keep_best && state_.best_epoch > 0) {
    line["best_checkpoint"] = "ckpt-" + std::to_string(state_.best_step) + ".pb";
  }
}

}  // namespace dtrain::train
