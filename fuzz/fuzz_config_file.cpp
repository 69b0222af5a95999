// libFuzzer target: a `--config FILE` INI file, read and validated as the command line
// reads it (Boost.Program_options' config parser, then dtrain's checks). ConfigError is the
// documented outcome (exit 2); any other exception would reach main as "internal error".
#include <cstddef>
#include <cstdint>

#include "cli/command_line.h"
#include "core/errors.h"
#include "fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static dtrain::fuzz::InputFile file;
  const auto& path = file.hold(data, size);
  const char* argv[] = {"dtrain", "--config", path.c_str()};
  try {
    (void)dtrain::cli::parse_command_line(3, argv);
  } catch (const dtrain::ConfigError&) {
  }
  return 0;
}
