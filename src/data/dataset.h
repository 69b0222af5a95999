#pragma once
// In-memory data sets. Pixels stay as bytes (4x less memory than float per rank, which
// matters with 8-16 ranks on a node) and are scaled to [0,1] floats when a batch is gathered.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dtrain::data {

struct Dataset {
  int height = 0;
  int width = 0;
  int channels = 0;
  int num_classes = 0;               // 0 for unlabeled data
  std::vector<std::uint8_t> pixels;  // size() * sample_size() bytes, sample-major, HWC
  std::vector<std::int32_t> labels;  // size() entries, or empty when unlabeled

  std::size_t sample_size() const { return static_cast<std::size_t>(height) * width * channels; }
  std::size_t size() const { return sample_size() == 0 ? 0 : pixels.size() / sample_size(); }
};

struct DataSplits {
  Dataset train;
  Dataset val;  // held out from the END of the training files (--val-size)
  Dataset test;
  std::string description;  // e.g. "fashion-mnist at /usr/share/datasets/fashion-mnist"
};

}  // namespace dtrain::data
