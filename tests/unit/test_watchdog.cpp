// The watchdog (comm/liveness): heartbeats over real UDP sockets on 127.0.0.1 between
// watchdogs in one process, each with its own progress state, so a "rank" can go silent
// (its watchdog destroyed), stall, or sit in a long phase on command. Times are short
// (timeouts of 1 s) with generous upper bounds: the checks are about who is named and
// whether the deadline fires at all, not about precise timing.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "comm/liveness/heartbeat.h"
#include "comm/liveness/watchdog.h"
#include "core/errors.h"

namespace dtrain::comm::liveness {
namespace {

using namespace std::chrono_literals;

TEST(Heartbeat, RoundTripsEveryField) {
  Beat b{.job = 77,
         .rank = 2,
         .sequence = 9,
         .step = 123456789012LL,
         .phase = Phase::kCheckpoint,
         .waiting = true,
         .kind = CollectiveKind::kGradientBucket,
         .index = 3,
         .peer = 1,
         .waited_ms = 4500};
  const auto bytes = encode(b);
  const auto d = decode(bytes, 77, 3);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->rank, 2);
  EXPECT_EQ(d->sequence, 9u);
  EXPECT_EQ(d->step, 123456789012LL);
  EXPECT_EQ(d->phase, Phase::kCheckpoint);
  EXPECT_TRUE(d->waiting);
  EXPECT_EQ(d->kind, CollectiveKind::kGradientBucket);
  EXPECT_EQ(d->index, 3);
  EXPECT_EQ(d->peer, 1);
  EXPECT_EQ(d->waited_ms, 4500u);
}

TEST(Heartbeat, ForeignOrDamagedDatagramsAreDropped) {
  Beat b{.job = 5, .rank = 1};
  auto bytes = encode(b);
  EXPECT_FALSE(decode(bytes, 6, 3).has_value());  // another job
  EXPECT_FALSE(decode(bytes, 5, 1).has_value());  // rank 1 in a job of 1
  EXPECT_FALSE(decode(std::span(bytes).first(kBeatBytes - 1), 5, 3).has_value());
  auto bad_magic = bytes;
  bad_magic[0] ^= std::byte{1};
  EXPECT_FALSE(decode(bad_magic, 5, 3).has_value());
  auto bad_phase = bytes;
  bad_phase[24] = std::byte{9};
  EXPECT_FALSE(decode(bad_phase, 5, 3).has_value());
  auto bad_peer = bytes;
  bad_peer[32] = std::byte{7};  // peer 7 of 3 ranks
  EXPECT_FALSE(decode(bad_peer, 5, 3).has_value());
  EXPECT_TRUE(decode(bytes, 5, 3).has_value());
}

// P watchdogs on loopback; each records what it printed and whether it fired.
struct Job {
  struct Rank {
    ProgressState state;
    std::mutex mutex;
    std::vector<std::string> printed;
    int fired = 0;
    std::chrono::steady_clock::time_point fired_at{};
    std::unique_ptr<Watchdog> watchdog;
  };
  std::vector<std::unique_ptr<Rank>> ranks;

  Job(int p, WatchdogOptions options) {
    std::vector<std::unique_ptr<BeatSocket>> sockets;
    std::vector<std::vector<Endpoint>> endpoints;
    for (int r = 0; r < p; ++r) {
      ranks.push_back(std::make_unique<Rank>());
      sockets.push_back(std::make_unique<BeatSocket>());
      endpoints.push_back({{0x7f000001u, sockets.back()->endpoints().front().port}});
    }
    for (int r = 0; r < p; ++r) {
      Rank& me = *ranks[r];
      me.state.set_phase(Phase::kTraining);
      me.watchdog = std::make_unique<Watchdog>(
          r, 42, endpoints, std::move(sockets[r]), options, me.state,
          [&me](const std::string& line) {
            std::lock_guard lock(me.mutex);
            me.printed.push_back(line);
          },
          [&me](int code) {
            std::lock_guard lock(me.mutex);
            me.fired = code;
            me.fired_at = std::chrono::steady_clock::now();
          });
    }
  }
  std::string text(int r) {
    std::lock_guard lock(ranks[r]->mutex);
    std::string all;
    for (const auto& l : ranks[r]->printed) all += l + "\n";
    return all;
  }
  int fired(int r) {
    std::lock_guard lock(ranks[r]->mutex);
    return ranks[r]->fired;
  }
};

void wait_in_bucket(ProgressState& s, std::int64_t step, int bucket, int peer) {
  s.set_step(step);
  s.label_next(CollectiveKind::kGradientBucket, bucket);
  s.begin_wait(CollectiveKind::kOther);
  s.set_peer(peer);
}

TEST(Watchdog, ASilentRankIsNamedAndTheDeadlineEndsTheWaitingRanks) {
  Job job(3, {.comm_timeout = 1000ms, .stall_warning = 0ms});
  std::this_thread::sleep_for(600ms);  // a few beats from everyone
  job.ranks[1]->watchdog.reset();      // rank 1 goes silent, as SIGSTOP would make it
  const auto start = std::chrono::steady_clock::now();
  wait_in_bucket(job.ranks[0]->state, 17, 3, 2);  // rank 0 waits for 2, which waits for 1
  wait_in_bucket(job.ranks[2]->state, 17, 3, 1);
  for (int i = 0; i < 50 && !(job.fired(0) && job.fired(2)); ++i)
    std::this_thread::sleep_for(100ms);
  for (int r : {0, 2}) {
    ASSERT_EQ(job.fired(r), kExitCommTimeout) << job.text(r);
    const auto after = job.ranks[r]->fired_at - start;
    EXPECT_GE(after, 900ms);
    EXPECT_LE(after, 3000ms);
    const std::string t = job.text(r);
    EXPECT_NE(t.find("comm-timeout"), std::string::npos) << t;
    EXPECT_NE(t.find("gradient bucket 3 at step 17"), std::string::npos) << t;
    EXPECT_NE(t.find("silent: rank 1 ("), std::string::npos) << t;  // the one to blame
    EXPECT_EQ(t.find("rank " + std::to_string(2 - r) + " (no heartbeat"), std::string::npos) << t;
  }
}

TEST(Watchdog, ALiveRankInALongPhaseHoldsTheDeadlineOff) {
  Job job(2, {.comm_timeout = 1000ms, .stall_warning = 0ms});
  job.ranks[1]->state.set_phase(Phase::kCheckpoint);  // rank 1 writes a long checkpoint
  wait_in_bucket(job.ranks[0]->state, 5, 0, 1);
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(job.fired(0), 0) << job.text(0);
  // The checkpoint is done but rank 1 never arrives: now the clock runs.
  job.ranks[1]->state.set_phase(Phase::kTraining);
  for (int i = 0; i < 40 && !job.fired(0); ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(job.fired(0), kExitCommTimeout);
  // Alive but not in the collective: named as behind, not as silent.
  EXPECT_NE(job.text(0).find("no rank is silent; behind: rank 1 (alive, not in a collective"),
            std::string::npos)
      << job.text(0);
}

TEST(Watchdog, OneStallWarningPerStallFromTheLowestLiveRank) {
  Job job(3, {.comm_timeout = 0ms, .stall_warning = 1000ms});
  std::this_thread::sleep_for(400ms);
  wait_in_bucket(job.ranks[0]->state, 9, 1, 2);
  wait_in_bucket(job.ranks[1]->state, 9, 1, 2);
  job.ranks[2]->state.set_step(8);  // rank 2 is still computing step 8... and stays there
  std::this_thread::sleep_for(2500ms);
  const std::string t0 = job.text(0);
  EXPECT_NE(t0.find("stall warning"), std::string::npos) << t0;
  EXPECT_NE(t0.find("behind: rank 2 (alive, not in a collective, at step 8"), std::string::npos)
      << t0;
  EXPECT_EQ(t0.find("rank 1 ("), std::string::npos) << t0;     // waits with rank 0: not behind
  EXPECT_EQ(std::count(t0.begin(), t0.end(), '\n'), 1) << t0;  // once per stall
  EXPECT_EQ(job.text(1), "");                                  // rank 0 reports for everyone
  EXPECT_EQ(job.fired(0), 0);                                  // no deadline set
  // A new stall (the next collective) is reported again.
  job.ranks[0]->state.end_wait();
  wait_in_bucket(job.ranks[0]->state, 10, 0, 1);
  std::this_thread::sleep_for(1500ms);
  const std::string again = job.text(0);
  EXPECT_EQ(std::count(again.begin(), again.end(), '\n'), 2) << again;
}

TEST(Watchdog, NoDeadlineWhileNotWaiting) {
  Job job(2, {.comm_timeout = 1000ms, .stall_warning = 1000ms});
  job.ranks[1]->watchdog.reset();
  std::this_thread::sleep_for(2000ms);  // rank 0 computes; a silent peer alone is no reason
  EXPECT_EQ(job.fired(0), 0);
  EXPECT_EQ(job.text(0), "");
}

}  // namespace
}  // namespace dtrain::comm::liveness
