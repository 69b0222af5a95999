// Checkpoint encoding: round trip, and every kind of damaged or foreign file gives a
// CheckpointError (exit 3) naming the file and what is wrong, never a crash.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ckpt/checkpoint_codec.h"
#include "ckpt/checkpoint_files.h"
#include "ckpt/sha256.h"
#include "cli/model_registry.h"
#include "core/errors.h"
#include "core/rng.h"
#include "dtrain.pb.h"
#include "nn/model_config.h"

namespace dtrain::ckpt {
namespace {

train::TrainState sample_state() {
  train::TrainState s;
  s.model = cli::load_model_config("mlp");
  auto model = nn::build_model(s.model);
  model->init_params(3);
  s.slots = model->arena().slots();
  const auto p = model->arena().params();
  s.params.assign(p.begin(), p.end());
  s.optimizer.kind = "adam";
  s.optimizer_steps = 17;
  s.optimizer_state = {{"m", std::vector<float>(s.params.size(), 0.25f)},
                       {"v", std::vector<float>(s.params.size(), 0.5f)}};
  s.epoch = 2;
  s.step_in_epoch = 5;
  s.global_step = 50;
  s.seed = 9;
  s.world_size = 4;
  s.global_batch = 128;
  s.lr = 0.001f;
  s.epochs = 5;
  s.model_name = "mlp";
  s.epoch_sums = {1.5, 7.0, 12.0};
  s.metrics = {R"({"event":"epoch","epoch":1})"};
  return s;
}

void expect_checkpoint_error(std::string_view bytes, const std::string& expected_text) {
  try {
    decode_checkpoint(bytes, "ckpt-test.pb");
    ADD_FAILURE() << "expected CheckpointError containing '" << expected_text << "'";
  } catch (const CheckpointError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("ckpt-test.pb"), std::string::npos) << msg;
    EXPECT_NE(msg.find(expected_text), std::string::npos) << msg;
    EXPECT_EQ(e.exit_code(), kExitBadInput);
  }
}

// The consuming encoder (what rank 0 uses, freeing each array once packed) writes the same
// bytes as the copying one, for one network and for a GAN's two with error feedback.
TEST(CheckpointCodec, ConsumingEncoderWritesTheSameBytes) {
  train::TrainState s = sample_state();
  s.error_feedback = {std::vector<float>(s.params.size(), -0.125f)};
  s.other_models.push_back({"discriminator",
                            s.slots,
                            std::vector<float>(s.params.size(), 1.5f),
                            4,
                            {{"m", std::vector<float>(s.params.size(), 0.75f)}},
                            {}});
  const std::string copied = encode_checkpoint(s);
  train::TrainState consumed = s;
  EXPECT_EQ(encode_checkpoint(std::move(consumed)), copied);
  const auto d = decode_checkpoint(copied, "both.pb");
  ASSERT_EQ(d.models().size(), 2u);
  EXPECT_EQ(d.other_models[0].params, s.other_models[0].params);
  EXPECT_EQ(d.error_feedback, s.error_feedback);
}

TEST(CheckpointCodec, GanCheckpointHoldsBothNetworksWithTheirOptimizers) {
  train::TrainState s;
  s.model = cli::load_model_config("gan");
  const auto networks = nn::build_networks(s.model);
  std::vector<train::ModelState> models;
  for (std::size_t i = 0; i < networks.size(); ++i) {
    networks[i].model->init_params(i + 1);
    const auto p = networks[i].model->arena().params();
    models.push_back({networks[i].role,
                      networks[i].model->arena().slots(),
                      {p.begin(), p.end()},
                      static_cast<std::int64_t>(10 + i),
                      {{"m", std::vector<float>(p.size(), 0.25f * float(i + 1))},
                       {"v", std::vector<float>(p.size(), 0.5f)}}});
  }
  s.set_models(models);
  s.optimizer.kind = "adam";
  s.optimizer.beta1 = 0.5f;
  s.epoch_sums = {1.0, 2.0, 3.0};
  const auto d = decode_checkpoint(encode_checkpoint(s), "gan.pb");
  const auto decoded = d.models();
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(decoded[0].role, "generator");
  EXPECT_EQ(decoded[1].role, "discriminator");
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(decoded[i].params, models[i].params);
    EXPECT_EQ(decoded[i].optimizer_steps, models[i].optimizer_steps);
    EXPECT_EQ(decoded[i].optimizer_state[0].values, models[i].optimizer_state[0].values);
  }
  EXPECT_EQ(d.optimizer.beta1, 0.5f);
  EXPECT_EQ(d.model.task, "gan");
  ASSERT_EQ(d.model.discriminator.size(), 1u);
  // The DCGAN's spec comes back whole, the new layer options included.
  const auto& layers = d.model.discriminator[0].layers;
  ASSERT_EQ(layers.size(), s.model.discriminator[0].layers.size());
  EXPECT_EQ(layers[2].type, "conv2d");
  EXPECT_TRUE(layers[2].no_bias);
  EXPECT_EQ(layers[3].type, "batchnorm");
  EXPECT_TRUE(layers[3].sync);
  EXPECT_EQ(d.model.generator[0].layers[5].type, "conv2d_transpose");
  EXPECT_EQ(d.model.generator[0].layers[5].stride, 2);
  // params_sha256 covers the generator, then the discriminator.
  const auto before = params_sha256(d);
  auto changed = d;
  changed.other_models[0].params[0] += 1.0f;
  EXPECT_NE(params_sha256(changed), before);
}

TEST(CheckpointCodec, RoundTripKeepsEverything) {
  auto s = sample_state();
  s.model.defaults = {.lr = 0.003f, .adam_beta1 = 0.5f, .batch_size = 24};
  const auto d = decode_checkpoint(encode_checkpoint(s), "x");
  EXPECT_EQ(d.params, s.params);
  ASSERT_EQ(d.slots.size(), s.slots.size());
  for (std::size_t i = 0; i < d.slots.size(); ++i) {
    EXPECT_EQ(d.slots[i].name, s.slots[i].name);
    EXPECT_EQ(d.slots[i].shape, s.slots[i].shape);
    EXPECT_EQ(d.slots[i].offset, s.slots[i].offset);
  }
  EXPECT_EQ(d.optimizer.kind, "adam");
  EXPECT_EQ(d.optimizer_steps, 17);
  ASSERT_EQ(d.optimizer_state.size(), 2u);
  EXPECT_EQ(d.optimizer_state[1].name, "v");
  EXPECT_EQ(d.optimizer_state[1].values, s.optimizer_state[1].values);
  EXPECT_EQ(d.epoch, 2);
  EXPECT_EQ(d.step_in_epoch, 5);
  EXPECT_EQ(d.global_step, 50);
  EXPECT_EQ(d.seed, 9u);
  EXPECT_EQ(d.world_size, 4);
  EXPECT_EQ(d.global_batch, 128);
  EXPECT_EQ(d.model_name, "mlp");
  EXPECT_EQ(d.model.layers.size(), s.model.layers.size());
  EXPECT_EQ(d.model.defaults.lr, 0.003f);
  EXPECT_EQ(d.model.defaults.adam_beta1, 0.5f);
  EXPECT_EQ(d.model.defaults.batch_size, 24);
  EXPECT_EQ(d.epoch_sums, s.epoch_sums);
  EXPECT_EQ(d.metrics, s.metrics);
  EXPECT_EQ(params_sha256(d), params_sha256(s));
  EXPECT_EQ(params_sha256(d).size(), 64u);
}

TEST(CheckpointCodec, ParamsSha256CoversParametersOnly) {
  auto s = sample_state();
  const auto before = params_sha256(s);
  s.optimizer_state[0].values[0] = 99.0f;
  EXPECT_EQ(params_sha256(s), before);
  s.params[s.slots.back().offset] += 1.0f;
  EXPECT_NE(params_sha256(s), before);
}

TEST(CheckpointCodec, DamagedFilesAreReportedAsSuch) {
  const std::string good = encode_checkpoint(sample_state());
  expect_checkpoint_error("", "empty");
  expect_checkpoint_error(std::string_view(good).substr(0, good.size() / 2), "truncated");
  expect_checkpoint_error(std::string_view(good).substr(0, 10), "truncated");
  // One flipped byte anywhere in the payload's bulk is caught by the SHA-256.
  for (std::size_t pos : {good.size() / 3, good.size() / 2, good.size() - 40}) {
    std::string flipped = good;
    flipped[pos] = static_cast<char>(flipped[pos] ^ 0x10);
    try {
      decode_checkpoint(flipped, "ckpt-test.pb");
      ADD_FAILURE() << "flip at " << pos << " not detected";
    } catch (const CheckpointError& e) {
      EXPECT_NE(std::string(e.what()).find("ckpt-test.pb"), std::string::npos);
    }
  }
  Rng rng(5);
  std::string noise(4096, '\0');
  for (auto& c : noise) c = static_cast<char>(rng.below(256));
  expect_checkpoint_error(noise, "not a dtrain checkpoint");
}

// Found by fuzz/fuzz_checkpoint under UBSan: a model that stores no parameters made the
// decoder memcpy into an empty vector's null pointer (undefined behaviour, so this test
// fails in the sanitizer build, scripts/sanitize.sh, without the fix).
TEST(CheckpointCodec, AModelWithoutStoredParametersDecodesWithoutUndefinedBehaviour) {
  auto s = sample_state();
  s.slots.clear();
  s.params.clear();
  s.optimizer_state.clear();
  const auto decoded = decode_checkpoint(encode_checkpoint(s), "ckpt-empty.pb");
  EXPECT_TRUE(decoded.params.empty());
  EXPECT_TRUE(decoded.slots.empty());
  EXPECT_EQ(params_sha256(decoded).size(), 64u);
}

// A slot whose offset is negative in the file (a huge size_t once read) used to pass the
// bounds check because offset + size wrapped around; the SHA-256 only proves the payload is
// intact, not that it is sane, so a forged payload with a matching digest must be refused.
TEST(CheckpointCodec, SlotOffsetsThatWrapAroundAreRefused) {
  proto::CheckpointFile file;
  ASSERT_TRUE(file.ParseFromString(encode_checkpoint(sample_state())));
  proto::CheckpointPayload payload;
  ASSERT_TRUE(payload.ParseFromString(file.payload()));
  auto* slot = payload.mutable_models(0)->mutable_slots(0);
  slot->set_offset(-static_cast<std::int64_t>(slot->size()) + 1);
  file.set_payload(payload.SerializeAsString());
  const auto digest = sha256(file.payload().data(), file.payload().size());
  file.set_payload_sha256(digest.data(), digest.size());
  expect_checkpoint_error(file.SerializeAsString(), "does not fit");
}

TEST(CheckpointCodec, NewerFormatVersionIsRefusedClearly) {
  proto::CheckpointFile file;
  file.ParseFromString(encode_checkpoint(sample_state()));
  file.set_format_version(kCheckpointFormatVersion + 1);
  expect_checkpoint_error(file.SerializeAsString(), "newer");
}

TEST(CheckpointCodec, ModelTooBigForOneMessageIsAClearError) {
  try {
    encode_checkpoint(sample_state(), /*max_array_bytes=*/1024);
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("too big"), std::string::npos) << e.what();
  }
}

TEST(CheckpointFiles, PathsThatAreNotCheckpoints) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "dtrain_ckpt_paths";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "sub");
  EXPECT_THROW(read_checkpoint_bytes((dir / "sub").string()), CheckpointError);      // a directory
  EXPECT_THROW(read_checkpoint_bytes((dir / "none.pb").string()), CheckpointError);  // missing
  // A directory without `latest`, and a `latest` naming a missing file.
  EXPECT_THROW(resolve_checkpoint_path((dir / "sub").string()), CheckpointError);
  std::ofstream(dir / "sub" / "latest") << "ckpt-7.pb\n";
  try {
    resolve_checkpoint_path((dir / "sub").string());
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("ckpt-7.pb"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dtrain::ckpt
