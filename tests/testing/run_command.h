#pragma once
// Runs the dtrain binary (optionally under mpiexec) for end-to-end tests and captures its
// exit code and combined output.
#include <string>
#include <vector>

namespace dtrain::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

CommandResult run_command(const std::string& command_line);
// `mpiexec -n ranks --oversubscribe dtrain args...` (ranks 0: dtrain alone, no launcher).
CommandResult run_dtrain(int ranks, const std::string& args);
// A fresh empty directory under the test temp dir.
std::string make_temp_dir(const std::string& tag);
std::vector<std::string> read_lines(const std::string& path);

}  // namespace dtrain::testing
