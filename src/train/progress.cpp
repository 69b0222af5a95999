#include "train/progress.h"

#include <unistd.h>

#include <cstdio>

namespace dtrain::train {

using Clock = std::chrono::steady_clock;

Progress::Progress(ProgressMode mode, bool is_root, int epochs)
    : is_root_(is_root),
      bar_(is_root && (mode == ProgressMode::kAlways ||
                       (mode == ProgressMode::kAuto && isatty(STDERR_FILENO)))),
      epochs_(epochs) {}

void Progress::start_epoch(int epoch, std::int64_t steps) {
  epoch_ = epoch;
  steps_ = steps;
  epoch_start_ = last_draw_ = Clock::now();
}

void Progress::step(std::int64_t step_in_epoch, std::int64_t samples_done) {
  if (!bar_) return;
  const auto now = Clock::now();
  if (step_in_epoch < steps_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  const double rate = elapsed > 0 ? samples_done / elapsed : 0.0;
  const double eta = step_in_epoch > 0 ? elapsed * (steps_ - step_in_epoch) / step_in_epoch : 0.0;
  constexpr int kWidth = 30;
  const int filled = steps_ > 0 ? static_cast<int>(kWidth * step_in_epoch / steps_) : kWidth;
  std::string bar(filled, '#');
  bar.append(kWidth - filled, '.');
  std::fprintf(stderr, "\repoch %d/%d [%s] %lld/%lld steps  %.0f samples/s  ETA %d:%02d ", epoch_,
               epochs_, bar.c_str(), static_cast<long long>(step_in_epoch),
               static_cast<long long>(steps_), rate, static_cast<int>(eta) / 60,
               static_cast<int>(eta) % 60);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::clear_bar() {
  if (drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }
}

void Progress::end_epoch(const EpochSummary& s) {
  if (!is_root_) return;
  clear_bar();
  std::printf("epoch %d/%d  step %lld  %s  %.0f samples/s  %.2f s (comm %.2f s)\n", s.epoch,
              epochs_, static_cast<long long>(s.step), s.figures.c_str(), s.samples_per_sec,
              s.epoch_seconds, s.comm_seconds);
  std::fflush(stdout);
}

void Progress::message(const std::string& line) {
  if (!is_root_) return;
  clear_bar();
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace dtrain::train
