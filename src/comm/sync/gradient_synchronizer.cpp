#include "comm/sync/gradient_synchronizer.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "comm/liveness/progress_state.h"
#include "core/errors.h"

namespace dtrain::comm {

using Clock = std::chrono::steady_clock;

GradientSynchronizer::GradientSynchronizer(Communicator& comm, CommThread* thread,
                                           SyncOptions options)
    : comm_(comm), thread_(thread), options_(options) {
  if (options_.error_feedback && options_.compression == Compression::kNone) {
    throw ConfigError(
        "--error-feedback needs --grad-compression fp16 or bf16 (none drops nothing)");
  }
  if (options_.compression != Compression::kNone) {
    compressed_ = std::make_unique<CompressedAllreduce>(options_.compression);
  }
}

std::size_t GradientSynchronizer::add_model(std::span<float> grads,
                                            std::span<const LayerParams> layers) {
  Model model;
  model.grads = grads;
  model.buckets =
      plan_buckets(layers, grads.size(), bucket_sizes(options_.bucket_mb, grads.size_bytes()));
  std::size_t num_layers = 0;
  for (const auto& l : layers) num_layers = std::max(num_layers, l.layer + 1);
  model.closes.assign(num_layers, -1);
  for (std::size_t b = 0; b < model.buckets.size(); ++b) {
    model.closes[model.buckets[b].last_layer] = static_cast<std::ptrdiff_t>(b);
  }
  if (options_.error_feedback) model.residual.assign(grads.size(), 0.0f);
  model.seconds.assign(model.buckets.size(), 0.0);
  model.tickets.assign(model.buckets.size(), 0);
  models_.push_back(std::move(model));
  return models_.size() - 1;
}

std::string GradientSynchronizer::labels(std::size_t m, std::size_t b) const {
  return "\"model\":" + std::to_string(m) + ",\"bucket\":" + std::to_string(b) +
         ",\"step\":" + std::to_string(step_) +
         ",\"floats\":" + std::to_string(models_[m].buckets[b].size());
}

void GradientSynchronizer::reduce(Model& model, std::size_t m, std::size_t b) {
  const Bucket& bucket = model.buckets[b];
  const auto begin = Clock::now();
  auto data = model.grads.subspan(bucket.begin, bucket.size());
  liveness::ProgressState::instance().label_next(liveness::CollectiveKind::kGradientBucket,
                                                 static_cast<std::int32_t>(b));
  if (compressed_) {
    auto residual = model.residual.empty()
                        ? std::span<float>()
                        : std::span<float>(model.residual).subspan(bucket.begin, bucket.size());
    compressed_->allreduce_sum(comm_, data, residual);
  } else {
    comm_.allreduce_sum(data);
  }
  const auto end = Clock::now();
  model.seconds[b] = std::chrono::duration<double>(end - begin).count();
  if (options_.timeline) {
    options_.timeline->span(thread_ ? Timeline::kComm : Timeline::kMain,
                            "reduce bucket " + std::to_string(b), "reduce", begin, end,
                            labels(m, b));
  }
}

void GradientSynchronizer::start_through(Model& model, std::size_t m, std::size_t bucket) {
  // Strictly in bucket order, on every rank: collectives must match across ranks.
  for (; model.started <= bucket && model.started < model.buckets.size(); ++model.started) {
    const std::size_t b = model.started;
    if (options_.timeline) {
      options_.timeline->instant(Timeline::kMain, "bucket " + std::to_string(b) + " ready", "ready",
                                 Clock::now(), labels(m, b));
    }
    if (thread_) {
      model.tickets[b] = thread_->submit([this, &model, m, b] { reduce(model, m, b); });
    }
  }
}

void GradientSynchronizer::layer_final(std::size_t m, std::size_t layer) {
  Model& model = models_.at(m);
  if (!thread_ || layer >= model.closes.size() || model.closes[layer] < 0) return;
  if (comm_.size() == 1 && !compressed_) return;  // nothing to reduce
  start_through(model, m, static_cast<std::size_t>(model.closes[layer]));
}

void GradientSynchronizer::finish(std::size_t m) {
  Model& model = models_.at(m);
  if (comm_.size() == 1 && !compressed_) return;
  const auto begin = Clock::now();
  if (thread_) {
    // Buckets the task never reported (a backward pass without the hook) start now.
    if (!model.buckets.empty()) start_through(model, m, model.buckets.size() - 1);
    for (std::size_t b = 0; b < model.buckets.size(); ++b) {
      TimelineSpan wait(options_.timeline, Timeline::kMain, "wait bucket " + std::to_string(b),
                        "wait", options_.timeline ? labels(m, b) : std::string());
      thread_->wait(model.tickets[b]);
    }
  } else {
    start_through(model, m, model.buckets.size());
    for (std::size_t b = 0; b < model.buckets.size(); ++b) reduce(model, m, b);
  }
  exposed_seconds_ += std::chrono::duration<double>(Clock::now() - begin).count();
  for (std::size_t b = 0; b < model.buckets.size(); ++b) comm_seconds_ += model.seconds[b];
  model.started = 0;
}

}  // namespace dtrain::comm
