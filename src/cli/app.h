#pragma once

namespace dtrain::cli {

// The whole program behind main(): parses options, starts MPI, runs the command and turns
// every failure into a message and one of the exit codes of docs/design.md "Exit codes".
int run_app(int argc, char** argv);

}  // namespace dtrain::cli
