#pragma once
// Which allreduce algorithm `--allreduce auto` uses for a message size: a table measured
// by `dtrain bench allreduce --tune` (or the built-in one, measured on this project's
// machine kind), read from `--allreduce-table FILE`. Every rank must use the same table,
// so ranks compare its fingerprint at start-up (it is part of the run configuration).
//
// File format (text, one entry per line, '#' starts a comment):
//   TOPOLOGY UP_TO_BYTES ALGORITHM
// TOPOLOGY is `shm` (some host runs several ranks) or `net` (one rank per host);
// UP_TO_BYTES is the largest message (bytes) the entry covers, or `max`; ALGORITHM is one
// of ring, rd, rabenseifner, hierarchical. Within a topology the sizes increase and the
// last one is `max`. A topology the file does not mention keeps the built-in entries.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors.h"

namespace dtrain::comm {

enum class AllreduceAlgo { kRing, kRecursiveDoubling, kRabenseifner, kHierarchical, kMpi };

// "ring", "rd", "rabenseifner", "hierarchical", "mpi".
std::string_view algo_name(AllreduceAlgo algo);
std::optional<AllreduceAlgo> parse_algo(std::string_view name);

enum class Topology { kSharedHosts, kOneRankPerHost };
std::string_view topology_name(Topology topology);  // "shm", "net"

// A malformed table file (exit 3, like any bad input file); the message names the file
// and the line.
class AllreduceTableError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitBadInput; }
};

class AlgorithmTable {
 public:
  static constexpr std::size_t kMax = SIZE_MAX;
  struct Entry {
    std::size_t up_to_bytes = kMax;
    AllreduceAlgo algo = AllreduceAlgo::kRing;
    bool operator==(const Entry&) const = default;
  };

  static AlgorithmTable builtin();
  // Throws AllreduceTableError "SOURCE:LINE: what was expected".
  static AlgorithmTable parse(std::string_view text, const std::string& source);
  static AlgorithmTable read_file(const std::string& path);

  AllreduceAlgo choose(Topology topology, std::size_t bytes) const;
  const std::vector<Entry>& entries(Topology topology) const;
  // Replaces one topology's entries (the last must cover kMax).
  void set(Topology topology, std::vector<Entry> entries);

  std::string to_text() const;
  std::uint64_t fingerprint() const;

 private:
  std::vector<Entry> shm_;
  std::vector<Entry> net_;
};

}  // namespace dtrain::comm
