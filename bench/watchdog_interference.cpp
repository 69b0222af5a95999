// What a running watchdog (--comm-timeout, --stall-warning) costs a training thread, with
// the machine's slow drifts cancelled: one process trains the cnn on one BLAS thread in
// blocks of B steps, alternating blocks with the watchdogs of a 2-rank job running (rank 0's
// and rank 1's, heartbeating each other over loopback UDP, one of them "waiting" in a
// collective so it evaluates its deadline every round) and blocks without them. Each step
// also enters and leaves the collectives a real step does (the relaxed atomics that always
// run). The heartbeat period is the shortest the watchdog uses (0.25 s: a 2 s stall warning),
// 8x the default's rate, so the figure is an upper bound for the defaults.
// Prints the median step time of each condition and their ratio. Run it pinned to one core
// (taskset -c 0), as mpirun --bind-to core places a rank with its threads: the watchdogs then
// take their time from the training thread itself.
//   watchdog_interference [blocks] [steps per block] [stall warning ms]   (default 30 10 2000)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/model_registry.h"
#include "comm/liveness/progress_state.h"
#include "comm/liveness/watchdog.h"
#include "core/rng.h"
#include "nn/loss.h"
#include "nn/model_config.h"
#include "optim/optimizer.h"
#include "tensor/blas.h"

using namespace dtrain;
using namespace dtrain::comm::liveness;
using Clock = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// Two watchdogs of one job on loopback, each with its own progress state.
struct TwoRanks {
  ProgressState states[2];
  std::unique_ptr<Watchdog> dogs[2];
  explicit TwoRanks(WatchdogOptions options) {
    std::unique_ptr<BeatSocket> sockets[2] = {std::make_unique<BeatSocket>(),
                                              std::make_unique<BeatSocket>()};
    std::vector<std::vector<Endpoint>> endpoints;
    for (auto& s : sockets) endpoints.push_back({{0x7f000001u, s->endpoints().front().port}});
    states[1].set_phase(Phase::kTraining);
    states[1].begin_wait(CollectiveKind::kGradientBucket);  // evaluates every round
    for (int r = 0; r < 2; ++r) {
      dogs[r] = std::make_unique<Watchdog>(
          r, 7, endpoints, std::move(sockets[r]), options, states[r],
          [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }, [](int) {});
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  const int blocks = argc > 1 ? std::stoi(argv[1]) : 30;
  const int steps = argc > 2 ? std::stoi(argv[2]) : 10;
  const long stall_ms = argc > 3 ? std::stol(argv[3]) : 2000;  // 60000: the defaults' period
  tensor::set_blas_threads(1);
  auto model = nn::build_model(cli::load_model_config("cnn"));
  model->init_params(0);
  auto optimizer = optim::make_optimizer({.kind = "adam"}, model->arena().arena_size());
  const std::size_t batch = 64;  // one rank's share of the global batch of 128 at np=2
  tensor::Tensor x(model->input_shape().with_batch(batch));
  Rng rng(1);
  for (std::size_t i = 0; i < x.numel(); ++i) x[i] = rng.uniform();
  std::vector<std::int32_t> labels(batch);
  for (auto& l : labels) l = static_cast<std::int32_t>(rng.below(model->output_shape()[0]));
  tensor::Tensor dlogits;
  auto& progress = ProgressState::instance();

  auto step = [&] {
    model->arena().zero_grads();
    const auto& logits = model->forward(x, {.training = true});
    nn::softmax_cross_entropy(logits, labels, double(batch), &dlogits);
    model->backward(x, dlogits);
    for (int c = 0; c < 3; ++c) {  // the buckets and the stop-flag agreement of a step
      progress.label_next(CollectiveKind::kGradientBucket, c);
      WaitScope waiting(CollectiveKind::kOther);
    }
    optimizer->step(model->arena().params(), model->arena().grads(), 1e-3f);
  };
  for (int i = 0; i < 5; ++i) step();  // buffers allocated, pages faulted in

  const WatchdogOptions options{.comm_timeout = std::chrono::milliseconds(600000),
                                .stall_warning = std::chrono::milliseconds(stall_ms)};
  std::vector<double> with, without;
  for (int b = 0; b < 2 * blocks; ++b) {
    const bool on = b % 4 == 0 || b % 4 == 3;  // on-off, off-on, ...: no order bias
    std::unique_ptr<TwoRanks> job;
    if (on) job = std::make_unique<TwoRanks>(options);
    for (int s = 0; s < steps; ++s) {
      const auto t = Clock::now();
      step();
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t).count();
      (on ? with : without).push_back(ms);
    }
  }
  const double a = median(with), b = median(without);
  std::printf(
      "cnn step, batch %zu, 1 BLAS thread, %d blocks x %d steps per condition, "
      "heartbeat period %lld ms\n",
      batch, blocks, steps, static_cast<long long>(options.period().count()));
  std::printf(
      "  without watchdogs: median %.3f ms\n  with 2 watchdogs:  median %.3f ms\n"
      "  with / without = %.4f (overhead %.2f%%)\n",
      b, a, a / b, 100.0 * (a / b - 1.0));
  return 0;
}
