#include "comm/sync/bucket_plan.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/errors.h"

namespace dtrain::comm {

namespace {
constexpr std::size_t kMiB = std::size_t{1} << 20;
}

BucketSizes auto_bucket_sizes(std::size_t arena_bytes) {
  return {kMiB, std::clamp(arena_bytes / 4, kMiB, 25 * kMiB)};
}

BucketSizes bucket_sizes(double bucket_mb, std::size_t arena_bytes) {
  if (!(bucket_mb > 0.0)) return auto_bucket_sizes(arena_bytes);
  const auto bytes = std::max<std::size_t>(
      sizeof(float), static_cast<std::size_t>(std::llround(bucket_mb * kMiB)));
  return {std::min(kMiB, bytes), bytes};
}

std::vector<Bucket> plan_buckets(std::span<const LayerParams> layers, std::size_t arena_floats,
                                 BucketSizes sizes) {
  std::vector<Bucket> buckets;
  std::size_t open_end = arena_floats;  // the open bucket is [lowest begin so far, open_end)
  std::size_t open_begin = arena_floats;
  std::size_t open_last = 0;
  std::size_t expected_end = arena_floats;
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    if (it->begin == it->end) continue;
    if (it->end != expected_end || it->begin > it->end) {
      throw std::logic_error("plan_buckets: layer " + std::to_string(it->layer) +
                             " does not end where the next layer's parameters begin");
    }
    expected_end = it->begin;
    const std::size_t cap = (buckets.empty() ? sizes.first_bytes : sizes.bytes) / sizeof(float);
    const std::size_t held = open_end - open_begin;
    const std::size_t size = it->end - it->begin;
    if (held > 0 && held + size > cap) {
      buckets.push_back({open_begin, open_end, open_last});
      open_end = open_begin;
    }
    open_begin = it->begin;
    open_last = it->layer;
  }
  if (open_end > open_begin) buckets.push_back({open_begin, open_end, open_last});
  if (expected_end != 0 && !buckets.empty()) {
    throw std::logic_error("plan_buckets: the layers' parameters do not start at offset 0");
  }
  return buckets;
}

}  // namespace dtrain::comm
