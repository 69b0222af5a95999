#include "data/csv_dataset.h"

#include <filesystem>
#include <optional>

#include "core/errors.h"
#include "data/array_dataset.h"
#include "data/csv.h"

namespace dtrain::data {
namespace {

namespace fs = std::filesystem;

Dataset to_dataset(CsvTable t) {
  Dataset ds;
  ds.height = 1;
  ds.width = static_cast<int>(t.feature_names.size());
  ds.channels = 1;
  ds.values = std::move(t.features);
  ds.labels = std::move(t.labels);
  return ds;
}

}  // namespace

bool is_csv_directory(const std::string& dir) {
  std::error_code ec;
  return fs::exists(fs::path(dir) / "train.csv", ec);
}

DataSplits load_csv_data(const std::string& path, std::size_t val_size, int num_classes,
                         const std::string& label_column) {
  std::error_code ec;
  const bool dir = fs::is_directory(path, ec);
  const fs::path train_path = dir ? fs::path(path) / "train.csv" : fs::path(path);
  const fs::path test_path = train_path.parent_path() / "test.csv";
  CsvTable train = read_csv(train_path.string(), label_column);
  std::optional<Dataset> test;
  if (train_path.filename() == "train.csv" && fs::exists(test_path, ec)) {
    CsvTable t = read_csv(test_path.string(), label_column);
    if (t.feature_names != train.feature_names || t.label_name != train.label_name) {
      throw DataError(test_path.string() + ": its columns differ from " + train_path.string() +
                      "'s (expected the same header)");
    }
    test = to_dataset(std::move(t));
  }
  return finish_splits(to_dataset(std::move(train)), std::move(test), val_size, num_classes, path,
                       "csv");
}

}  // namespace dtrain::data
