#pragma once
// A classifier's confusion matrix: how many examples of each true class were predicted as
// each class, and its picture (rows: true class, columns: predicted class, each cell shaded
// by the share of its row and showing its count).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace dtrain::render {

struct ConfusionMatrix {
  std::size_t classes = 0;
  std::vector<std::int64_t> counts;  // classes x classes, [true * classes + predicted]

  explicit ConfusionMatrix(std::size_t num_classes = 0)
      : classes(num_classes), counts(num_classes * num_classes, 0) {}
  std::int64_t at(std::size_t true_class, std::size_t predicted) const {
    return counts[true_class * classes + predicted];
  }
  std::int64_t total() const;
  std::int64_t correct() const;
};

// Names for the classes of `data`: Fashion-MNIST's ten when that is the data set, else
// "class 0", "class 1", ...
std::vector<std::string> class_names(const data::DataSplits& data, std::size_t classes);

// The picture; `names` has one entry per class. Throws TrainingError naming the file.
void write_confusion_matrix(const std::string& path, const ConfusionMatrix& m,
                            const std::vector<std::string>& names, const std::string& title);

}  // namespace dtrain::render
