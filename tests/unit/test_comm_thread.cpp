// The communication thread: jobs run in submission order on one other thread while the
// caller goes on; a job's exception reaches the waiting thread (and every later wait);
// shutdown never deadlocks, even with a job stuck forever. ThreadedCommunicator routes
// every collective through it. Run under TSan too (see README, "Tests").
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "comm/sync/comm_thread.h"
#include "comm/sync/threaded_communicator.h"
#include "core/errors.h"
#include "testing/in_process_communicator.h"

namespace dtrain::comm {
namespace {

using namespace std::chrono_literals;

TEST(CommThread, RunsJobsInOrderOffTheCallingThread) {
  CommThread thread;
  std::vector<int> order;  // written by the jobs only, read after the last wait
  std::vector<std::uint64_t> tickets;
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> elsewhere{true};
  for (int i = 0; i < 100; ++i) {
    tickets.push_back(thread.submit([&, i] {
      if (std::this_thread::get_id() == caller) elsewhere = false;
      order.push_back(i);
    }));
  }
  EXPECT_EQ(tickets.front(), 1u);
  EXPECT_EQ(tickets.back(), 100u);
  thread.wait(tickets.back());
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
  EXPECT_TRUE(elsewhere.load());
}

TEST(CommThread, CallerComputesWhileAJobRuns) {
  CommThread thread;
  std::promise<void> go;
  auto released = go.get_future();
  bool job_done = false;
  const auto ticket = thread.submit([&] {
    released.wait();  // the job can only finish once the caller has gone on past submit
    job_done = true;
  });
  go.set_value();
  thread.wait(ticket);
  EXPECT_TRUE(job_done);
}

TEST(CommThread, AFailedJobRethrowsOnTheWaitingThreadAndStopsLaterJobs) {
  CommThread thread;
  bool later_ran = false;
  // The failing job waits until `later` is queued: submit() itself rethrows a failure that
  // already happened (found flaky under ThreadSanitizer, where the thread ran ahead).
  std::promise<void> queued;
  auto all_queued = queued.get_future().share();
  const auto ok = thread.submit([] {});
  const auto bad = thread.submit([all_queued] {
    all_queued.wait();
    throw CommError("MPI_Wait failed: connection reset");
  });
  const auto later = thread.submit([&] { later_ran = true; });
  queued.set_value();
  try {
    thread.wait(later);
    FAIL() << "expected the job's CommError";
  } catch (const CommError& e) {
    EXPECT_STREQ(e.what(), "MPI_Wait failed: connection reset");
  }
  EXPECT_THROW(thread.wait(ok), CommError) << "any wait after a failure throws";
  EXPECT_THROW(thread.wait(bad), CommError);
  EXPECT_THROW(thread.submit([] {}), CommError);
  EXPECT_FALSE(later_ran);
}

TEST(CommThread, ShutdownDropsQueuedJobsAndDetachesAStuckOne) {
  auto stuck = std::make_shared<std::promise<void>>();
  auto release = stuck->get_future().share();
  std::atomic<bool> queued_ran{false};
  std::promise<void> started;
  auto running = started.get_future();
  auto start = std::chrono::steady_clock::now();
  {
    CommThread thread(100ms);
    thread.submit([release, &started] {
      started.set_value();
      release.wait();  // a peer that never answers
    });
    thread.submit([&] { queued_ran = true; });
    running.wait();
    start = std::chrono::steady_clock::now();
  }
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 100ms);
  EXPECT_LT(waited, 5s) << "the destructor must not wait for a stuck job";
  stuck->set_value();  // the detached thread finishes on its own state
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(queued_ran.load());
}

TEST(CommThread, WaitingForAnUnknownTicketIsABug) {
  CommThread thread;
  EXPECT_THROW(thread.wait(1), std::logic_error);
}

TEST(ThreadedCommunicator, EveryCollectiveRunsOnTheThreadWithTheRightResult) {
  test::run_communicator_ranks(3, [](Communicator& inner) {
    CommThread thread;
    ThreadedCommunicator comm(inner, thread);
    EXPECT_EQ(comm.rank(), inner.rank());
    EXPECT_EQ(comm.size(), 3);
    std::vector<float> f(1001, static_cast<float>(comm.rank() + 1));
    comm.allreduce_sum(std::span<float>(f));
    for (float x : f) ASSERT_EQ(x, 6.0f);
    std::vector<double> d{0.5 * comm.rank()};
    comm.allreduce_sum(std::span<double>(d));
    EXPECT_EQ(d[0], 1.5);
    EXPECT_EQ(comm.allreduce_max(comm.rank() * 10), 20);
    std::vector<float> b(5, comm.rank() == 2 ? 7.0f : 0.0f);
    comm.broadcast(std::span<float>(b), 2);
    for (float x : b) EXPECT_EQ(x, 7.0f);
    const auto all = comm.allgather(static_cast<std::uint64_t>(100 + comm.rank()));
    EXPECT_EQ(all, (std::vector<std::uint64_t>{100, 101, 102}));
    const std::vector<std::uint16_t> mine{static_cast<std::uint16_t>(comm.rank()), 9};
    std::vector<std::uint16_t> gathered(6);
    comm.allgather(mine, gathered);
    EXPECT_EQ(gathered, (std::vector<std::uint16_t>{0, 9, 1, 9, 2, 9}));
    comm.barrier();
  });
}

}  // namespace
}  // namespace dtrain::comm
