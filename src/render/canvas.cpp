#include "render/canvas.h"

#include <ft2build.h>
#include <png.h>
#include FT_FREETYPE_H

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/errors.h"

#ifndef DTRAIN_CAPTION_FONT
#define DTRAIN_CAPTION_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#endif

namespace dtrain::render {

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

Canvas::Canvas(std::size_t width, std::size_t height, Rgb background)
    : width_(width), height_(height), rgb_(width * height * 3) {
  for (std::size_t i = 0; i < width * height; ++i) {
    rgb_[3 * i] = background.r;
    rgb_[3 * i + 1] = background.g;
    rgb_[3 * i + 2] = background.b;
  }
}

void Canvas::fill_rect(long x, long y, long w, long h, Rgb color) {
  const long x0 = std::max(0L, x), y0 = std::max(0L, y);
  const long x1 = std::min<long>(static_cast<long>(width_), x + w);
  const long y1 = std::min<long>(static_cast<long>(height_), y + h);
  for (long yy = y0; yy < y1; ++yy) {
    for (long xx = x0; xx < x1; ++xx) {
      std::uint8_t* p = &rgb_[(static_cast<std::size_t>(yy) * width_ + xx) * 3];
      p[0] = color.r;
      p[1] = color.g;
      p[2] = color.b;
    }
  }
}

void Canvas::blend(long x, long y, Rgb color, std::uint8_t alpha) {
  if (x < 0 || y < 0 || x >= static_cast<long>(width_) || y >= static_cast<long>(height_)) return;
  std::uint8_t* p = &rgb_[(static_cast<std::size_t>(y) * width_ + x) * 3];
  const unsigned a = alpha, na = 255 - alpha;
  p[0] = static_cast<std::uint8_t>((color.r * a + p[0] * na + 127) / 255);
  p[1] = static_cast<std::uint8_t>((color.g * a + p[1] * na + 127) / 255);
  p[2] = static_cast<std::uint8_t>((color.b * a + p[2] * na + 127) / 255);
}

Rgb Canvas::at(std::size_t x, std::size_t y) const {
  const std::uint8_t* p = &rgb_[(y * width_ + x) * 3];
  return {p[0], p[1], p[2]};
}

void Canvas::save_png(const std::string& path) const {
  if (width_ == 0 || height_ == 0) throw TrainingError(path + ": an empty picture");
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "wb"));
  if (!file) throw TrainingError(path + ": cannot write the image: " + std::strerror(errno));
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info) {
    png_destroy_write_struct(&png, &info);
    throw TrainingError(path + ": libpng could not start a write");
  }
  // libpng reports errors by longjmp; nothing with a destructor is created below this.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw TrainingError(path + ": libpng failed to write the image (disk full?)");
  }
  png_init_io(png, file.get());
  png_set_IHDR(png, info, static_cast<png_uint_32>(width_), static_cast<png_uint_32>(height_), 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (std::size_t y = 0; y < height_; ++y) {
    png_write_row(png, const_cast<png_bytep>(&rgb_[y * width_ * 3]));
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  if (std::fflush(file.get()) != 0) {
    throw TrainingError(path + ": cannot write the image: " + std::strerror(errno));
  }
}

std::string caption_font_path() {
  const char* env = std::getenv("DTRAIN_FONT");
  return env && *env ? env : DTRAIN_CAPTION_FONT;
}

struct Font::Face {
  FT_Library library = nullptr;
  FT_Face face = nullptr;
  ~Face() {
    if (face) FT_Done_Face(face);
    if (library) FT_Done_FreeType(library);
  }
};

Font::Font(int pixel_size, const std::string& path) : face_(std::make_unique<Face>()) {
  if (FT_Init_FreeType(&face_->library) != 0) {
    throw TrainingError("FreeType could not start (captions of --output-dir images)");
  }
  if (FT_New_Face(face_->library, path.c_str(), 0, &face_->face) != 0) {
    throw TrainingError("cannot load the caption font " + path +
                        " (install fonts-dejavu-core, or set DTRAIN_FONT to a TrueType file)");
  }
  if (FT_Set_Pixel_Sizes(face_->face, 0, static_cast<FT_UInt>(std::max(1, pixel_size))) != 0) {
    throw TrainingError(path + ": the font cannot be scaled to " + std::to_string(pixel_size) +
                        " px");
  }
}

Font::~Font() = default;

namespace {

FT_ULong char_code(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 32 && u < 127 ? u : '?';
}

}  // namespace

int Font::text_width(std::string_view text) const {
  long width = 0;
  for (char c : text) {
    if (FT_Load_Char(face_->face, char_code(c), FT_LOAD_DEFAULT) != 0) continue;
    width += face_->face->glyph->advance.x >> 6;  // 26.6 fixed point
  }
  return static_cast<int>(width);
}

int Font::line_height() const {
  return static_cast<int>(face_->face->size->metrics.height >> 6);
}

int Font::ascender() const {
  return static_cast<int>(face_->face->size->metrics.ascender >> 6);
}

void Font::draw(Canvas& canvas, long x, long top, std::string_view text, Rgb color) const {
  const long baseline = top + ascender();
  for (char c : text) {
    if (FT_Load_Char(face_->face, char_code(c), FT_LOAD_RENDER) != 0) continue;
    const FT_GlyphSlot g = face_->face->glyph;
    const FT_Bitmap& bm = g->bitmap;
    // The coverage map: one byte per pixel, 0 = background, 255 = full ink.
    for (unsigned row = 0; row < bm.rows; ++row) {
      const unsigned char* line = bm.buffer + static_cast<long>(row) * bm.pitch;
      for (unsigned col = 0; col < bm.width; ++col) {
        if (line[col] == 0) continue;
        canvas.blend(x + g->bitmap_left + col, baseline - g->bitmap_top + row, color, line[col]);
      }
    }
    x += g->advance.x >> 6;
  }
}

void Font::draw_centered(Canvas& canvas, long center_x, long top, std::string_view text, Rgb color,
                         int max_width) const {
  std::string shown(text);
  if (max_width > 0 && text_width(shown) > max_width) {
    while (!shown.empty() && text_width(shown + "..") > max_width) shown.pop_back();
    shown += "..";
  }
  draw(canvas, center_x - text_width(shown) / 2, top, shown, color);
}

}  // namespace dtrain::render
