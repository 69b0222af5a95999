#include "render/image_grid.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"
#include "render/canvas.h"

namespace dtrain::render {

namespace {

constexpr Rgb kBackground{255, 255, 255};
constexpr Rgb kInk{25, 25, 25};
constexpr std::size_t kMargin = 8;
constexpr int kTitlePixels = 16;

// Labels under small cells get a smaller font, so "Ankle boot" fits under an 84 px cell.
int label_pixels(std::size_t cell_width) {
  return static_cast<int>(std::clamp<std::size_t>(cell_width / 6, 10, 14));
}

void check(const ImageGrid& g) {
  if (g.count == 0 || g.columns == 0 || g.height == 0 || g.width == 0 ||
      (g.channels != 1 && g.channels != 3) ||
      g.images.size() < g.count * g.height * g.width * g.channels) {
    throw TrainingError("an image grid without images, or with a layout a PNG cannot hold");
  }
  if (g.scale < 0 || g.scale > 64) {
    throw TrainingError("image scale " + std::to_string(g.scale) + " is outside [0, 64]");
  }
  if (!g.cell_labels.empty() && g.cell_labels.size() != g.count) {
    throw TrainingError("an image grid needs one cell label per image");
  }
}

}  // namespace

std::size_t GridLayout::cell_x(std::size_t i) const {
  return margin + label_width + (i % columns) * (cell_width + gap);
}

std::size_t GridLayout::cell_y(std::size_t i) const {
  return margin + title_height + (i / columns) * (cell_height + cell_label_height + gap);
}

std::size_t auto_grid_scale(std::size_t columns, std::size_t width) {
  const std::size_t row = std::max<std::size_t>(1, columns * width);
  return std::clamp<std::size_t>((kMinGridWidth + row - 1) / row, 1, kMaxAutoScale);
}

GridLayout layout_image_grid(const ImageGrid& g) {
  check(g);
  GridLayout l;
  l.columns = std::min(g.columns, g.count);
  l.rows = (g.count + l.columns - 1) / l.columns;
  l.scale = g.scale > 0 ? static_cast<std::size_t>(g.scale) : auto_grid_scale(l.columns, g.width);
  // A gap one image pixel wide separates cells without looking like a frame; two screen
  // pixels at least, so it still shows at scale 1.
  l.gap = std::max<std::size_t>(2, l.scale);
  l.margin = kMargin;
  l.cell_width = g.width * l.scale;
  l.cell_height = g.height * l.scale;
  if (!g.title.empty()) l.title_height = Font(kTitlePixels).line_height() + 6;
  const Font label_font(label_pixels(l.cell_width));
  for (const auto& label : g.row_labels) {
    l.label_width = std::max<std::size_t>(l.label_width, label_font.text_width(label) + 10);
  }
  if (!g.cell_labels.empty()) l.cell_label_height = label_font.line_height() + 2;
  l.width = 2 * l.margin + l.label_width + l.columns * l.cell_width + (l.columns - 1) * l.gap;
  l.height = 2 * l.margin + l.title_height + l.rows * (l.cell_height + l.cell_label_height) +
             (l.rows - 1) * l.gap;
  return l;
}

void write_image_grid(const std::string& path, const ImageGrid& g) {
  GridLayout l;
  try {
    l = layout_image_grid(g);
  } catch (const TrainingError& e) {
    throw TrainingError(path + ": " + e.what());
  }
  Canvas canvas(l.width, l.height, kBackground);
  const std::size_t image_size = g.height * g.width * g.channels;
  for (std::size_t i = 0; i < g.count; ++i) {
    const float* img = g.images.data() + i * image_size;
    const long left = static_cast<long>(l.cell_x(i)), top = static_cast<long>(l.cell_y(i));
    const auto s = static_cast<long>(l.scale);
    for (std::size_t y = 0; y < g.height; ++y) {
      for (std::size_t x = 0; x < g.width; ++x) {
        const float* p = img + (y * g.width + x) * g.channels;
        auto byte = [](float v) {
          return static_cast<std::uint8_t>(std::clamp(v, 0.0f, 1.0f) * 255.0f + 0.5f);
        };
        const Rgb c = g.channels == 1 ? Rgb{byte(p[0]), byte(p[0]), byte(p[0])}
                                      : Rgb{byte(p[0]), byte(p[1]), byte(p[2])};
        canvas.fill_rect(left + static_cast<long>(x) * s, top + static_cast<long>(y) * s, s, s, c);
      }
    }
  }
  if (!g.title.empty()) {
    Font(kTitlePixels)
        .draw(canvas, static_cast<long>(l.margin), static_cast<long>(l.margin) + 2, g.title, kInk);
  }
  if (!g.row_labels.empty() || !g.cell_labels.empty()) {
    const Font font(label_pixels(l.cell_width));
    for (std::size_t r = 0; r < std::min(l.rows, g.row_labels.size()); ++r) {
      const long middle = static_cast<long>(l.cell_y(r * l.columns) + l.cell_height / 2);
      font.draw(canvas, static_cast<long>(l.margin), middle - font.line_height() / 2,
                g.row_labels[r], kInk);
    }
    for (std::size_t i = 0; i < g.cell_labels.size(); ++i) {
      font.draw_centered(canvas, static_cast<long>(l.cell_x(i) + l.cell_width / 2),
                         static_cast<long>(l.cell_y(i) + l.cell_height) + 1, g.cell_labels[i], kInk,
                         static_cast<int>(l.cell_width + l.gap));
    }
  }
  canvas.save_png(path);
}

}  // namespace dtrain::render
