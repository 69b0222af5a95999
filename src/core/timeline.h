#pragma once
// What each thread of a rank did and when, for --timeline: a Chrome trace (the JSON "trace
// event" format that chrome://tracing and Perfetto open). Complete events ("ph":"X": name,
// start, duration) for spans such as a layer's forward pass or a bucket's reduction, instant
// events ("ph":"i") for moments such as "bucket 2 ready". pid is the rank, tid the thread
// (main or communication), so every rank is one track with its two threads under it.
//
// Recording is thread-safe (one mutex; a few dozen events per step of tens of
// milliseconds, so contention is negligible). Times are microseconds since the origin.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace dtrain {

class Timeline {
 public:
  using Clock = std::chrono::steady_clock;
  enum Thread : int { kMain = 0, kComm = 1 };

  explicit Timeline(Clock::time_point origin = Clock::now()) : origin_(origin) {}
  // Times before the origin are recorded as negative; callers set it once, before recording.
  void set_origin(Clock::time_point origin) { origin_ = origin; }

  // args: the inside of a JSON object ("\"bucket\":2,\"step\":7"), or empty.
  void span(Thread thread, std::string name, const char* category, Clock::time_point begin,
            Clock::time_point end, std::string args = {});
  void instant(Thread thread, std::string name, const char* category, Clock::time_point at,
               std::string args = {});

  std::size_t size() const;
  // The events as comma-separated JSON objects with pid = rank (no surrounding brackets),
  // thread-name metadata first, so several ranks' parts join into one traceEvents array.
  std::string trace_events(int rank) const;
  // A whole trace file from the parts of every rank.
  static std::string trace_file(const std::vector<std::string>& rank_parts);

 private:
  struct Event {
    std::string name;
    const char* category;
    Thread thread;
    char phase;
    double ts_us;
    double dur_us;
    std::string args;
  };
  double micros(Clock::time_point t) const;

  Clock::time_point origin_;
  mutable std::mutex mutex_;
  std::vector<Event> events_;
};

// Records a span on destruction, if the timeline is not null.
class TimelineSpan {
 public:
  TimelineSpan(Timeline* timeline, Timeline::Thread thread, std::string name, const char* category,
               std::string args = {})
      : timeline_(timeline),
        thread_(thread),
        name_(timeline ? std::move(name) : std::string()),
        category_(category),
        args_(std::move(args)),
        begin_(timeline ? Timeline::Clock::now() : Timeline::Clock::time_point()) {}
  ~TimelineSpan() {
    if (timeline_) {
      timeline_->span(thread_, std::move(name_), category_, begin_, Timeline::Clock::now(),
                      std::move(args_));
    }
  }
  TimelineSpan(const TimelineSpan&) = delete;
  TimelineSpan& operator=(const TimelineSpan&) = delete;

 private:
  Timeline* timeline_;
  Timeline::Thread thread_;
  std::string name_;
  const char* category_;
  std::string args_;
  Timeline::Clock::time_point begin_;
};

}  // namespace dtrain
