// libFuzzer target: the checkpoint decoder, then what `dtrain inspect` computes from the
// result (the parameters' SHA-256 walks every slot). Each input is decoded twice: as the
// file it is, and, when its envelope parses, with the payload's checksum made right, so
// mutations of the payload reach the payload's parser instead of stopping at the
// checksum. CheckpointError is the documented outcome of a bad file.
#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ckpt/checkpoint_codec.h"
#include "ckpt/sha256.h"
#include "core/errors.h"
#include "dtrain.pb.h"

namespace {

void decode(std::string_view bytes) {
  try {
    const auto state = dtrain::ckpt::decode_checkpoint(bytes, "fuzz.pb");
    (void)dtrain::ckpt::params_sha256(state);
  } catch (const dtrain::CheckpointError&) {
  }
}

}  // namespace

// Protobuf logs every rejected field (invalid UTF-8...) to stderr; the decoder's own error
// is what counts, and the logging would slow the run several times over.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  decode(bytes);
  dtrain::proto::CheckpointFile file;
  if (size > 0 && file.ParseFromArray(data, static_cast<int>(size))) {
    const auto digest = dtrain::ckpt::sha256(file.payload().data(), file.payload().size());
    file.set_payload_sha256(digest.data(), digest.size());
    decode(file.SerializeAsString());
  }
  return 0;
}
