#pragma once
// All parameters of a model in one contiguous float array, and all gradients in a second
// array with the same layout. Layers declare (name, shape) during setup; finalize()
// assigns 64-byte aligned offsets and allocates once. Consequences (docs/design.md "Memory
// layout"): zeroing gradients is one memset, an optimizer is one loop over the array, the
// allreduce works in place on the gradient array, a checkpoint is a few flat arrays.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tensor/shape.h"
#include "tensor/tensor.h"

namespace dtrain::nn {

using tensor::Shape;

struct ParamSlot {
  std::string name;
  Shape shape;
  std::size_t offset = 0;  // in floats, from the start of the arena
  std::size_t size = 0;    // shape.numel()
};

class ParamArena {
 public:
  // At most 2^27 parameters (134M, GPT-2 small's size; 512 MiB of float32 per array), so
  // that any model that builds also fits in a checkpoint with its Adam state (three arrays,
  // within kMaxCheckpointArrayBytes), and so that a model spec of a few bytes (a dense layer
  // of a million units) cannot make dtrain allocate many GiB before it says what is wrong.
  static constexpr std::size_t kMaxParams = std::size_t{1} << 27;
  // Returns the slot index. Names must be unique within the model.
  std::size_t declare(const std::string& name, const Shape& shape);
  // Allocates parameters and gradients (zeroed). No declare() afterwards.
  void finalize();
  bool finalized() const { return finalized_; }
  // Moves the gradients into `storage` (arena_size() floats, e.g. a communicator's shared
  // array, so that the allreduce sums them in place); their values are kept. The storage
  // must outlive the arena's use. Only after finalize().
  void place_grads(std::span<float> storage);

  std::span<float> param(std::size_t slot);
  std::span<const float> param(std::size_t slot) const;
  std::span<float> grad(std::size_t slot);
  std::span<const float> grad(std::size_t slot) const;

  // The whole arrays, padding between slots included (padding is always zero).
  std::span<float> params() { return params_.span(); }
  std::span<const float> params() const { return params_.span(); }
  std::span<float> grads() { return grads_.span(); }
  std::span<const float> grads() const { return grads_.span(); }

  const std::vector<ParamSlot>& slots() const { return slots_; }
  std::size_t arena_size() const { return params_.numel(); }
  // Number of real parameters (padding excluded).
  std::size_t num_params() const;
  void zero_grads();
  // Names, shapes and offsets: ranks compare it at start-up so mismatched models fail fast.
  std::uint64_t layout_fingerprint() const;

 private:
  std::vector<ParamSlot> slots_;
  std::size_t next_offset_ = 0;
  bool finalized_ = false;
  tensor::Tensor params_;
  tensor::Tensor grads_;
};

}  // namespace dtrain::nn
