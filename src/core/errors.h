#pragma once
// Typed exceptions thrown by library code. Only main() turns them into a message and one of
// the exit codes documented in docs/design.md "Exit codes", so every module reports failures the same way.
#include <exception>
#include <stdexcept>
#include <string>

namespace dtrain {

// Documented process exit codes (docs/design.md, "Exit codes").
enum ExitCode : int {
  kExitOk = 0,
  kExitRuntime = 1,
  kExitUsage = 2,
  kExitBadInput = 3,
  // --comm-timeout: a peer stopped answering (stopped, cut off); resume from a checkpoint.
  kExitCommTimeout = 4,
  kExitStopped = 75,
};

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  virtual int exit_code() const { return kExitRuntime; }
  // True when every rank throws this error at the same point of the program (a check on
  // values all ranks share). main() can then end each rank cleanly instead of aborting
  // the whole job, and only rank 0 needs to print it.
  bool collective() const { return collective_; }
  Error& mark_collective() {
    collective_ = true;
    return *this;
  }

 private:
  bool collective_ = false;
};

// A command-line option or configuration value is invalid (exit 2).
class ConfigError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitUsage; }
};

// A data set file is missing or malformed (exit 3).
class DataError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitBadInput; }
};

// A model spec file is malformed or describes an impossible network (exit 3).
class ModelError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitBadInput; }
};

// A checkpoint cannot be read or written (exit 3).
class CheckpointError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitBadInput; }
};

// Communication between ranks failed (exit 1).
class CommError : public Error {
 public:
  using Error::Error;
};

// Training diverged or another runtime failure (exit 1).
class TrainingError : public Error {
 public:
  using Error::Error;
};

// The exit code and message of whatever `body` threw (code 0 when it returned). Used where
// one rank's outcome must first be shared with the others before anyone acts on it.
struct Failure {
  int exit_code = kExitOk;
  std::string message;
};

template <typename F>
Failure capture_failure(F&& body) {
  try {
    body();
  } catch (const Error& e) {
    return {e.exit_code(), e.what()};
  } catch (const std::exception& e) {
    return {kExitRuntime, e.what()};
  }
  return {};
}

}  // namespace dtrain
