#pragma once
// PNG grids of images (autoencoder reconstructions, GAN samples) that read at a glance: each
// image scaled up by an integer factor (nearest neighbour, so pixels stay sharp squares), a
// thin gap between cells, a caption strip on top, optional labels left of each row and
// under each cell. Drawn on a Canvas (canvas.h: libpng, text through FreeType).
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace dtrain::render {

// An automatic scale makes a grid at least this wide (the "readable without zooming").
constexpr std::size_t kMinGridWidth = 600;
constexpr std::size_t kMaxAutoScale = 8;

struct ImageGrid {
  // `count` images of height x width x channels (1: gray, 3: RGB) floats in [0, 1]
  // (clamped), HWC, one after another; `columns` per row.
  std::span<const float> images;
  std::size_t count = 0, height = 0, width = 0, channels = 1, columns = 1;
  std::string title;                     // the caption strip (empty: none)
  std::vector<std::string> row_labels;   // one per row, left of it (empty: no label column)
  std::vector<std::string> cell_labels;  // one per image, under it (empty: none)
  int scale = 0;                         // pixels per image pixel; 0: automatic
};

// Where everything goes, in pixels of the PNG.
struct GridLayout {
  std::size_t scale = 1, gap = 0, margin = 0;
  std::size_t rows = 0, columns = 0;
  std::size_t title_height = 0, label_width = 0, cell_label_height = 0;
  std::size_t cell_width = 0, cell_height = 0;  // one scaled image
  std::size_t width = 0, height = 0;            // the whole picture
  std::size_t cell_x(std::size_t i) const;      // left edge of image i
  std::size_t cell_y(std::size_t i) const;      // top edge of image i
};

// The smallest integer scale that makes `columns` images of `width` at least kMinGridWidth
// wide, at most kMaxAutoScale, at least 1.
std::size_t auto_grid_scale(std::size_t columns, std::size_t width);
// Throws TrainingError when the grid is empty or its images do not fit `images`.
GridLayout layout_image_grid(const ImageGrid& grid);
// Throws TrainingError naming the file when it cannot be written.
void write_image_grid(const std::string& path, const ImageGrid& grid);

}  // namespace dtrain::render
