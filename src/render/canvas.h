#pragma once
// An 8-bit RGB picture that rank 0 draws images, shades and captions into, then saves as a
// PNG. Only canvas.cpp includes <png.h> and FreeType's headers.
//
// Text goes through FreeType (Debian's libfreetype6) with DejaVu Sans (fonts-dejavu-core):
// FreeType rasterizes one anti-aliased glyph at a time into a byte coverage map that we
// blend into our own pixels, so the PNG encoder stays libpng and nothing else is pulled in.
// cairo or libgd would bring their own image surfaces, encoders and X/fontconfig
// dependencies for what is here a handful of labels; a bitmap font package would give
// fixed sizes that look jagged next to images scaled by 3 or 4.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dtrain::render {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};

class Canvas {
 public:
  Canvas(std::size_t width, std::size_t height, Rgb background);
  std::size_t width() const { return width_; }
  std::size_t height() const { return height_; }
  // Pixels outside the canvas are ignored (rectangles and text are clipped).
  void fill_rect(long x, long y, long w, long h, Rgb color);
  // Mixes `color` over the pixel with weight alpha/255 (text edges).
  void blend(long x, long y, Rgb color, std::uint8_t alpha);
  Rgb at(std::size_t x, std::size_t y) const;
  // Throws TrainingError naming the file when it cannot be written.
  void save_png(const std::string& path) const;

 private:
  std::size_t width_, height_;
  std::vector<std::uint8_t> rgb_;
};

// The font file the captions use: $DTRAIN_FONT when set, else DejaVu Sans where
// fonts-dejavu-core installs it (found at configure time).
std::string caption_font_path();

// A TrueType face at one pixel size (the height of a line of text).
class Font {
 public:
  // Throws TrainingError naming the font file and the package that provides it.
  explicit Font(int pixel_size, const std::string& path = caption_font_path());
  ~Font();
  Font(const Font&) = delete;
  Font& operator=(const Font&) = delete;
  // Horizontal extent of `text` in pixels (ASCII; other bytes are drawn as '?').
  int text_width(std::string_view text) const;
  // Distance from one baseline to the next.
  int line_height() const;
  int ascender() const;
  // Draws `text` with its top-left corner at (x, top).
  void draw(Canvas& canvas, long x, long top, std::string_view text, Rgb color) const;
  // Centred on x, top at `top`; shortened with ".." when wider than max_width (if > 0).
  void draw_centered(Canvas& canvas, long center_x, long top, std::string_view text, Rgb color,
                     int max_width = 0) const;

 private:
  struct Face;
  std::unique_ptr<Face> face_;
};

}  // namespace dtrain::render
