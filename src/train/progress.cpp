#include "train/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace dtrain::train {

using Clock = std::chrono::steady_clock;

int RunPlan::last_epoch() const {
  if (max_steps <= 0 || steps_per_epoch <= 0) return epochs;
  const std::int64_t holding = (max_steps + steps_per_epoch - 1) / steps_per_epoch;
  return static_cast<int>(std::min<std::int64_t>(epochs, holding));
}

std::int64_t RunPlan::end_step(int epoch) const {
  if (max_steps <= 0) return steps_per_epoch;
  const std::int64_t before = static_cast<std::int64_t>(epoch - 1) * steps_per_epoch;
  return std::clamp<std::int64_t>(max_steps - before, 0, steps_per_epoch);
}

Progress::Progress(ProgressMode mode, bool is_root, RunPlan plan, std::int64_t global_batch)
    : is_root_(is_root),
      bar_(is_root && (mode == ProgressMode::kAlways ||
                       (mode == ProgressMode::kAuto && isatty(STDERR_FILENO)))),
      plan_(plan),
      global_batch_(global_batch) {}

void Progress::start_epoch(int epoch, std::int64_t first_step) {
  epoch_ = epoch;
  first_ = first_step;
  end_ = std::max(first_step, plan_.end_step(epoch));
  epoch_start_ = last_draw_ = Clock::now();
}

namespace {

std::string clock_text(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  }
  return text;
}

}  // namespace

// The ETA extrapolates this epoch's rate since this process started it (a resumed epoch's
// earlier steps took no time here) over the steps left in the epoch, and, when later epochs
// follow, over every step the run has left.
void Progress::step(std::int64_t position) {
  if (!bar_) return;
  const auto now = Clock::now();
  if (position < end_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  const std::int64_t done = position - first_;
  const double per_step = done > 0 ? elapsed / static_cast<double>(done) : 0.0;
  const double rate = per_step > 0 ? static_cast<double>(global_batch_) / per_step : 0.0;
  std::int64_t run_left = end_ - position;
  for (int e = epoch_ + 1; e <= plan_.last_epoch(); ++e) run_left += plan_.end_step(e);
  constexpr int kWidth = 30;
  const int filled = end_ > 0 ? static_cast<int>(kWidth * std::min(position, end_) / end_) : kWidth;
  std::string bar(filled, '#');
  bar.append(kWidth - filled, '.');
  std::string eta = "ETA " + clock_text(per_step * static_cast<double>(end_ - position));
  if (run_left > end_ - position) eta += " (run " + clock_text(per_step * run_left) + ")";
  std::fprintf(stderr, "\repoch %d/%d [%s] %lld/%lld steps  %.0f samples/s  %s ", epoch_,
               plan_.last_epoch(), bar.c_str(), static_cast<long long>(position),
               static_cast<long long>(end_), rate, eta.c_str());
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
              plan_.last_epoch(), static_cast<long long>(s.step), s.figures.c_str(),
              s.samples_per_sec, s.epoch_seconds, s.comm_seconds);
  std::fflush(stdout);
}

void Progress::message(const std::string& line) {
  if (!is_root_) return;
  clear_bar();
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace dtrain::train
