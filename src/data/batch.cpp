#include "data/batch.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace dtrain::data {
namespace {

void check_range(const Dataset& ds, std::size_t begin, std::size_t count) {
  if (begin > ds.size() || count > ds.size() - begin) {
    throw std::out_of_range("examples [" + std::to_string(begin) + ", " +
                            std::to_string(begin + count) + ") of a data set of " +
                            std::to_string(ds.size()));
  }
}

void check_labeled(const Dataset& ds) {
  if (ds.labels.size() != ds.size()) {
    throw std::logic_error("gathering labels of a data set with " +
                           std::to_string(ds.labels.size()) + " labels for " +
                           std::to_string(ds.size()) + " examples");
  }
}

void scale_bytes(const std::uint8_t* in, std::size_t n, float* out) {
  // A true division, not a multiply by 1/255, so every value is the correctly rounded x/255.
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(in[i]) / 255.0f;
}

// Examples [begin, begin + count) from whichever store the data set uses.
void copy_examples(const Dataset& ds, std::size_t begin, std::size_t count, float* out) {
  const std::size_t sample = ds.sample_size();
  if (ds.source) {
    ds.source->read_rows(ds.first_row + begin, count, out);
  } else if (!ds.values.empty()) {
    std::copy_n(ds.values.data() + begin * sample, count * sample, out);
  } else {
    scale_bytes(ds.pixels.data() + begin * sample, count * sample, out);
  }
}

}  // namespace

void gather_images(const Dataset& ds, std::span<const std::uint32_t> indices, float* out) {
  const std::size_t sample = ds.sample_size();
  // Runs of consecutive indices are copied (or read) in one piece: a shuffled batch has
  // few, an evaluation range is one.
  for (std::size_t i = 0; i < indices.size();) {
    std::size_t run = 1;
    while (i + run < indices.size() && indices[i + run] == indices[i] + run) ++run;
    check_range(ds, indices[i], run);
    copy_examples(ds, indices[i], run, out);
    out += run * sample;
    i += run;
  }
}

void gather_labels(const Dataset& ds, std::span<const std::uint32_t> indices, std::int32_t* out) {
  check_labeled(ds);
  for (const std::uint32_t index : indices) {
    check_range(ds, index, 1);
    *out++ = ds.labels[index];
  }
}

void gather_range(const Dataset& ds, std::size_t begin, std::size_t count, float* out) {
  check_range(ds, begin, count);
  copy_examples(ds, begin, count, out);
}

void gather_range_labels(const Dataset& ds, std::size_t begin, std::size_t count,
                         std::int32_t* out) {
  check_labeled(ds);
  check_range(ds, begin, count);
  std::copy_n(ds.labels.begin() + static_cast<std::ptrdiff_t>(begin), count, out);
}

EvalShard eval_shard(std::size_t n, int rank, int world) {
  if (world < 1 || rank < 0 || rank >= world) {
    throw std::invalid_argument("eval_shard: rank " + std::to_string(rank) +
                                " outside world of size " + std::to_string(world));
  }
  const auto p = static_cast<std::size_t>(world);
  const auto r = static_cast<std::size_t>(rank);
  const std::size_t q = n / p;
  const std::size_t rem = n % p;
  return EvalShard{r * q + std::min(r, rem), q + (r < rem ? 1 : 0)};
}

}  // namespace dtrain::data
