#include "ckpt/checkpoint_codec.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <type_traits>

#include "ckpt/model_spec.h"
#include "ckpt/sha256.h"
#include "core/errors.h"
#include "dtrain.pb.h"

namespace dtrain::ckpt {

static_assert(std::endian::native == std::endian::little,
              "checkpoints store little-endian floats; add byte swapping for this platform");

namespace {

std::string pack(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

std::vector<float> unpack(const std::string& bytes, const std::string& what,
                          const std::string& source) {
  if (bytes.size() % sizeof(float) != 0) {
    throw CheckpointError(source + ": " + what + " holds " + std::to_string(bytes.size()) +
                          " bytes, not a whole number of float32 values");
  }
  std::vector<float> values(bytes.size() / sizeof(float));
  // memcpy's pointers must not be null even for 0 bytes, and an empty vector's may be.
  if (!values.empty()) std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}

// The payload message lives only in here, and is gone before the file message copies the
// serialized payload once more. From a state given to consume (a non-const State), each
// array is freed as soon as it is packed. So at most two copies of the model state exist
// at once (message and payload, then payload and file), where there were five (the state,
// a copy of it, the message, the payload, the file): 41 MB at the cnn's peak, now 17 MB.
template <typename State>
std::string encode_payload(State& s, std::size_t max_array_bytes) {
  constexpr bool kConsume = !std::is_const_v<State>;
  std::size_t bytes = 0;
  train::TrainState::for_each_model(
      s, [&](auto&, auto&, auto& params, auto, auto& state, auto& feedback) {
        bytes += params.size() * sizeof(float);
        for (const auto& a : state) bytes += a.values.size() * sizeof(float);
        for (const auto& r : feedback) bytes += r.size() * sizeof(float);
      });
  if (bytes > max_array_bytes) {
    throw CheckpointError("model too big for one checkpoint: " + std::to_string(bytes >> 20) +
                          " MiB of parameters and optimizer state, protobuf messages are "
                          "limited to 2 GiB");
  }
  auto take = [](auto& values) {
    std::string packed = pack(values);
    if constexpr (kConsume) std::vector<float>().swap(values);
    return packed;
  };
  proto::CheckpointPayload p;
  *p.mutable_model() = to_proto(s.model);
  train::TrainState::for_each_model(s, [&](auto& role, auto& slots, auto& params,
                                           std::int64_t steps, auto& state, auto& feedback) {
    auto* pm = p.add_models();
    pm->set_role(role);
    for (const auto& slot : slots) {
      auto* ps = pm->add_slots();
      ps->set_name(slot.name);
      for (std::size_t d : slot.shape.dims()) ps->add_shape(static_cast<std::int64_t>(d));
      ps->set_offset(static_cast<std::int64_t>(slot.offset));
      ps->set_size(static_cast<std::int64_t>(slot.size));
    }
    pm->set_params(take(params));
    auto* o = pm->mutable_optimizer();
    o->set_kind(s.optimizer.kind);
    o->set_momentum(s.optimizer.momentum);
    o->set_beta1(s.optimizer.beta1);
    o->set_beta2(s.optimizer.beta2);
    o->set_epsilon(s.optimizer.epsilon);
    o->set_weight_decay(s.optimizer.weight_decay);
    o->set_steps(steps);
    for (auto& a : state) {
      auto* fa = o->add_state();
      fa->set_name(a.name);
      fa->set_data(take(a.values));
    }
    for (auto& r : feedback) pm->add_error_feedback(take(r));
  });
  p.set_epoch(s.epoch);
  p.set_step_in_epoch(s.step_in_epoch);
  p.set_global_step(s.global_step);
  p.set_seed(s.seed);
  p.set_world_size(s.world_size);
  auto* r = p.mutable_run();
  r->set_global_batch(s.global_batch);
  r->set_lr(s.lr);
  r->set_linear_lr_scaling(s.linear_lr_scaling);
  r->set_warmup_epochs(s.warmup_epochs);
  r->set_epochs(s.epochs);
  r->set_max_steps(s.max_steps);
  r->set_model_name(s.model_name);
  r->set_lr_schedule(s.schedule.kind);
  r->set_min_lr(s.schedule.min_lr);
  r->set_warmup_steps(s.schedule.warmup_steps);
  r->set_lr_decay_steps(s.schedule.decay_steps);
  r->set_lr_decay_factor(s.schedule.decay_factor);
  r->set_clip_grad_norm(s.clip_grad_norm);
  r->set_accumulate(s.accumulate);
  r->set_early_stopping(s.early_stopping);
  r->set_monitor(s.monitor);
  r->set_keep_best(s.keep_best);
  p.set_best_epoch(s.early.best_epoch);
  p.set_best_score(s.early.best_score);
  p.set_best_step(s.early.best_step);
  p.set_epochs_without_improvement(s.early.epochs_without_improvement);
  for (double v : s.epoch_sums) p.add_epoch_sums(v);
  for (const auto& line : s.metrics) p.add_metrics(line);

  return p.SerializeAsString();
}

template <typename State>
std::string encode_file(State& s, std::size_t max_array_bytes) {
  proto::CheckpointFile file;
  file.set_format_version(kCheckpointFormatVersion);
  file.set_payload(encode_payload(s, max_array_bytes));
  const auto digest = sha256(file.payload().data(), file.payload().size());
  file.set_payload_sha256(digest.data(), digest.size());
  return file.SerializeAsString();
}

}  // namespace

std::string encode_checkpoint(const train::TrainState& s, std::size_t max_array_bytes) {
  return encode_file(s, max_array_bytes);
}

std::string encode_checkpoint(train::TrainState&& s, std::size_t max_array_bytes) {
  return encode_file(s, max_array_bytes);
}

train::TrainState decode_checkpoint(std::string_view bytes, const std::string& source) {
  auto fail = [&](const std::string& what) -> CheckpointError {
    return CheckpointError(source + ": " + what);
  };
  if (bytes.empty()) throw fail("empty file, not a dtrain checkpoint");
  if (bytes.size() > std::numeric_limits<int>::max()) throw fail("too large for a checkpoint");
  proto::CheckpointFile file;
  if (!file.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      file.format_version() == 0 || file.payload_sha256().size() != 32) {
    throw fail("not a dtrain checkpoint, or truncated (" + std::to_string(bytes.size()) +
               " bytes)");
  }
  if (file.format_version() > kCheckpointFormatVersion) {
    throw fail("checkpoint format version " + std::to_string(file.format_version()) +
               " is newer than this dtrain reads (" + std::to_string(kCheckpointFormatVersion) +
               "); use a newer dtrain");
  }
  if (file.format_version() < kCheckpointFormatVersion) {
    throw fail("checkpoint format version " + std::to_string(file.format_version()) +
               " predates per-model parameters (format " +
               std::to_string(kCheckpointFormatVersion) + "); it cannot be resumed");
  }
  const auto digest = sha256(file.payload().data(), file.payload().size());
  if (std::memcmp(digest.data(), file.payload_sha256().data(), digest.size()) != 0) {
    throw fail("damaged: the payload's SHA-256 does not match the one stored with it");
  }
  proto::CheckpointPayload p;
  if (!p.ParseFromString(file.payload())) throw fail("damaged: the payload does not parse");

  train::TrainState s;
  s.model = from_proto(p.model());
  if (p.models_size() == 0) throw fail("damaged: the checkpoint holds no model parameters");
  std::vector<train::ModelState> models;
  for (const auto& pm : p.models()) {
    train::ModelState m;
    m.role = pm.role();
    for (const auto& ps : pm.slots()) {
      std::vector<std::size_t> dims(ps.shape().begin(), ps.shape().end());
      m.slots.push_back({ps.name(), nn::Shape(std::move(dims)),
                         static_cast<std::size_t>(ps.offset()),
                         static_cast<std::size_t>(ps.size())});
    }
    m.params = unpack(pm.params(), m.role + " params", source);
    for (const auto& slot : m.slots) {
      // Compared without offset + size, which wraps for a forged offset near 2^64 (a
      // negative int64 in the file) and would let the slot point outside the parameters.
      if (slot.offset > m.params.size() || slot.size > m.params.size() - slot.offset ||
          slot.shape.numel() != slot.size) {
        throw fail("slot '" + slot.name + "' does not fit the stored parameters");
      }
    }
    const auto& o = pm.optimizer();
    // Every model is trained with the same optimizer kind and hyper-parameters.
    s.optimizer.kind = o.kind();
    s.optimizer.momentum = o.momentum();
    s.optimizer.beta1 = o.beta1();
    s.optimizer.beta2 = o.beta2();
    s.optimizer.epsilon = o.epsilon();
    s.optimizer.weight_decay = o.weight_decay();
    m.optimizer_steps = o.steps();
    for (const auto& fa : o.state()) {
      m.optimizer_state.push_back({fa.name(), unpack(fa.data(), "optimizer " + fa.name(), source)});
      if (m.optimizer_state.back().values.size() != m.params.size()) {
        throw fail("optimizer state '" + fa.name() + "' does not match the parameters' size");
      }
    }
    for (int r = 0; r < pm.error_feedback_size(); ++r) {
      m.error_feedback.push_back(unpack(
          pm.error_feedback(r), "error-feedback residual of rank " + std::to_string(r), source));
      if (m.error_feedback.back().size() != m.params.size()) {
        throw fail("the error-feedback residual of rank " + std::to_string(r) +
                   " does not match the parameters' size");
      }
    }
    models.push_back(std::move(m));
  }
  s.set_models(std::move(models));
  s.epoch = p.epoch();
  s.step_in_epoch = p.step_in_epoch();
  s.global_step = p.global_step();
  s.seed = p.seed();
  s.world_size = p.world_size();
  s.global_batch = p.run().global_batch();
  s.lr = p.run().lr();
  s.linear_lr_scaling = p.run().linear_lr_scaling();
  s.warmup_epochs = p.run().warmup_epochs();
  s.epochs = p.run().epochs();
  s.max_steps = p.run().max_steps();
  s.model_name = p.run().model_name();
  // Files from before these options: a constant schedule, step decay's default factor.
  s.schedule.kind = p.run().lr_schedule().empty() ? "constant" : p.run().lr_schedule();
  s.schedule.min_lr = p.run().min_lr();
  s.schedule.warmup_steps = p.run().warmup_steps();
  s.schedule.decay_steps = p.run().lr_decay_steps();
  if (p.run().lr_decay_factor() != 0.0f) s.schedule.decay_factor = p.run().lr_decay_factor();
  s.clip_grad_norm = p.run().clip_grad_norm();
  s.accumulate = std::max(1, p.run().accumulate());
  s.early_stopping = p.run().early_stopping();
  s.monitor = p.run().monitor();
  s.keep_best = p.run().keep_best();
  s.early = {.best_epoch = p.best_epoch(),
             .best_score = p.best_score(),
             .best_step = p.best_step(),
             .epochs_without_improvement = p.epochs_without_improvement()};
  s.epoch_sums.assign(p.epoch_sums().begin(), p.epoch_sums().end());
  s.metrics.assign(p.metrics().begin(), p.metrics().end());
  return s;
}

std::string params_sha256(const train::TrainState& state) {
  std::string bytes;
  for (const auto& m : state.models()) {
    for (const auto& slot : m.slots) {
      bytes.append(reinterpret_cast<const char*>(m.params.data() + slot.offset),
                   slot.size * sizeof(float));
    }
  }
  return sha256_hex(bytes.data(), bytes.size());
}

}  // namespace dtrain::ckpt
