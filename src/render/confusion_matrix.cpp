#include "render/confusion_matrix.h"

#include <algorithm>
#include <numeric>

#include "core/errors.h"
#include "render/canvas.h"

namespace dtrain::render {

namespace {

constexpr Rgb kBackground{255, 255, 255};
constexpr Rgb kInk{25, 25, 25};
constexpr std::size_t kCell = 52, kMargin = 10;
constexpr int kTitlePixels = 16, kLabelPixels = 13;

// White for an empty cell to dark blue for a whole row, linear in the share.
Rgb shade(double share) {
  const auto mix = [share](int from, int to) {
    return static_cast<std::uint8_t>(from + (to - from) * std::clamp(share, 0.0, 1.0) + 0.5);
  };
  return {mix(255, 8), mix(255, 48), mix(255, 107)};
}

}  // namespace

std::int64_t ConfusionMatrix::total() const {
  return std::accumulate(counts.begin(), counts.end(), std::int64_t{0});
}

std::int64_t ConfusionMatrix::correct() const {
  std::int64_t sum = 0;
  for (std::size_t c = 0; c < classes; ++c) sum += at(c, c);
  return sum;
}

std::vector<std::string> class_names(const data::DataSplits& data, std::size_t classes) {
  static const char* const kFashion[] = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                         "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                         "Bag",         "Ankle boot"};
  const bool fashion = classes == 10 && data.description.rfind("fashion-mnist", 0) == 0;
  std::vector<std::string> names;
  for (std::size_t c = 0; c < classes; ++c) {
    names.push_back(fashion ? kFashion[c] : "class " + std::to_string(c));
  }
  return names;
}

// Layout: the title on top, then a "predicted" heading over the column numbers, then one
// row per true class: its number and name on the left, one square cell per predicted class.
void write_confusion_matrix(const std::string& path, const ConfusionMatrix& m,
                            const std::vector<std::string>& names, const std::string& title) {
  if (m.classes == 0 || m.counts.size() != m.classes * m.classes || names.size() != m.classes) {
    throw TrainingError(path + ": a confusion matrix needs one name and one row per class");
  }
  const Font title_font(kTitlePixels), font(kLabelPixels);
  std::vector<std::string> row_labels;
  int label_width = font.text_width("true class");
  for (std::size_t c = 0; c < m.classes; ++c) {
    row_labels.push_back(std::to_string(c) + "  " + names[c]);
    label_width = std::max(label_width, font.text_width(row_labels.back()));
  }
  const std::size_t line = static_cast<std::size_t>(font.line_height());
  const std::size_t title_h = static_cast<std::size_t>(title_font.line_height()) + 8;
  const std::size_t left = kMargin + static_cast<std::size_t>(label_width) + 10;
  const std::size_t top = kMargin + title_h + 2 * line + 4;
  const std::size_t width = left + m.classes * kCell + kMargin;
  const std::size_t height = top + m.classes * kCell + kMargin;
  Canvas canvas(width, height, kBackground);
  title_font.draw(canvas, kMargin, kMargin, title, kInk);
  font.draw_centered(canvas, static_cast<long>(left + m.classes * kCell / 2),
                     static_cast<long>(kMargin + title_h), "predicted class", kInk);
  font.draw(canvas, kMargin, static_cast<long>(top - line - 2), "true class", kInk);
  for (std::size_t c = 0; c < m.classes; ++c) {
    font.draw_centered(canvas, static_cast<long>(left + c * kCell + kCell / 2),
                       static_cast<long>(top - line - 2), std::to_string(c), kInk);
  }
  for (std::size_t t = 0; t < m.classes; ++t) {
    const long y = static_cast<long>(top + t * kCell);
    font.draw(canvas, kMargin, y + static_cast<long>(kCell - line) / 2, row_labels[t], kInk);
    std::int64_t row_total = 0;
    for (std::size_t p = 0; p < m.classes; ++p) row_total += m.at(t, p);
    for (std::size_t p = 0; p < m.classes; ++p) {
      const long x = static_cast<long>(left + p * kCell);
      const double share = row_total > 0 ? double(m.at(t, p)) / double(row_total) : 0.0;
      canvas.fill_rect(x, y, kCell, kCell, shade(share));
      // A hairline grid keeps empty cells apart.
      canvas.fill_rect(x, y, kCell, 1, {200, 200, 200});
      canvas.fill_rect(x, y, 1, kCell, {200, 200, 200});
      if (m.at(t, p) == 0) continue;
      const Rgb text = share > 0.5 ? Rgb{255, 255, 255} : kInk;
      font.draw_centered(canvas, x + static_cast<long>(kCell / 2),
                         y + static_cast<long>(kCell - line) / 2, std::to_string(m.at(t, p)), text,
                         static_cast<int>(kCell) - 2);
    }
  }
  canvas.save_png(path);
}

}  // namespace dtrain::render
