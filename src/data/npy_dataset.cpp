#include "data/npy_dataset.h"

#include <filesystem>
#include <optional>

#include "core/errors.h"
#include "data/array_dataset.h"
#include "data/npz.h"

namespace dtrain::data {
namespace {

namespace fs = std::filesystem;

bool file_exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

// x.npy [+ y.npy] as one Dataset; y is optional.
Dataset load_pair(const fs::path& x_path, const fs::path& y_path) {
  NpyArray x = read_npy(x_path.string());
  if (!file_exists(y_path)) return dataset_from_arrays(std::move(x), nullptr, x_path.string(), "");
  const NpyArray y = read_npy(y_path.string());
  return dataset_from_arrays(std::move(x), &y, x_path.string(), y_path.string());
}

fs::path labels_beside(const fs::path& x_path) {
  std::string name = x_path.filename().string();
  const auto at = name.rfind('x');
  if (at == std::string::npos) return {};
  name[at] = 'y';
  return x_path.parent_path() / name;
}

DataSplits load_npz_data(const std::string& path, std::size_t val_size, int num_classes) {
  auto arrays = read_npz(path);
  const auto member = [&](const std::string& name) { return path + " array '" + name + "'"; };
  const auto take = [&](const std::string& x, const std::string& y) {
    const auto yi = arrays.find(y);
    const NpyArray* labels = yi == arrays.end() ? nullptr : &yi->second;
    return dataset_from_arrays(std::move(arrays.at(x)), labels, member(x), member(y));
  };
  std::optional<Dataset> test;
  Dataset train;
  if (arrays.contains("train_x")) {
    train = take("train_x", "train_y");
    if (arrays.contains("test_x")) test = take("test_x", "test_y");
  } else if (arrays.contains("x")) {
    train = take("x", "y");
  } else {
    std::string names;
    for (const auto& [name, a] : arrays) names += (names.empty() ? "" : ", ") + name;
    throw DataError(path +
                    ": no array named train_x or x (expected train_x [train_y] [test_x "
                    "test_y], or x [y]; the archive holds: " +
                    (names.empty() ? std::string("nothing") : names) + ")");
  }
  return finish_splits(std::move(train), std::move(test), val_size, num_classes, path, "npz");
}

}  // namespace

bool is_npy_directory(const std::string& dir) {
  return file_exists(fs::path(dir) / "train_x.npy");
}

DataSplits load_npy_data(const std::string& path, std::size_t val_size, int num_classes) {
  if (path.ends_with(".npz")) return load_npz_data(path, val_size, num_classes);
  std::error_code ec;
  fs::path x_path, y_path, dir;
  if (fs::is_directory(path, ec)) {
    dir = path;
    x_path = dir / "train_x.npy";
    y_path = dir / "train_y.npy";
  } else {
    x_path = path;
    y_path = labels_beside(x_path);
    dir = x_path.parent_path();
  }
  Dataset train = load_pair(x_path, y_path);
  std::optional<Dataset> test;
  if (x_path.filename() == "train_x.npy" && file_exists(dir / "test_x.npy")) {
    test = load_pair(dir / "test_x.npy", dir / "test_y.npy");
  }
  return finish_splits(std::move(train), std::move(test), val_size, num_classes, path, "npy");
}

}  // namespace dtrain::data
