#include "data/fashion_mnist.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "core/errors.h"
#include "data/idx_reader.h"

namespace dtrain::data {
namespace {

namespace fs = std::filesystem;

std::string find_file(const std::string& dir, const std::string& base) {
  std::error_code ec;
  for (const std::string& name : {base + ".gz", base}) {
    const fs::path path = fs::path(dir) / name;
    if (fs::exists(path, ec)) return path.string();
  }
  const fs::path gz = fs::path(dir) / (base + ".gz");
  throw DataError(gz.string() + ": file not found (nor uncompressed " + base + "); " + dir +
                  " must hold the four Fashion-MNIST IDX files train-images-idx3-ubyte, "
                  "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, "
                  "gzip'd or raw");
}

// Reads one images/labels pair into a Dataset, checking that the two files agree.
Dataset load_pair(const std::string& dir, const std::string& prefix) {
  const std::string images_path = find_file(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = find_file(dir, prefix + "-labels-idx1-ubyte");
  IdxArray images = read_idx(images_path, 3);
  const IdxArray labels = read_idx(labels_path, 1);
  if (images.dims[0] != labels.dims[0]) {
    throw DataError(images_path + " holds " + std::to_string(images.dims[0]) + " images but " +
                    labels_path + " holds " + std::to_string(labels.dims[0]) +
                    " labels (expected the same count)");
  }
  if (images.dims[1] == 0 || images.dims[2] == 0 || images.dims[1] > 4096 ||
      images.dims[2] > 4096) {
    throw DataError(images_path + ": image size " + std::to_string(images.dims[1]) + "x" +
                    std::to_string(images.dims[2]) + " (expected 1..4096 rows and columns)");
  }

  Dataset ds;
  ds.height = static_cast<int>(images.dims[1]);
  ds.width = static_cast<int>(images.dims[2]);
  ds.channels = 1;
  ds.num_classes = kFashionMnistClasses;
  ds.pixels = std::move(images.bytes);
  ds.labels.resize(labels.bytes.size());
  for (std::size_t i = 0; i < labels.bytes.size(); ++i) {
    if (labels.bytes[i] >= kFashionMnistClasses) {
      throw DataError(labels_path + ": label " + std::to_string(labels.bytes[i]) + " at index " +
                      std::to_string(i) + " (expected 0.." +
                      std::to_string(kFashionMnistClasses - 1) + ")");
    }
    ds.labels[i] = labels.bytes[i];
  }
  return ds;
}

}  // namespace

std::string default_data_dir() {
  return "/usr/share/datasets/fashion-mnist";
}

DataSplits load_idx_directory(const std::string& dir, std::size_t val_size) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    const bool exists = fs::exists(dir, ec);
    throw DataError(dir + (exists ? ": not a directory" : ": data directory not found") +
                    " (expected the Fashion-MNIST IDX files; install Debian's "
                    "dataset-fashion-mnist package (apt-get install dataset-fashion-mnist) "
                    "or pass --data DIR)");
  }

  DataSplits splits;
  splits.train = load_pair(dir, "train");
  splits.test = load_pair(dir, "t10k");
  if (splits.train.height != splits.test.height || splits.train.width != splits.test.width) {
    throw DataError(dir + ": training images are " + std::to_string(splits.train.height) + "x" +
                    std::to_string(splits.train.width) + " but t10k images are " +
                    std::to_string(splits.test.height) + "x" + std::to_string(splits.test.width) +
                    " (expected the same size)");
  }
  const std::size_t n = splits.train.size();
  if (n == 0) {
    throw DataError(dir + ": the training files hold no examples (expected at least one)");
  }
  if (val_size >= n) {
    throw ConfigError("--val-size " + std::to_string(val_size) + " must be in [0, " +
                      std::to_string(n - 1) + "]: the training files in " + dir + " hold " +
                      std::to_string(n) + " examples and at least one must remain for training");
  }
  splits.val = split_tail(splits.train, val_size);
  splits.description = "fashion-mnist at " + dir + " (" + std::to_string(splits.train.size()) +
                       " train, " + std::to_string(splits.val.size()) + " val, " +
                       std::to_string(splits.test.size()) + " test)";
  return splits;
}

}  // namespace dtrain::data
