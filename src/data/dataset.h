#pragma once
// Data sets as the trainer sees them. Examples live in one of three stores:
//  - bytes (IDX, uint8 NPY/HDF5, synthetic): 4x less memory than float per rank, which
//    matters with 8-16 ranks on a node; scaled to [0,1] floats when a batch is gathered;
//  - floats (float32/float64 NPY/HDF5, CSV): used as they are;
//  - an ExampleSource that reads rows on demand (HDF5 larger than --data-memory-mb), so a
//    rank holds only the batch it is working on.
// Labels are always in memory (4 bytes per example).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dtrain::data {

// Rows of a data set kept outside memory. Reads happen on the rank's main thread only.
class ExampleSource {
 public:
  virtual ~ExampleSource() = default;
  // Writes examples [row, row + count) as floats in the same scale as the in-memory stores
  // (bytes divided by 255). Throws DataError naming the file when the read fails.
  virtual void read_rows(std::size_t row, std::size_t count, float* out) const = 0;
};

struct Dataset {
  int height = 0;
  int width = 0;
  int channels = 0;
  int num_classes = 0;                          // 0 for unlabeled data
  std::vector<std::uint8_t> pixels;             // byte store: size() * sample_size() bytes, HWC
  std::vector<float> values;                    // float store: size() * sample_size() floats, HWC
  std::shared_ptr<const ExampleSource> source;  // on-demand store: rows [first_row, +rows)
  std::size_t first_row = 0;
  std::size_t rows = 0;
  std::vector<std::int32_t> labels;  // size() entries, or empty when unlabeled

  std::size_t sample_size() const { return static_cast<std::size_t>(height) * width * channels; }
  std::size_t size() const {
    if (source) return rows;
    if (sample_size() == 0) return 0;
    return (values.empty() ? pixels.size() : values.size()) / sample_size();
  }
  std::string shape_text() const {
    return std::to_string(height) + "x" + std::to_string(width) + "x" + std::to_string(channels);
  }
};

struct DataSplits {
  Dataset train;
  Dataset val;  // held out from the END of the training files (--val-size)
  Dataset test;
  std::string description;  // e.g. "fashion-mnist at /usr/share/datasets/fashion-mnist"
  // Text data (data/text_dataset.h): the bytes that token ids 0..V-1 stand for, sorted;
  // empty for every other kind of data.
  std::string vocabulary;
};

// Moves the last n examples of `from` into a new Dataset with the same geometry (for an
// on-demand store both share the source and split its rows). n <= from.size().
Dataset split_tail(Dataset& from, std::size_t n);

}  // namespace dtrain::data
