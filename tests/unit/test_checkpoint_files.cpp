// Checkpoint files: atomic replacement, `latest`, --keep pruning, an unusable directory,
// a full disk (a file-size limit), and 50 SIGKILLs at random moments of a write, after
// each of which the previous checkpoint must still load.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "ckpt/checkpoint_codec.h"
#include "ckpt/checkpoint_files.h"
#include "core/errors.h"
#include "core/rng.h"

namespace dtrain::ckpt {
namespace {

namespace fs = std::filesystem;

std::string fresh_dir(const std::string& tag) {
  const auto dir = fs::path(::testing::TempDir()) / ("dtrain_ckpt_" + tag);
  fs::remove_all(dir);
  return dir.string();
}

// A checkpoint of a given step whose parameters encode the step, so a loaded file can be
// checked against the name it was loaded under.
std::string checkpoint_bytes(std::int64_t step, std::size_t floats = 50000) {
  train::TrainState s;
  s.model.name = "test";
  s.slots.push_back({"w", nn::Shape{floats}, 0, floats});
  s.params.assign(floats, static_cast<float>(step));
  s.global_step = step;
  s.optimizer.kind = "sgd";
  return encode_checkpoint(s);
}

std::int64_t load_latest_step(const std::string& dir) {
  const auto path = resolve_checkpoint_path(dir);
  const auto s = decode_checkpoint(read_checkpoint_bytes(path), path);
  EXPECT_EQ(s.params.front(), static_cast<float>(s.global_step));
  EXPECT_EQ(s.params.back(), static_cast<float>(s.global_step));
  return s.global_step;
}

TEST(CheckpointDirectory, WritesLatestAndKeepsTheNewest) {
  const auto dir = fresh_dir("keep");
  CheckpointDirectory d(dir, 2);
  d.prepare();
  EXPECT_FALSE(d.latest().has_value());
  for (std::int64_t step : {10, 20, 30}) d.write(step, checkpoint_bytes(step));
  EXPECT_EQ(load_latest_step(dir), 30);
  EXPECT_FALSE(fs::exists(dir + "/ckpt-10.pb"));
  EXPECT_TRUE(fs::exists(dir + "/ckpt-20.pb"));
  EXPECT_EQ(*d.latest(), dir + "/ckpt-30.pb");
  for (const auto& entry : fs::directory_iterator(dir)) {
    EXPECT_FALSE(entry.path().filename().string().ends_with(".tmp")) << entry.path();
  }
}

TEST(CheckpointDirectory, UnusableDirectoryIsAConfigErrorBeforeTraining) {
  const auto dir = fresh_dir("unusable");
  fs::create_directories(dir);
  std::ofstream(dir + "/a-file") << "x";
  try {
    CheckpointDirectory(dir + "/a-file/sub", 3).prepare();
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--checkpoint-dir"), std::string::npos) << e.what();
  }
  // /proc refuses new entries even to root.
  EXPECT_THROW(CheckpointDirectory("/proc/dtrain-checkpoints", 3).prepare(), ConfigError);
  EXPECT_THROW(CheckpointDirectory(dir, 0), ConfigError);
}

TEST(CheckpointDirectory, FullDiskFailsCleanlyAndKeepsThePreviousCheckpoint) {
  const auto dir = fresh_dir("full");
  CheckpointDirectory d(dir, 3);
  d.prepare();
  d.write(5, checkpoint_bytes(5));
  const auto bigger = checkpoint_bytes(6, 400000);  // ~1.6 MB
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child can write at most 256 KiB per file: the write must fail, not crash.
    rlimit limit{256 * 1024, 256 * 1024};
    setrlimit(RLIMIT_FSIZE, &limit);
    signal(SIGXFSZ, SIG_IGN);
    try {
      d.write(6, bigger);
      _exit(10);  // unexpectedly succeeded
    } catch (const TrainingError& e) {
      _exit(std::string(e.what()).find("previous checkpoint is unchanged") != std::string::npos
                ? 0
                : 11);
    } catch (...) {
      _exit(12);
    }
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "the writer crashed";
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(load_latest_step(dir), 5);
  EXPECT_FALSE(fs::exists(dir + "/ckpt-6.pb"));
  EXPECT_FALSE(fs::exists(dir + "/.ckpt-6.pb.tmp"));
}

TEST(CheckpointDirectory, SurvivesFiftySigkillsDuringWrites) {
  const auto dir = fresh_dir("kill");
  CheckpointDirectory d(dir, 3);
  d.prepare();
  d.write(0, checkpoint_bytes(0));
  Rng rng(2024);
  std::int64_t next_step = 1, previous_latest = 0;
  int kills = 0, rounds_that_saved = 0;
  for (int round = 0; round < 50; ++round) {
    const std::int64_t first = next_step;
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      CheckpointDirectory writer(dir, 3);
      for (std::int64_t step = first;; ++step) writer.write(step, checkpoint_bytes(step));
    }
    // Kill somewhere in the first few writes (each takes a few milliseconds).
    std::this_thread::sleep_for(std::chrono::microseconds(rng.below(20000)));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));
    ++kills;
    // A new process starts by clearing temporary files, as dtrain does at start-up.
    CheckpointDirectory(dir, 3).prepare();
    const std::int64_t step = load_latest_step(dir);  // never damaged, never missing
    ASSERT_GE(step, previous_latest) << "latest went backwards in round " << round;
    if (step >= first) ++rounds_that_saved;
    previous_latest = step;
    next_step = first + 1000;  // steps of later rounds never collide with leftovers
  }
  EXPECT_EQ(kills, 50);
  // Most kills land inside a write; some rounds complete a few writes before the kill.
  std::printf("[          ] %d of 50 rounds completed a write before the kill\n",
              rounds_that_saved);
}

}  // namespace
}  // namespace dtrain::ckpt
