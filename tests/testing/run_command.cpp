#include "testing/run_command.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace dtrain::testing {

CommandResult run_command(const std::string& command_line) {
  CommandResult result;
  FILE* pipe = popen((command_line + " 2>&1").c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed: " + command_line);
  std::array<char, 4096> buffer;
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) {
    result.output.append(buffer.data(), n);
  }
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

CommandResult run_dtrain(int ranks, const std::string& args) {
  std::string cmd;
  if (ranks > 0) {
    cmd = std::string(DTRAIN_MPIEXEC) + " -n " + std::to_string(ranks) +
          " --oversubscribe --bind-to none ";
  }
  return run_command(cmd + DTRAIN_BINARY + " " + args);
}

std::string make_temp_dir(const std::string& tag) {
  static int counter = 0;
  auto dir = std::filesystem::path(::testing::TempDir()) /
             ("dtrain_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace dtrain::testing
