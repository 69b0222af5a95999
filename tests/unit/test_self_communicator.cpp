#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "comm/self_communicator.h"

namespace dtrain::comm {
namespace {

TEST(SelfCommunicator, IsRankZeroOfOne) {
  SelfCommunicator comm;
  EXPECT_EQ(comm.rank(), 0);
  EXPECT_EQ(comm.size(), 1);
}

TEST(SelfCommunicator, CollectivesAreTheIdentity) {
  SelfCommunicator comm;
  std::vector<float> floats{1.5f, -2.0f, 3.25f};
  comm.allreduce_sum(floats);
  EXPECT_EQ(floats, (std::vector<float>{1.5f, -2.0f, 3.25f}));
  std::vector<double> doubles{0.1, 7.0};
  comm.allreduce_sum(doubles);
  EXPECT_EQ(doubles, (std::vector<double>{0.1, 7.0}));
  EXPECT_EQ(comm.allreduce_max(-3), -3);
  EXPECT_EQ(comm.allreduce_max(42), 42);
  comm.broadcast(floats, 0);
  EXPECT_EQ(floats, (std::vector<float>{1.5f, -2.0f, 3.25f}));
  std::vector<std::byte> bytes{std::byte{9}, std::byte{8}};
  comm.broadcast(bytes, 0);
  EXPECT_EQ(bytes, (std::vector<std::byte>{std::byte{9}, std::byte{8}}));
  EXPECT_EQ(comm.allgather(0xDEADBEEFCAFEULL), (std::vector<std::uint64_t>{0xDEADBEEFCAFEULL}));
  comm.barrier();
}

TEST(SelfCommunicator, BroadcastFromAnotherRootIsAnError) {
  SelfCommunicator comm;
  std::vector<float> floats(3);
  EXPECT_THROW(comm.broadcast(floats, 1), CommError);
  std::vector<std::byte> bytes(3);
  EXPECT_THROW(comm.broadcast(bytes, -1), CommError);
}

TEST(SelfCommunicatorDeathTest, AbortExitsWithCodeAfterFlushing) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string path = ::testing::TempDir() + "self_communicator_abort.txt";
  std::remove(path.c_str());
  SelfCommunicator comm;
  // A fully buffered stream that nobody flushes: its text reaches the file only if abort
  // flushes before exiting (std::_Exit alone would drop it).
  EXPECT_EXIT(
      {
        std::FILE* file = std::fopen(path.c_str(), "w");
        std::fputs("written before abort", file);
        comm.abort(75);
      },
      ::testing::ExitedWithCode(75), "");
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "written before abort");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace dtrain::comm
