#pragma once
// CSV data sets for --data: FILE.csv (a train.csv takes test.csv beside it as its test
// split), or DIR holding train.csv [test.csv]. Each row is one example of shape 1xDx1
// (D = the feature columns); the label column is chosen by --label-column.
#include <cstddef>
#include <string>

#include "data/dataset.h"

namespace dtrain::data {

DataSplits load_csv_data(const std::string& path, std::size_t val_size, int num_classes,
                         const std::string& label_column);
bool is_csv_directory(const std::string& dir);

}  // namespace dtrain::data
