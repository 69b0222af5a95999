// libFuzzer target: a text-format ModelSpec, parsed and built into its networks as
// `--model FILE` does. ModelError is the documented outcome of a bad spec.
#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "ckpt/model_spec.h"
#include "core/errors.h"
#include "nn/model_config.h"

// Protobuf logs every rejected field (invalid UTF-8...) to stderr; the decoder's own error
// is what counts, and the logging would slow the run several times over.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto spec = dtrain::ckpt::parse_model_spec_text(text, "fuzz.pbtxt");
    const auto networks = dtrain::nn::build_networks(spec);
  } catch (const dtrain::ModelError&) {
  }
  return 0;
}
