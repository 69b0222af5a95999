// Where a distributed training step spends its time, and how much of the gradient
// communication backward hides: runs `dtrain train` with the given options (any of them:
// model, batch, --overlap, --bucket-mb, --grad-compression, ...) under the launcher's rank
// count, records the timeline, and prints from it (rank 0):
//   - per layer: median forward and backward milliseconds inside training steps (rank 0);
//   - per bucket: floats, median reduction time, and how long after backward's end the
//     reduction finished (0 when it was hidden);
//   - per rank: the seconds spent reducing, the seconds the main thread waited for it
//     (exposed), and the hidden fraction 1 - exposed / reducing.
// Usage: mpirun -np 2 step_overlap --data synthetic --max-steps 60 [dtrain train options]
// The trace stays in --timeline FILE if given (else a temporary file, removed).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "comm/mpi/mpi_c.h"
#include "comm/mpi/mpi_runtime.h"
#include "core/errors.h"

using namespace dtrain;
using nlohmann::json;

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Span {
  double begin, end;
};

void summarize(const std::string& path) {
  std::ifstream in(path);
  const json doc = json::parse(in);
  // Training steps per rank, to keep evaluation's forward passes out of the layer figures.
  std::map<int, std::vector<Span>> steps;
  for (const auto& e : doc.at("traceEvents")) {
    if (e.value("cat", "") == "step") {
      const double ts = e.at("ts").get<double>();
      steps[e.at("pid").get<int>()].push_back({ts, ts + e.at("dur").get<double>()});
    }
  }
  auto in_step = [&](int pid, double ts) {
    const auto& s = steps[pid];
    auto it = std::upper_bound(s.begin(), s.end(), ts,
                               [](double t, const Span& x) { return t < x.begin; });
    return it != s.begin() && ts <= std::prev(it)->end;
  };
  std::vector<std::string> layer_order;
  std::map<std::string, std::vector<double>> forward, backward;
  std::map<int, std::vector<double>> reduce_ms, late_ms;  // per bucket (model 0), all ranks
  std::map<int, std::size_t> bucket_floats;
  std::map<int, double> reducing, waiting;  // per rank, seconds
  std::vector<double> step_ms;
  for (const auto& e : doc.at("traceEvents")) {
    if (e.value("ph", "") != "X") continue;
    const std::string cat = e.value("cat", "");
    const int pid = e.at("pid").get<int>();
    const double ts = e.at("ts").get<double>(), dur = e.at("dur").get<double>();
    const std::string name = e.at("name").get<std::string>();
    if (cat == "step" && pid == 0) step_ms.push_back(dur / 1000.0);
    if ((cat == "forward" || cat == "backward") && pid == 0 && in_step(pid, ts)) {
      const std::string layer = name.substr(name.find(' ') + 1);
      if (std::find(layer_order.begin(), layer_order.end(), layer) == layer_order.end()) {
        layer_order.push_back(layer);
      }
      (cat == "forward" ? forward : backward)[layer].push_back(dur / 1000.0);
    }
    if (cat == "reduce") reducing[pid] += dur / 1e6;
    if (cat == "wait") waiting[pid] += dur / 1e6;
    if (cat == "reduce" && e.at("tid").get<int>() == 0) waiting[pid] += dur / 1e6;  // no overlap
    if (cat == "reduce" && e.at("args").at("model").get<int>() == 0) {
      const int b = e.at("args").at("bucket").get<int>();
      reduce_ms[b].push_back(dur / 1000.0);
      bucket_floats[b] = e.at("args").at("floats").get<std::size_t>();
    }
  }
  // Backward's end per step: the optimizer of model 0 starts once its buckets are summed;
  // "late" is how far a bucket's reduction ran past the last backward span before it.
  std::map<std::pair<int, int>, double> last_backward;
  for (const auto& e : doc.at("traceEvents")) {
    if (e.value("ph", "") != "X" || e.value("cat", "") != "backward") continue;
    const int pid = e.at("pid").get<int>();
    const double end = e.at("ts").get<double>() + e.at("dur").get<double>();
    const auto& s = steps[pid];
    auto it = std::upper_bound(s.begin(), s.end(), end,
                               [](double t, const Span& x) { return t < x.begin; });
    if (it == s.begin()) continue;
    const int step = static_cast<int>(std::prev(it) - s.begin());
    auto& slot = last_backward[{pid, step}];
    slot = std::max(slot, end);
  }
  for (const auto& e : doc.at("traceEvents")) {
    if (e.value("cat", "") != "reduce" || e.at("args").at("model").get<int>() != 0) continue;
    const int pid = e.at("pid").get<int>();
    const double end = e.at("ts").get<double>() + e.at("dur").get<double>();
    const auto& s = steps[pid];
    auto it = std::upper_bound(s.begin(), s.end(), e.at("ts").get<double>(),
                               [](double t, const Span& x) { return t < x.begin; });
    if (it == s.begin()) continue;
    const int step = static_cast<int>(std::prev(it) - s.begin());
    const auto found = last_backward.find({pid, step});
    if (found == last_backward.end()) continue;
    late_ms[e.at("args").at("bucket").get<int>()].push_back(std::max(0.0, end - found->second) /
                                                            1000.0);
  }
  std::printf("step: median %.2f ms over %zu steps (rank 0)\n", median(step_ms), step_ms.size());
  std::printf("%-28s %10s %10s\n", "layer (rank 0)", "fwd_ms", "bwd_ms");
  for (const auto& l : layer_order) {
    std::printf("%-28s %10.3f %10.3f\n", l.c_str(), median(forward[l]), median(backward[l]));
  }
  std::printf("%-8s %10s %12s %22s\n", "bucket", "floats", "reduce_ms", "done_after_backward_ms");
  for (const auto& [b, ms] : reduce_ms) {
    std::printf("%-8d %10zu %12.3f %22.3f\n", b, bucket_floats[b], median(ms), median(late_ms[b]));
  }
  std::printf("%-6s %14s %14s %8s\n", "rank", "reducing_s", "exposed_s", "hidden");
  for (const auto& [rank, s] : reducing) {
    const double hidden = s > 0 ? 1.0 - waiting[rank] / s : 0.0;
    std::printf("%-6d %14.3f %14.3f %7.1f%%\n", rank, s, waiting[rank], 100.0 * hidden);
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto line = cli::parse_command_line(argc, argv);
    if (line.command != cli::Command::kTrain) {
      std::fprintf(stderr, "step_overlap: takes `dtrain train` options only\n");
      return kExitUsage;
    }
    auto options = std::get<cli::TrainOptions>(line.options);
    const bool keep = !options.train.timeline_path.empty();
    if (!keep) {
      options.train.timeline_path =
          (std::filesystem::temp_directory_path() / "dtrain-step-overlap.json").string();
    }
    options.train.progress = train::ProgressMode::kNever;
    comm::MpiRuntime mpi(
        &argc, &argv,
        options.train.overlap ? comm::ThreadLevel::kSerialized : comm::ThreadLevel::kFunneled);
    const int code = cli::run_train(options);
    if (code != kExitOk) return code;
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) {
      summarize(options.train.timeline_path);
      if (!keep) std::filesystem::remove(options.train.timeline_path);
    }
    return kExitOk;
  } catch (const cli::AgreedFailure& f) {
    return f.exit_code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "step_overlap: %s\n", e.what());
    return kExitRuntime;
  }
}
