#include "comm/collectives/algorithm_table.h"

#include <fstream>
#include <sstream>

#include "core/hash.h"

namespace dtrain::comm {

std::string_view algo_name(AllreduceAlgo algo) {
  switch (algo) {
    case AllreduceAlgo::kRing:
      return "ring";
    case AllreduceAlgo::kRecursiveDoubling:
      return "rd";
    case AllreduceAlgo::kRabenseifner:
      return "rabenseifner";
    case AllreduceAlgo::kHierarchical:
      return "hierarchical";
    case AllreduceAlgo::kMpi:
      return "mpi";
  }
  return "?";
}

std::optional<AllreduceAlgo> parse_algo(std::string_view name) {
  for (auto a : {AllreduceAlgo::kRing, AllreduceAlgo::kRecursiveDoubling,
                 AllreduceAlgo::kRabenseifner, AllreduceAlgo::kHierarchical, AllreduceAlgo::kMpi}) {
    if (algo_name(a) == name) return a;
  }
  return std::nullopt;
}

std::string_view topology_name(Topology topology) {
  return topology == Topology::kSharedHosts ? "shm" : "net";
}

AlgorithmTable AlgorithmTable::builtin() {
  // Measured on this project's machine kind (2 cores, Open MPI 4.1.4; docs/collectives.md
  // "auto and its table"): on one host the shared-memory path wins at every size; between hosts
  // recursive doubling wins for small messages, the ring for large ones.
  AlgorithmTable t;
  t.shm_ = {{kMax, AllreduceAlgo::kHierarchical}};
  t.net_ = {{std::size_t{16} << 10, AllreduceAlgo::kRecursiveDoubling},
            {std::size_t{256} << 10, AllreduceAlgo::kRabenseifner},
            {kMax, AllreduceAlgo::kRing}};
  return t;
}

namespace {

[[noreturn]] void fail(const std::string& source, int line, const std::string& what) {
  throw AllreduceTableError("--allreduce-table " + source + ":" + std::to_string(line) + ": " +
                            what);
}

void check_complete(const std::vector<AlgorithmTable::Entry>& entries, const std::string& source,
                    int last_line, std::string_view topology) {
  if (!entries.empty() && entries.back().up_to_bytes != AlgorithmTable::kMax) {
    fail(source, last_line,
         "the last '" + std::string(topology) + "' entry must have UP_TO_BYTES 'max'");
  }
}

}  // namespace

AlgorithmTable AlgorithmTable::parse(std::string_view text, const std::string& source) {
  std::vector<Entry> shm, net;
  int last_shm = 0, last_net = 0;
  std::istringstream in{std::string(text)};
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::string topology, bytes, algo, more;
    if (!(fields >> topology)) continue;  // blank or comment
    if (!(fields >> bytes >> algo) || (fields >> more)) {
      fail(source, number, "expected 'TOPOLOGY UP_TO_BYTES ALGORITHM', got '" + line + "'");
    }
    std::vector<Entry>* entries = nullptr;
    if (topology == "shm") {
      entries = &shm;
      last_shm = number;
    } else if (topology == "net") {
      entries = &net;
      last_net = number;
    } else {
      fail(source, number, "topology '" + topology + "': expected shm or net");
    }
    Entry entry;
    if (bytes == "max") {
      entry.up_to_bytes = kMax;
    } else {
      std::size_t used = 0;
      unsigned long long value = 0;
      try {
        value = std::stoull(bytes, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != bytes.size() || bytes.empty() || bytes[0] == '-' || value == 0) {
        fail(source, number, "UP_TO_BYTES '" + bytes + "': expected a positive integer or max");
      }
      entry.up_to_bytes = static_cast<std::size_t>(value);
    }
    const auto parsed = parse_algo(algo);
    if (!parsed || *parsed == AllreduceAlgo::kMpi) {
      fail(source, number,
           "algorithm '" + algo + "': expected ring, rd, rabenseifner or hierarchical");
    }
    entry.algo = *parsed;
    if (!entries->empty() && entries->back().up_to_bytes >= entry.up_to_bytes) {
      fail(source, number,
           "UP_TO_BYTES must increase within '" + topology + "' (after " +
               (entries->back().up_to_bytes == kMax ? std::string("max")
                                                    : std::to_string(entries->back().up_to_bytes)) +
               ")");
    }
    entries->push_back(entry);
  }
  if (shm.empty() && net.empty()) {
    fail(source, number, "no entries (expected lines 'TOPOLOGY UP_TO_BYTES ALGORITHM')");
  }
  check_complete(shm, source, last_shm, "shm");
  check_complete(net, source, last_net, "net");
  AlgorithmTable table = builtin();
  if (!shm.empty()) table.shm_ = std::move(shm);
  if (!net.empty()) table.net_ = std::move(net);
  return table;
}

AlgorithmTable AlgorithmTable::read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw AllreduceTableError("--allreduce-table " + path + ": cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

const std::vector<AlgorithmTable::Entry>& AlgorithmTable::entries(Topology topology) const {
  return topology == Topology::kSharedHosts ? shm_ : net_;
}

void AlgorithmTable::set(Topology topology, std::vector<Entry> entries) {
  if (entries.empty() || entries.back().up_to_bytes != kMax) {
    throw CommError("allreduce table: the last entry must cover every size");
  }
  (topology == Topology::kSharedHosts ? shm_ : net_) = std::move(entries);
}

AllreduceAlgo AlgorithmTable::choose(Topology topology, std::size_t bytes) const {
  for (const Entry& e : entries(topology)) {
    if (bytes <= e.up_to_bytes) return e.algo;
  }
  return entries(topology).back().algo;
}

std::string AlgorithmTable::to_text() const {
  std::ostringstream out;
  out << "# dtrain allreduce table: TOPOLOGY UP_TO_BYTES ALGORITHM\n"
      << "# shm: some host runs several ranks; net: one rank per host\n";
  for (auto topology : {Topology::kSharedHosts, Topology::kOneRankPerHost}) {
    for (const Entry& e : entries(topology)) {
      out << topology_name(topology) << ' '
          << (e.up_to_bytes == kMax ? std::string("max") : std::to_string(e.up_to_bytes)) << ' '
          << algo_name(e.algo) << '\n';
    }
  }
  return out.str();
}

std::uint64_t AlgorithmTable::fingerprint() const {
  Fingerprint f;
  for (auto topology : {Topology::kSharedHosts, Topology::kOneRankPerHost}) {
    f.add(static_cast<int>(topology)).add(entries(topology).size());
    for (const Entry& e : entries(topology)) {
      f.add(e.up_to_bytes).add(static_cast<int>(e.algo));
    }
  }
  return f.value();
}

}  // namespace dtrain::comm
