#pragma once
// TrainState <-> the bytes of a checkpoint file (a dtrain.proto.CheckpointFile).
#include <cstdint>
#include <string>
#include <string_view>

#include "train/train_state.h"

namespace dtrain::ckpt {

// Format 2: parameters and optimizer state per model (CheckpointPayload.models).
inline constexpr std::uint32_t kCheckpointFormatVersion = 2;

// Protobuf refuses messages over 2 GiB; parameters and optimizer state must stay below
// this, with room for the rest of the message.
inline constexpr std::size_t kMaxCheckpointArrayBytes = std::size_t{2000} << 20;

// Throws CheckpointError when the arrays exceed max_array_bytes (one message's limit).
std::string encode_checkpoint(const train::TrainState& state,
                              std::size_t max_array_bytes = kMaxCheckpointArrayBytes);
// The same bytes from a state it consumes: each array is freed once packed, so encoding
// holds at most two copies of the model state at once (rank 0's peak while checkpointing).
std::string encode_checkpoint(train::TrainState&& state,
                              std::size_t max_array_bytes = kMaxCheckpointArrayBytes);

// Verifies the envelope, version and SHA-256 before parsing. Throws CheckpointError whose
// message starts with `source` and says what is wrong (damaged, truncated, newer format...).
train::TrainState decode_checkpoint(std::string_view bytes, const std::string& source);

// SHA-256 (hex) of the little-endian float32 parameters in arena order, padding between
// slots excluded, model after model in checkpoint order (a GAN: the generator's, then the
// discriminator's): the figure `dtrain inspect` prints as params_sha256.
std::string params_sha256(const train::TrainState& state);

}  // namespace dtrain::ckpt
