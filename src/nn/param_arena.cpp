#include "nn/param_arena.h"

#include <algorithm>
#include <stdexcept>

#include "core/errors.h"
#include "core/hash.h"

namespace dtrain::nn {

namespace {
constexpr std::size_t kAlignFloats = 16;  // 64 bytes: one cache line, one AVX-512 vector
}

std::size_t ParamArena::declare(const std::string& name, const Shape& shape) {
  if (finalized_) throw std::logic_error("ParamArena::declare after finalize: " + name);
  for (const auto& s : slots_) {
    if (s.name == name) throw ModelError("two parameters are named '" + name + "'");
  }
  ParamSlot slot{name, shape, next_offset_, shape.numel()};
  if (slot.size > kMaxParams || next_offset_ + slot.size > kMaxParams) {
    throw ModelError("parameter '" + name + "' " + shape.to_string() + " brings the model to " +
                     std::to_string(next_offset_ + slot.size) + " parameters; dtrain's limit is " +
                     std::to_string(kMaxParams) + " (512 MiB of float32 per array)");
  }
  next_offset_ += (slot.size + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
  slots_.push_back(std::move(slot));
  return slots_.size() - 1;
}

void ParamArena::finalize() {
  params_.resize(Shape{next_offset_});
  grads_.resize(Shape{next_offset_});
  params_.fill(0.0f);
  grads_.fill(0.0f);
  finalized_ = true;
}

void ParamArena::place_grads(std::span<float> storage) {
  if (!finalized_) throw std::logic_error("ParamArena::place_grads before finalize");
  if (storage.size() != grads_.numel()) {
    throw std::logic_error("ParamArena::place_grads: " + std::to_string(storage.size()) +
                           " floats for " + std::to_string(grads_.numel()) + " gradients");
  }
  if (storage.data() == grads_.data()) return;
  std::copy(grads_.span().begin(), grads_.span().end(), storage.begin());
  grads_.wrap(storage, grads_.shape());
}

std::span<float> ParamArena::param(std::size_t slot) {
  const auto& s = slots_.at(slot);
  return params_.span().subspan(s.offset, s.size);
}
std::span<const float> ParamArena::param(std::size_t slot) const {
  const auto& s = slots_.at(slot);
  return params_.span().subspan(s.offset, s.size);
}
std::span<float> ParamArena::grad(std::size_t slot) {
  const auto& s = slots_.at(slot);
  return grads_.span().subspan(s.offset, s.size);
}
std::span<const float> ParamArena::grad(std::size_t slot) const {
  const auto& s = slots_.at(slot);
  return grads_.span().subspan(s.offset, s.size);
}

std::size_t ParamArena::num_params() const {
  std::size_t n = 0;
  for (const auto& s : slots_) n += s.size;
  return n;
}

void ParamArena::zero_grads() {
  std::fill(grads_.span().begin(), grads_.span().end(), 0.0f);
}

std::uint64_t ParamArena::layout_fingerprint() const {
  Fingerprint f;
  f.add(static_cast<std::uint64_t>(slots_.size()));
  for (const auto& s : slots_) {
    f.add(s.name).add(static_cast<std::uint64_t>(s.offset));
    f.add(static_cast<std::uint64_t>(s.shape.rank()));
    for (std::size_t d : s.shape.dims()) f.add(static_cast<std::uint64_t>(d));
  }
  return f.value();
}

}  // namespace dtrain::nn
