#pragma once
// Where the gradient arena is cut into buckets (after PyTorch DDP's reducer, without its
// rebuilding): along layer boundaries, in backward order (the last layer's parameters
// first), so a bucket is complete as soon as backward has passed its lowest layer. The cut
// is computed once per model from sizes alone, so it is the same on every rank and in every
// step, whatever the timing: the reduction of each bucket, and so the result, never depends
// on when a bucket became ready.
#include <cstddef>
#include <span>
#include <vector>

namespace dtrain::comm {

// One layer's parameters: floats [begin, end) of the arena, padding after them included.
struct LayerParams {
  std::size_t layer = 0;  // index in the network, forward order
  std::size_t begin = 0;
  std::size_t end = 0;
};

// Floats [begin, end) of the arena; complete once layer `last_layer` (the lowest-indexed
// layer inside, the last one backward reaches) has final gradients.
struct Bucket {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t last_layer = 0;
  std::size_t size() const { return end - begin; }
};

struct BucketSizes {
  std::size_t first_bytes =
      0;                  // the first bucket (the last layers): small, so sending starts early
  std::size_t bytes = 0;  // every later one
};

// --bucket-mb auto: the first bucket 1 MiB (DDP's), later ones a quarter of the model
// clamped to [1 MiB, 25 MiB] (25 MiB: DDP's default). A quarter: at least ~4 buckets, so the
// reduction of the upper layers runs while backward still computes the lower ones and only
// the last bucket waits after backward; at least 1 MiB so per-collective latency (tens of
// microseconds) stays small against the transfer; at most 25 MiB for large models.
BucketSizes auto_bucket_sizes(std::size_t arena_bytes);
// --bucket-mb M (MiB, > 0): every bucket up to M MiB, the first up to min(1 MiB, M). M <= 0
// means auto.
BucketSizes bucket_sizes(double bucket_mb, std::size_t arena_bytes);

// layers: forward order, as the network declared them (empty ranges allowed, skipped);
// arena_floats: the whole array. Walking backward, a layer joins the open bucket unless that
// would take it past its size and it already holds a layer; a layer larger than the size is
// a bucket of its own. The buckets tile [0, arena_floats) with no gap; buckets[0] is the
// highest part of the arena. An arena without parameters has no buckets.
std::vector<Bucket> plan_buckets(std::span<const LayerParams> layers, std::size_t arena_floats,
                                 BucketSizes sizes);

}  // namespace dtrain::comm
