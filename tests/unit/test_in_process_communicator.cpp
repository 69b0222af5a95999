// The thread-based test communicator other modules use to test data-parallel code: its
// collectives must behave like MPI's (and fail loudly instead of hanging).
#include <gtest/gtest.h>

#include <chrono>
#include <numeric>
#include <vector>

#include "testing/in_process_communicator.h"

namespace dtrain::test {
namespace {

TEST(InProcessCommunicator, CollectivesOverFourRanks) {
  run_communicator_ranks(4, [](comm::Communicator& comm) {
    const int r = comm.rank();
    EXPECT_EQ(comm.size(), 4);

    std::vector<float> floats{static_cast<float>(r), static_cast<float>(10 * r), 1.0f};
    comm.allreduce_sum(floats);
    EXPECT_EQ(floats, (std::vector<float>{6.0f, 60.0f, 4.0f}));

    std::vector<double> doubles{0.5 * r, 1.0};
    comm.allreduce_sum(doubles);
    EXPECT_EQ(doubles, (std::vector<double>{3.0, 4.0}));

    EXPECT_EQ(comm.allreduce_max(r == 2 ? 9 : -r), 9);

    std::vector<float> params(5, static_cast<float>(r + 1));
    comm.broadcast(params, 3);
    EXPECT_EQ(params, std::vector<float>(5, 4.0f));
    std::vector<std::byte> bytes(2, std::byte(r));
    comm.broadcast(bytes, 1);
    EXPECT_EQ(bytes, std::vector<std::byte>(2, std::byte{1}));

    EXPECT_EQ(comm.allgather(100u + static_cast<std::uint64_t>(r)),
              (std::vector<std::uint64_t>{100, 101, 102, 103}));
    comm.barrier();
  });
}

TEST(InProcessCommunicator, ManyCollectivesInARowStayInStep) {
  run_communicator_ranks(3, [](comm::Communicator& comm) {
    for (int i = 0; i < 200; ++i) {
      const auto all = comm.allgather(static_cast<std::uint64_t>(i * 3 + comm.rank()));
      ASSERT_EQ(all.size(), 3u);
      for (int r = 0; r < 3; ++r) {
        ASSERT_EQ(all[static_cast<std::size_t>(r)], static_cast<std::uint64_t>(i * 3 + r));
      }
    }
  });
}

TEST(InProcessCommunicator, BroadcastLengthMismatchThrows) {
  EXPECT_THROW(run_communicator_ranks(2,
                                      [](comm::Communicator& comm) {
                                        std::vector<float> data(comm.rank() == 0 ? 4 : 3);
                                        comm.broadcast(data, 0);
                                      }),
               CommError);
}

TEST(InProcessCommunicator, AbortStopsEveryRankWithItsExitCode) {
  try {
    run_communicator_ranks(3, [](comm::Communicator& comm) {
      if (comm.rank() == 1) {
        comm.abort(75);
      }
      comm.barrier();  // would wait forever without the shutdown
    });
    FAIL() << "abort did not propagate";
  } catch (const InProcessAbort& e) {
    EXPECT_EQ(e.exit_code(), 75);
  }
}

TEST(InProcessTransport, MissingMessageTimesOutInsteadOfHanging) {
  InProcessNetwork network(2, std::chrono::milliseconds(100));
  EXPECT_THROW(run_ranks(network,
                         [](int rank, comm::PeerTransport& transport) {
                           std::vector<float> data(4);
                           if (rank == 0) {
                             transport.start_recv(data, 1);  // rank 1 never sends
                             transport.wait_all();
                           }
                         }),
               CommError);
}

TEST(InProcessTransport, MessagesFromOneSenderArriveInOrder) {
  run_ranks(2, [](int rank, comm::PeerTransport& transport) {
    std::vector<float> a{1, 2}, b{3, 4, 5}, ra(2), rb(3);
    if (rank == 0) {
      transport.start_send(a, 1);
      transport.start_send(b, 1);
    } else {
      transport.start_recv(ra, 0);
      transport.start_recv(rb, 0);
      transport.wait_recv(1);  // completes receive 0 first: it matches the first message
      EXPECT_EQ(rb, b);
      EXPECT_EQ(ra, a);
    }
    transport.wait_all();
  });
}

}  // namespace
}  // namespace dtrain::test
