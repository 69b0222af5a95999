#include "train/timeline_file.h"

#include <cstdint>
#include <fstream>
#include <span>
#include <vector>

#include "comm/liveness/progress_state.h"
#include "train/rank0_write.h"

namespace dtrain::train {

void write_timeline_file(comm::Communicator& comm, const Timeline& timeline,
                         const std::string& path,
                         const std::function<void(const std::string&)>& written) {
  comm::liveness::PhaseScope phase(comm::liveness::Phase::kOutputs);
  const std::string mine = timeline.trace_events(comm.rank());
  const auto lengths = comm.allgather(static_cast<std::uint64_t>(mine.size()));
  std::vector<std::string> parts;
  for (int r = 0; r < comm.size(); ++r) {
    std::string part = r == comm.rank() ? mine : std::string(lengths[r], '\0');
    comm.broadcast(std::as_writable_bytes(std::span<char>(part.data(), part.size())), r);
    if (comm.rank() == 0) parts.push_back(std::move(part));
  }
  rank0_then_agree(
      comm,
      [&] {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << Timeline::trace_file(parts);
        out.flush();
        if (!out) throw ConfigError("cannot write '" + path + "'");
        written(path);
      },
      "--timeline: ", "rank 0 failed to write the timeline");
}

}  // namespace dtrain::train
