#pragma once
// Sums gradients across ranks, bucket by bucket, in place in the flat gradient array
// (ParamArena layout; no fusion buffer). The loss already scales by 1/global_batch, so the
// sum is the average.
//
// Buckets are cut along layer boundaries in backward order (bucket_plan.h), once per model.
// With a CommThread (--overlap on), the trainer reports each layer whose parameter
// gradients are final while backward goes on (layer_final); the bucket that layer
// completes is queued on the communication thread at once, so its reduction runs while the
// main thread computes the lower layers. finish() queues whatever is left and waits: the
// optimizer steps on complete sums only. Without a thread (--overlap off) finish() reduces
// every bucket on the calling thread. Either way the buckets, their order and the algorithm
// reducing each are the same, so the result is bitwise the same, whatever the timing.
//
// Threads: layer_final and finish are called by one thread (the trainer's); bucket jobs run
// on the CommThread and touch only their bucket's floats, which backward no longer writes
// once the bucket is complete, and their own timing slot, read after finish's wait.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "comm/sync/bucket_plan.h"
#include "comm/sync/comm_thread.h"
#include "comm/sync/gradient_compression.h"
#include "core/timeline.h"

namespace dtrain::comm {

struct SyncOptions {
  double bucket_mb = 0.0;  // <= 0: auto (bucket_plan.h)
  Compression compression = Compression::kNone;
  bool error_feedback = false;  // only with a compression
  Timeline* timeline = nullptr;
};

class GradientSynchronizer {
 public:
  // comm reduces the buckets; thread (may be null: no overlap) is where. Both must outlive
  // this object, and with a thread, comm is then used only from that thread while a bucket
  // is in flight. Throws ConfigError for --error-feedback without a compression.
  GradientSynchronizer(Communicator& comm, CommThread* thread, SyncOptions options);

  // Plans the buckets of one model's gradient array; returns the model's index.
  std::size_t add_model(std::span<float> grads, std::span<const LayerParams> layers);

  // The step all following events belong to (timeline labels only).
  void set_step(std::int64_t step) { step_ = step; }
  // Layer `layer` of model m has its final parameter gradients for this step.
  void layer_final(std::size_t m, std::size_t layer);
  // Queues (or, without a thread, runs) every bucket of model m not yet started, in order,
  // and waits for all of them. Collective. Rethrows a failure of the communication thread.
  void finish(std::size_t m);

  const std::vector<Bucket>& buckets(std::size_t m) const { return models_.at(m).buckets; }
  bool overlapping() const { return thread_ != nullptr; }
  const SyncOptions& options() const { return options_; }

  // Error feedback: model m's residual (this rank's; empty without --error-feedback).
  std::span<float> residual(std::size_t m) { return models_.at(m).residual; }

  // Seconds spent reducing buckets (on whichever thread), and seconds the caller waited
  // for them in finish(): with overlap the part not hidden behind backward, without it the
  // whole reduction. Since construction or the last reset.
  double comm_seconds() const { return comm_seconds_; }
  double exposed_seconds() const { return exposed_seconds_; }
  void reset_seconds() { comm_seconds_ = exposed_seconds_ = 0.0; }

 private:
  struct Model {
    std::span<float> grads;
    std::vector<Bucket> buckets;
    std::vector<std::ptrdiff_t> closes;  // per layer: the bucket it completes, or -1
    std::vector<float> residual;
    std::vector<double> seconds;         // per bucket, this step: written by its job
    std::vector<std::uint64_t> tickets;  // per bucket, this step
    std::size_t started = 0;             // buckets started this step
  };
  void start_through(Model& model, std::size_t m, std::size_t bucket);
  void reduce(Model& model, std::size_t m, std::size_t b);
  std::string labels(std::size_t m, std::size_t b) const;

  Communicator& comm_;
  CommThread* thread_;
  SyncOptions options_;
  std::vector<Model> models_;
  std::unique_ptr<CompressedAllreduce> compressed_;  // used by one thread at a time
  std::int64_t step_ = 0;
  double comm_seconds_ = 0.0;
  double exposed_seconds_ = 0.0;
};

}  // namespace dtrain::comm
