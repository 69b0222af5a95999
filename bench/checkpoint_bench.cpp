// Checkpoint cost for a built-in model with Adam state: median milliseconds to encode and
// write (temporary file, fsync, rename, fsync directory, `latest`) and to read and decode
// (with the SHA-256 check). Usage: checkpoint_bench [model=cnn] [dir=/tmp/dtrain-ckpt-bench]
// [iterations=20]. Compare with an epoch's time to get the share of training time.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "ckpt/checkpoint_codec.h"
#include "ckpt/checkpoint_files.h"
#include "cli/model_registry.h"
#include "nn/model_config.h"
#include "optim/optimizer.h"

using namespace dtrain;
using Clock = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string model_name = argc > 1 ? argv[1] : "cnn";
  const std::string dir = argc > 2 ? argv[2] : "/tmp/dtrain-ckpt-bench";
  const int iters = argc > 3 ? std::stoi(argv[3]) : 20;
  std::filesystem::remove_all(dir);

  train::TrainState state;
  state.model = cli::load_model_config(model_name);
  auto model = nn::build_model(state.model);
  model->init_params(1);
  state.slots = model->arena().slots();
  state.params.assign(model->arena().params().begin(), model->arena().params().end());
  auto adam = optim::make_optimizer({.kind = "adam"}, state.params.size());
  adam->step(model->arena().params(), state.params, 1e-3f);  // non-trivial m and v
  state.optimizer.kind = "adam";
  state.optimizer_state = adam->state();
  state.model_name = model_name;

  ckpt::CheckpointDirectory directory(dir, 3);
  directory.prepare();
  std::vector<double> encode_ms, write_ms, read_ms, decode_ms;
  std::size_t bytes = 0;
  for (int i = 0; i < iters; ++i) {
    state.global_step = i;
    auto t = Clock::now();
    const std::string encoded = ckpt::encode_checkpoint(state);
    encode_ms.push_back(ms_since(t));
    bytes = encoded.size();
    t = Clock::now();
    const std::string path = directory.write(i, encoded);
    write_ms.push_back(ms_since(t));
    t = Clock::now();
    const std::string raw = ckpt::read_checkpoint_bytes(path);
    read_ms.push_back(ms_since(t));
    t = Clock::now();
    const auto decoded = ckpt::decode_checkpoint(raw, path);
    decode_ms.push_back(ms_since(t));
    if (decoded.params != state.params) return 1;
  }
  std::printf("model %s with adam state: %zu bytes per checkpoint, %d iterations (median ms)\n",
              model_name.c_str(), bytes, iters);
  std::printf("  encode %.2f  write+fsync+rename %.2f  => save %.2f\n", median(encode_ms),
              median(write_ms), median(encode_ms) + median(write_ms));
  std::printf("  read %.2f  decode+sha256 %.2f  => load %.2f\n", median(read_ms),
              median(decode_ms), median(read_ms) + median(decode_ms));
  std::filesystem::remove_all(dir);
  return 0;
}
