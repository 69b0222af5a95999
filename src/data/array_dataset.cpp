#include "data/array_dataset.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/errors.h"

namespace dtrain::data {
namespace {

// A sample of more than 2^28 values would not fit a batch anyway; smaller than Shape's
// and int's limits so no product below wraps.
constexpr std::uint64_t kMaxSample = std::uint64_t{1} << 28;

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

template <typename T>
T load(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);  // little-endian files on little-endian hosts (x86, arm64)
  return v;
}

}  // namespace

ExampleShape example_shape(const std::vector<std::uint64_t>& shape, const std::string& what) {
  if (shape.size() < 2 || shape.size() > 4) {
    throw DataError(what + ": shape " + shape_text(shape) +
                    " (expected [N, D], [N, H, W] or [N, H, W, C]: examples first)");
  }
  std::uint64_t sample = 1;
  for (std::size_t i = 1; i < shape.size(); ++i) {
    if (shape[i] == 0 || shape[i] > kMaxSample || (sample *= shape[i]) > kMaxSample) {
      throw DataError(what + ": shape " + shape_text(shape) +
                      " (expected non-zero example dimensions of at most 2^28 values)");
    }
  }
  ExampleShape e{1, 1, 1};
  const auto d = [&](std::size_t i) { return static_cast<int>(shape[i]); };
  if (shape.size() == 2) e.width = d(1);
  if (shape.size() >= 3) e.height = d(1), e.width = d(2);
  if (shape.size() == 4) e.channels = d(3);
  return e;
}

std::vector<std::int32_t> labels_from_array(const NpyArray& y, std::size_t examples,
                                            const std::string& what_y) {
  if (y.dtype != NpyDtype::kUint8 && y.dtype != NpyDtype::kInt32 && y.dtype != NpyDtype::kInt64) {
    throw DataError(what_y + ": labels of dtype " + npy_dtype_name(y.dtype) +
                    " (expected integer labels: uint8, int32 or int64)");
  }
  const bool column = y.shape.size() == 2 && y.shape[1] == 1;
  if (!(y.shape.size() == 1 || column)) {
    throw DataError(what_y + ": labels of shape " + shape_text(y.shape) +
                    " (expected [N] or [N, 1])");
  }
  if (y.shape[0] != examples) {
    throw DataError(what_y + ": " + std::to_string(y.shape[0]) + " labels for " +
                    std::to_string(examples) + " examples (expected the same count)");
  }
  std::vector<std::int32_t> labels(examples);
  const std::size_t item = npy_item_size(y.dtype);
  for (std::size_t i = 0; i < examples; ++i) {
    const std::uint8_t* p = y.data.data() + i * item;
    std::int64_t v = 0;
    if (y.dtype == NpyDtype::kUint8) v = *p;
    if (y.dtype == NpyDtype::kInt32) v = load<std::int32_t>(p);
    if (y.dtype == NpyDtype::kInt64) v = load<std::int64_t>(p);
    if (v < 0 || v > std::numeric_limits<std::int32_t>::max() / 2) {
      throw DataError(what_y + ": label " + std::to_string(v) + " at index " + std::to_string(i) +
                      " (expected a class index >= 0)");
    }
    labels[i] = static_cast<std::int32_t>(v);
  }
  return labels;
}

Dataset dataset_from_arrays(NpyArray x, const NpyArray* y, const std::string& what_x,
                            const std::string& what_y) {
  const ExampleShape e = example_shape(x.shape, what_x);
  Dataset ds;
  ds.height = e.height;
  ds.width = e.width;
  ds.channels = e.channels;
  const std::size_t n = x.shape[0];
  const std::size_t values = n * ds.sample_size();
  switch (x.dtype) {
    case NpyDtype::kUint8:
      ds.pixels = std::move(x.data);
      break;
    case NpyDtype::kFloat32:
      ds.values.resize(values);
      std::memcpy(ds.values.data(), x.data.data(), values * sizeof(float));
      break;
    case NpyDtype::kFloat64:
      ds.values.resize(values);
      for (std::size_t i = 0; i < values; ++i) {
        ds.values[i] = static_cast<float>(load<double>(x.data.data() + i * 8));
      }
      break;
    default:
      throw DataError(what_x + ": examples of dtype " + npy_dtype_name(x.dtype) +
                      " (expected uint8, scaled to [0,1], float32 or float64)");
  }
  if (values == 0) {
    throw DataError(what_x + ": no examples (expected at least one)");
  }
  if (y != nullptr) ds.labels = labels_from_array(*y, n, what_y);
  return ds;
}

DataSplits finish_splits(Dataset train, std::optional<Dataset> test, std::size_t val_size,
                         int num_classes, const std::string& source, const std::string& format) {
  const std::size_t n = train.size();
  if (n == 0) throw DataError(source + ": the training data hold no examples");
  if (val_size >= n) {
    throw ConfigError("--val-size " + std::to_string(val_size) + " must be in [0, " +
                      std::to_string(n - 1) + "]: the training data in " + source + " hold " +
                      std::to_string(n) + " examples and at least one must remain for training");
  }
  if (test) {
    if (test->height != train.height || test->width != train.width ||
        test->channels != train.channels) {
      throw DataError(source + ": training examples are " + train.shape_text() +
                      " but test examples are " + test->shape_text() +
                      " (expected the same shape)");
    }
    if (train.labels.empty() != test->labels.empty()) {
      throw DataError(source + ": " + (train.labels.empty() ? "test" : "training") +
                      " examples have labels but the others do not (expected both or neither)");
    }
  }
  if (!test && val_size == 0) {
    throw ConfigError("--val-size 0: " + source +
                      " has no test split, so the test figures come from the validation "
                      "split, which must not be empty");
  }

  DataSplits s;
  s.train = std::move(train);
  s.val = split_tail(s.train, val_size);
  const bool own_test = test.has_value();
  s.test = own_test ? std::move(*test) : s.val;

  if (!s.train.labels.empty()) {
    std::int32_t top = -1;
    for (const Dataset* d : {&s.train, &s.val, &s.test}) {
      for (const auto l : d->labels) top = std::max(top, l);
    }
    if (num_classes > 0 && top >= num_classes) {
      throw DataError(source + ": label " + std::to_string(top) + " (expected labels below " +
                      "--num-classes " + std::to_string(num_classes) + ")");
    }
    const int classes = num_classes > 0 ? num_classes : top + 1;
    for (Dataset* d : {&s.train, &s.val, &s.test}) d->num_classes = classes;
  }
  s.description = format + " at " + source + " (" + std::to_string(s.train.size()) + " train, " +
                  std::to_string(s.val.size()) + " val, " + std::to_string(s.test.size()) +
                  " test" + (own_test ? "" : " = the validation split: no test data") + ")";
  return s;
}

}  // namespace dtrain::data
