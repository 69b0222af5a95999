// Batch gathering and evaluation shards.
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "data/batch.h"

namespace dtrain::data {
namespace {

// 5 examples of 2x3x2: byte value of example i, element k is 10*i + k (all distinct).
Dataset small_dataset() {
  Dataset ds;
  ds.height = 2;
  ds.width = 3;
  ds.channels = 2;
  ds.num_classes = 10;
  for (int i = 0; i < 5; ++i) {
    for (int k = 0; k < 12; ++k) ds.pixels.push_back(static_cast<std::uint8_t>(10 * i + k));
    ds.labels.push_back(9 - i);
  }
  return ds;
}

TEST(Batch, GatherImagesScalesAndOrders) {
  const Dataset ds = small_dataset();
  const std::vector<std::uint32_t> idx{3, 0, 3, 4};
  std::vector<float> out(idx.size() * 12, -1.0f);
  gather_images(ds, idx, out.data());
  for (std::size_t j = 0; j < idx.size(); ++j) {
    for (std::size_t k = 0; k < 12; ++k) {
      EXPECT_EQ(out[j * 12 + k], static_cast<float>(10 * idx[j] + k) / 255.f);
    }
  }
}

TEST(Batch, FullByteRangeMapsToUnitInterval) {
  Dataset ds;
  ds.height = 16;
  ds.width = 16;
  ds.channels = 1;
  for (int v = 0; v < 256; ++v) ds.pixels.push_back(static_cast<std::uint8_t>(v));
  std::vector<float> out(256);
  gather_range(ds, 0, 1, out.data());
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[255], 1.0f);
  for (int v = 0; v < 256; ++v) EXPECT_EQ(out[static_cast<std::size_t>(v)], v / 255.f);
}

TEST(Batch, GatherLabels) {
  const Dataset ds = small_dataset();
  const std::vector<std::uint32_t> idx{4, 1, 1};
  std::vector<std::int32_t> out(3);
  gather_labels(ds, idx, out.data());
  EXPECT_EQ(out, (std::vector<std::int32_t>{5, 8, 8}));
}

TEST(Batch, GatherRangeMatchesGatherImages) {
  const Dataset ds = small_dataset();
  std::vector<float> a(3 * 12), b(3 * 12);
  gather_range(ds, 2, 3, a.data());
  const std::vector<std::uint32_t> idx{2, 3, 4};
  gather_images(ds, idx, b.data());
  EXPECT_EQ(a, b);
  std::vector<std::int32_t> labels(3);
  gather_range_labels(ds, 2, 3, labels.data());
  EXPECT_EQ(labels, (std::vector<std::int32_t>{7, 6, 5}));
}

TEST(Batch, EmptyGathersWriteNothing) {
  const Dataset ds = small_dataset();
  float sentinel = 7.0f;
  gather_images(ds, {}, &sentinel);
  gather_range(ds, 5, 0, &sentinel);
  EXPECT_EQ(sentinel, 7.0f);
}

TEST(Batch, OutOfRangeThrows) {
  const Dataset ds = small_dataset();
  std::vector<float> out(12 * 6);
  std::vector<std::int32_t> labels(6);
  const std::vector<std::uint32_t> bad{0, 5};
  EXPECT_THROW(gather_images(ds, bad, out.data()), std::out_of_range);
  EXPECT_THROW(gather_labels(ds, bad, labels.data()), std::out_of_range);
  EXPECT_THROW(gather_range(ds, 4, 2, out.data()), std::out_of_range);
  EXPECT_THROW(gather_range(ds, 6, 0, out.data()), std::out_of_range);
  EXPECT_THROW(gather_range_labels(ds, 0, 6, labels.data()), std::out_of_range);
}

TEST(Batch, UnlabeledDataHasNoLabels) {
  Dataset ds = small_dataset();
  ds.labels.clear();
  std::int32_t out = 0;
  const std::vector<std::uint32_t> idx{0};
  EXPECT_THROW(gather_labels(ds, idx, &out), std::logic_error);
}

TEST(EvalShard, CoversEveryExampleOnce) {
  for (int world = 1; world <= 9; ++world) {
    for (std::size_t n : {0u, 1u, 2u, 3u, 7u, 8u, 9u, 10u, 11u, 1001u}) {
      std::size_t next = 0;
      std::size_t largest = 0;
      std::size_t smallest = n + 1;
      for (int r = 0; r < world; ++r) {
        const EvalShard s = eval_shard(n, r, world);
        EXPECT_EQ(s.begin, next) << "n=" << n << " P=" << world << " r=" << r;
        next += s.count;
        largest = std::max(largest, s.count);
        smallest = std::min(smallest, s.count);
        // The first n % P ranks take the extra example.
        const bool extra = static_cast<std::size_t>(r) < n % static_cast<std::size_t>(world);
        EXPECT_EQ(s.count, n / static_cast<std::size_t>(world) + (extra ? 1 : 0));
      }
      EXPECT_EQ(next, n);
      EXPECT_LE(largest - smallest, 1u);
    }
  }
}

TEST(EvalShard, InvalidRank) {
  EXPECT_THROW(eval_shard(10, 3, 3), std::invalid_argument);
  EXPECT_THROW(eval_shard(10, 0, 0), std::invalid_argument);
}

}  // namespace
}  // namespace dtrain::data
