// The progress bar as a user sees it: dtrain runs on an emulated terminal (a pty, so
// `--progress auto` draws the bar), and the bar's totals are the steps the run really takes
// under --max-steps and --resume.
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>

#include "testing/run_command.h"

namespace dtrain::testing {
namespace {

// Runs `args` through dtrain with stdout and stderr on a pty; everything the terminal got.
CommandResult run_on_terminal(const std::string& args) {
  const std::string command = std::string(DTRAIN_BINARY) + " " + args;
  int master = -1;
  winsize size{.ws_row = 24, .ws_col = 160, .ws_xpixel = 0, .ws_ypixel = 0};
  const pid_t pid = forkpty(&master, nullptr, nullptr, &size);
  if (pid < 0) throw std::runtime_error("forkpty failed");
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  CommandResult result;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(240);
  char buffer[4096];
  for (;;) {
    pollfd fd{.fd = master, .events = POLLIN, .revents = 0};
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      ADD_FAILURE() << "dtrain on a terminal did not finish: " << command;
      break;
    }
    if (poll(&fd, 1, 1000) <= 0) continue;
    const ssize_t n = read(master, buffer, sizeof buffer);
    if (n <= 0) break;  // EIO: the child closed the terminal
    result.output.append(buffer, static_cast<std::size_t>(n));
  }
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

struct Bar {
  int epoch, last_epoch;
  long position, total;
};

std::vector<Bar> bars(const std::string& output) {
  static const std::regex re(R"(epoch (\d+)/(\d+) \[[#.]+\] (\d+)/(\d+) steps)");
  std::vector<Bar> found;
  for (auto it = std::sregex_iterator(output.begin(), output.end(), re);
       it != std::sregex_iterator(); ++it) {
    found.push_back(
        {std::stoi((*it)[1]), std::stoi((*it)[2]), std::stol((*it)[3]), std::stol((*it)[4])});
  }
  return found;
}

// --data synthetic: 6000 training examples, so 46 steps per epoch at --batch-size 128.
const std::string kRun = "--data synthetic --model mlp --optimizer sgd --lr 0.05 --batch-size 128";

TEST(ProgressOnATerminal, MaxStepsIsTheBarsTotal) {
  const auto r = run_on_terminal(kRun + " --epochs 5 --max-steps 20");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto found = bars(r.output);
  ASSERT_FALSE(found.empty()) << "no progress bar on a terminal:\n" << r.output;
  for (const auto& b : found) {
    EXPECT_EQ(b.epoch, 1);
    EXPECT_EQ(b.last_epoch, 1) << "the run ends inside epoch 1";
    EXPECT_EQ(b.total, 20) << "the bar counts to the epoch, not to --max-steps";
  }
  EXPECT_EQ(found.back().position, 20);
  EXPECT_NE(r.output.find("epoch 1/1  step 20"), std::string::npos) << r.output;
}

TEST(ProgressOnATerminal, AResumedRunCountsFromItsCheckpoint) {
  const auto dir = make_temp_dir("progress_resume");
  // 60 steps: epoch 1 (46) and 14 steps of epoch 2; the final state is checkpointed.
  const auto first = run_on_terminal(kRun + " --epochs 3 --max-steps 60 --checkpoint-dir " + dir);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const auto resumed =
      run_on_terminal(kRun + " --epochs 3 --max-steps 100 --checkpoint-dir " + dir + " --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const auto found = bars(resumed.output);
  ASSERT_FALSE(found.empty()) << resumed.output;
  bool saw_epoch2_end = false, saw_epoch3_end = false;
  for (const auto& b : found) {
    EXPECT_EQ(b.last_epoch, 3) << "global step 100 lies in epoch 3";
    ASSERT_TRUE(b.epoch == 2 || b.epoch == 3) << "epoch 1 was done before the resume";
    if (b.epoch == 2) {
      EXPECT_EQ(b.total, 46);
      EXPECT_GT(b.position, 14) << "the resumed epoch starts at its checkpoint's position";
      saw_epoch2_end |= b.position == 46;
    } else {
      EXPECT_EQ(b.total, 100 - 2 * 46);
      saw_epoch3_end |= b.position == 100 - 2 * 46;
    }
  }
  EXPECT_TRUE(saw_epoch2_end && saw_epoch3_end) << resumed.output;
  EXPECT_NE(resumed.output.find("epoch 2/3  step 92"), std::string::npos) << resumed.output;
  EXPECT_NE(resumed.output.find("epoch 3/3  step 100"), std::string::npos) << resumed.output;
}

TEST(ProgressOnATerminal, NoBarWhenStderrIsNotATerminal) {
  const auto r = run_dtrain(0, kRun + " --epochs 1 --max-steps 5");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(bars(r.output).empty()) << r.output;
  EXPECT_NE(r.output.find("epoch 1/1  step 5"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace dtrain::testing
