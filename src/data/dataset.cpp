#include "data/dataset.h"

#include <stdexcept>

namespace dtrain::data {
namespace {

template <typename T>
std::vector<T> cut_tail(std::vector<T>& v, std::size_t keep) {
  std::vector<T> tail(v.begin() + static_cast<std::ptrdiff_t>(keep), v.end());
  // No shrink_to_fit: it copies the kept part to a new buffer, holding it twice at the
  // peak (+43 MiB for Fashion-MNIST's training set), to give back only the tail's size.
  v.resize(keep);
  return tail;
}

}  // namespace

Dataset split_tail(Dataset& from, std::size_t n) {
  if (n > from.size()) {
    throw std::out_of_range("split_tail: " + std::to_string(n) + " of " +
                            std::to_string(from.size()) + " examples");
  }
  Dataset tail;
  tail.height = from.height;
  tail.width = from.width;
  tail.channels = from.channels;
  tail.num_classes = from.num_classes;
  const std::size_t keep = from.size() - n;
  if (from.source) {
    tail.source = from.source;
    tail.first_row = from.first_row + keep;
    tail.rows = n;
    from.rows = keep;
  } else if (!from.values.empty()) {
    tail.values = cut_tail(from.values, keep * from.sample_size());
  } else {
    tail.pixels = cut_tail(from.pixels, keep * from.sample_size());
  }
  if (!from.labels.empty()) tail.labels = cut_tail(from.labels, keep);
  return tail;
}

}  // namespace dtrain::data
