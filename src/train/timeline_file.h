#pragma once
// --timeline: every rank records its own events (core/timeline.h); at the end of a run rank 0
// gathers them into one Chrome trace file.
#include <functional>
#include <string>

#include "comm/communicator.h"
#include "core/timeline.h"

namespace dtrain::train {

// Collective. Rank 0 receives every rank's events (lengths first, then one broadcast per
// rank: a run writes this once, so simplicity beats a gatherv) and writes `path`; a failed
// write ends every rank with rank 0's message. `written` hears the path on rank 0.
void write_timeline_file(comm::Communicator& comm, const Timeline& timeline,
                         const std::string& path,
                         const std::function<void(const std::string&)>& written);

}  // namespace dtrain::train
