#include "data/hdf5_dataset.h"

#include <hdf5.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <sstream>

#include "core/errors.h"
#include "data/array_dataset.h"

namespace dtrain::data {
namespace {

// Owns one HDF5 identifier and closes it with the matching call.
class Id {
 public:
  Id() = default;
  Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  Id(Id&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Id& operator=(Id&& o) noexcept {
    std::swap(id_, o.id_);
    std::swap(close_, o.close_);
    return *this;
  }
  ~Id() {
    if (id_ >= 0 && close_ != nullptr) close_(id_);
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

// One open dataset with its geometry and element kind.
struct Array {
  std::string what;  // "FILE dataset /train/x" for messages
  Id dataset;
  std::vector<std::uint64_t> shape;
  bool bytes = false;  // uint8 elements (else a float type, read as float)
  bool integer = false;
};

std::string text(const std::vector<std::uint64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

bool link_exists(hid_t file, const std::string& name) {
  // H5Lexists needs every parent group to exist: walk the path one level at a time.
  std::string prefix;
  std::stringstream parts(name);
  for (std::string part; std::getline(parts, part, '/');) {
    if (part.empty()) continue;
    prefix += "/" + part;
    if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
  }
  return !prefix.empty();
}

Array open_array(hid_t file, const std::string& path, const std::string& name) {
  Array a;
  a.what = path + " dataset " + name;
  a.dataset = Id(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!a.dataset.valid()) throw DataError(a.what + ": cannot open (expected a dataset)");
  const Id space(H5Dget_space(a.dataset.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0 || rank > 8) throw DataError(a.what + ": unreadable dataspace");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  a.shape.assign(dims.begin(), dims.end());
  const Id type(H5Dget_type(a.dataset.get()), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type.get());
  const std::size_t size = H5Tget_size(type.get());
  if (cls == H5T_INTEGER) {
    a.integer = true;
    a.bytes = size == 1 && H5Tget_sign(type.get()) == H5T_SGN_NONE;
  } else if (cls != H5T_FLOAT) {
    throw DataError(a.what + ": elements are neither numbers nor integers (expected uint8, " +
                    "float32 or float64 examples, integer labels)");
  }
  return a;
}

void read_all(const Array& a, hid_t mem_type, void* out) {
  if (H5Dread(a.dataset.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
    throw DataError(a.what + ": read failed (truncated or damaged file?)");
  }
}

// Rows of an x dataset read from the file on demand.
class Hdf5Rows final : public ExampleSource {
 public:
  Hdf5Rows(Array a, std::size_t sample) : a_(std::move(a)), sample_(sample) {
    file_space_ = Id(H5Dget_space(a_.dataset.get()), H5Sclose);
  }
  void read_rows(std::size_t row, std::size_t count, float* out) const override {
    std::vector<hsize_t> start(a_.shape.size(), 0), extent(a_.shape.begin(), a_.shape.end());
    start[0] = row;
    extent[0] = count;
    const hsize_t flat = count * sample_;
    const Id mem(H5Screate_simple(1, &flat, nullptr), H5Sclose);
    bool ok = H5Sselect_hyperslab(file_space_.get(), H5S_SELECT_SET, start.data(), nullptr,
                                  extent.data(), nullptr) >= 0;
    if (ok && a_.bytes) {
      scratch_.resize(flat);
      ok = H5Dread(a_.dataset.get(), H5T_NATIVE_UINT8, mem.get(), file_space_.get(), H5P_DEFAULT,
                   scratch_.data()) >= 0;
      // The same true division as the in-memory byte store, so both give the same bits.
      for (std::size_t i = 0; ok && i < flat; ++i) out[i] = float(scratch_[i]) / 255.0f;
    } else if (ok) {
      ok = H5Dread(a_.dataset.get(), H5T_NATIVE_FLOAT, mem.get(), file_space_.get(), H5P_DEFAULT,
                   out) >= 0;
    }
    if (!ok) {
      throw DataError(a_.what + ": reading rows [" + std::to_string(row) + ", " +
                      std::to_string(row + count) + ") failed");
    }
  }

 private:
  Array a_;
  std::size_t sample_;
  Id file_space_;
  mutable std::vector<std::uint8_t> scratch_;
};

Dataset load_split(hid_t file, const std::string& path, const std::string& x_name,
                   const std::string& y_name, std::size_t memory_limit) {
  Array x = open_array(file, path, x_name);
  const ExampleShape e = example_shape(x.shape, x.what);
  if (x.integer && !x.bytes) {
    throw DataError(x.what + ": integer examples other than uint8 (expected uint8, float32 or " +
                    "float64)");
  }
  Dataset ds;
  ds.height = e.height;
  ds.width = e.width;
  ds.channels = e.channels;
  const std::size_t n = x.shape[0], sample = ds.sample_size();
  if (n == 0) throw DataError(x.what + ": no examples (expected at least one)");
  if (!y_name.empty() && link_exists(file, y_name)) {
    Array y = open_array(file, path, y_name);
    if (!y.integer) {
      throw DataError(y.what + ": labels are not integers (expected integer class indices)");
    }
    if (!(y.shape.size() == 1 || (y.shape.size() == 2 && y.shape[1] == 1))) {
      throw DataError(y.what + ": labels of shape " + text(y.shape) + " (expected [N] or [N, 1])");
    }
    NpyArray labels;
    labels.dtype = NpyDtype::kInt64;
    labels.shape = y.shape;
    labels.data.resize(y.shape[0] * 8);
    read_all(y, H5T_NATIVE_INT64, labels.data.data());
    ds.labels = labels_from_array(labels, n, y.what);
  }
  const std::size_t in_memory = n * sample * (x.bytes ? 1 : sizeof(float));
  if (in_memory > memory_limit) {
    ds.rows = n;
    ds.source = std::make_shared<Hdf5Rows>(std::move(x), sample);
    return ds;
  }
  if (x.bytes) {
    ds.pixels.resize(n * sample);
    read_all(x, H5T_NATIVE_UINT8, ds.pixels.data());
  } else {
    ds.values.resize(n * sample);
    read_all(x, H5T_NATIVE_FLOAT, ds.values.data());
  }
  return ds;
}

}  // namespace

Hdf5Names parse_hdf5_names(const std::string& list) {
  std::vector<std::string> parts;
  std::stringstream in(list);
  for (std::string p; std::getline(in, p, ',');) parts.push_back(p);
  while (parts.size() < 4) parts.emplace_back();
  if (parts.size() > 4 || parts[0].empty()) {
    throw ConfigError("--hdf5-datasets: got '" + list +
                      "', expected TRAIN_X[,TRAIN_Y[,TEST_X[,TEST_Y]]] dataset names");
  }
  return {parts[0], parts[1], parts[2], parts[3]};
}

DataSplits load_hdf5_data(const std::string& path, std::size_t val_size, int num_classes,
                          const Hdf5Names& names, std::size_t memory_limit_bytes) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw DataError(path + ": file not found (expected an HDF5 file)");
  }
  if (std::filesystem::file_size(path, ec) == 0) {
    throw DataError(path + ": file is empty (expected an HDF5 file)");
  }
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // our messages, not HDF5's stack dumps
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    throw DataError(path + ": not an HDF5 file (expected the signature \\211HDF\\r\\n\\032\\n)");
  }
  const Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.valid()) throw DataError(path + ": cannot open (truncated or damaged HDF5 file?)");
  if (!link_exists(file.get(), names.train_x)) {
    throw DataError(path + ": no dataset " + names.train_x + " (expected the examples there; " +
                    "--hdf5-datasets names them)");
  }
  Dataset train = load_split(file.get(), path, names.train_x, names.train_y, memory_limit_bytes);
  std::optional<Dataset> test;
  if (!names.test_x.empty() && link_exists(file.get(), names.test_x)) {
    test = load_split(file.get(), path, names.test_x, names.test_y, memory_limit_bytes);
  }
  const bool streamed = train.source != nullptr;
  DataSplits s = finish_splits(std::move(train), std::move(test), val_size, num_classes, path,
                               streamed ? "hdf5 (read on demand)" : "hdf5");
  return s;
}

}  // namespace dtrain::data
