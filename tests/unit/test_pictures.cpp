// The pictures of --output-dir: image grids (scale, gaps, captions) and the confusion
// matrix, read back with libpng so the test sees what a viewer shows.
#include <gtest/gtest.h>
#include <png.h>

#include <cstdio>
#include <memory>

#include "comm/self_communicator.h"
#include "core/errors.h"
#include "nn/model_config.h"
#include "render/canvas.h"
#include "render/confusion_matrix.h"
#include "render/image_grid.h"
#include "testing/run_command.h"
#include "testing/small_problem.h"
#include "train/task.h"

namespace dtrain::render {
namespace {

struct Png {
  std::size_t width = 0, height = 0;
  std::vector<std::uint8_t> rgb;
  Rgb at(std::size_t x, std::size_t y) const {
    const auto* p = &rgb[(y * width + x) * 3];
    return {p[0], p[1], p[2]};
  }
};

Png read_png(const std::string& path) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str())) {
    ADD_FAILURE() << path << ": " << image.message;
    return {};
  }
  image.format = PNG_FORMAT_RGB;
  Png png;
  png.width = image.width;
  png.height = image.height;
  png.rgb.resize(PNG_IMAGE_SIZE(image));
  EXPECT_TRUE(png_image_finish_read(&image, nullptr, png.rgb.data(), 0, nullptr)) << path;
  return png;
}

// count images of 4x3 gray pixels; image i's pixel (y, x) is (i*12 + y*3 + x) / 255.
std::vector<float> ramp_images(std::size_t count) {
  std::vector<float> v(count * 12);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 256) / 255.0f;
  return v;
}

TEST(ImageGrid, AutomaticScaleMakesTheGridAtLeast600PixelsWide) {
  EXPECT_EQ(auto_grid_scale(10, 28), 3u);  // 280 px -> 840 px
  EXPECT_EQ(auto_grid_scale(10, 60), 1u);  // already 600
  EXPECT_EQ(auto_grid_scale(10, 59), 2u);
  EXPECT_EQ(auto_grid_scale(1, 28), kMaxAutoScale);  // one image: capped
  EXPECT_EQ(auto_grid_scale(100, 28), 1u);
}

TEST(ImageGrid, PngSizeFollowsTheScaleTheGridAndTheCaptions) {
  const auto dir = testing::make_temp_dir("grid");
  const auto images = ramp_images(7);
  for (int scale : {1, 2, 5}) {
    ImageGrid g{
        .images = images, .count = 7, .height = 4, .width = 3, .columns = 3, .scale = scale};
    const auto plain = layout_image_grid(g);
    EXPECT_EQ(plain.rows, 3u);
    EXPECT_EQ(plain.columns, 3u);
    EXPECT_EQ(plain.gap, std::max<std::size_t>(2, scale));
    EXPECT_EQ(plain.width, 2 * plain.margin + 3 * 3 * scale + 2 * plain.gap);
    EXPECT_EQ(plain.height, 2 * plain.margin + 3 * 4 * scale + 2 * plain.gap);
    g.title = "epoch 1";
    g.row_labels = {"input", "output", "third"};
    g.cell_labels = {"a", "b", "c", "d", "e", "f", "g"};
    const auto l = layout_image_grid(g);
    EXPECT_GT(l.title_height, 10u);
    EXPECT_GT(l.label_width, 20u);  // "output" in the label font
    EXPECT_GT(l.cell_label_height, 8u);
    EXPECT_EQ(l.width, plain.width + l.label_width);
    EXPECT_EQ(l.height, plain.height + l.title_height + 3 * l.cell_label_height);
    const auto path = dir + "/g" + std::to_string(scale) + ".png";
    write_image_grid(path, g);
    const auto png = read_png(path);
    ASSERT_EQ(png.width, l.width);
    ASSERT_EQ(png.height, l.height);
    // Nearest neighbour: every screen pixel of an image pixel's block has its value.
    for (std::size_t i = 0; i < 7; ++i) {
      for (std::size_t y = 0; y < 4 * l.scale; ++y) {
        for (std::size_t x = 0; x < 3 * l.scale; ++x) {
          const auto v = static_cast<std::uint8_t>((i * 12 + (y / l.scale) * 3 + x / l.scale));
          const Rgb p = png.at(l.cell_x(i) + x, l.cell_y(i) + y);
          ASSERT_EQ(p.r, v) << "image " << i << " at " << x << "," << y << " scale " << scale;
          ASSERT_EQ(p.g, v);
        }
      }
    }
    // The gap right of the first cell is background, not image.
    const Rgb gap = png.at(l.cell_x(0) + l.cell_width, l.cell_y(0));
    EXPECT_EQ(gap.r, 255);
    // The caption strip has ink (text was drawn).
    std::size_t ink = 0;
    for (std::size_t y = 0; y < l.margin + l.title_height; ++y) {
      for (std::size_t x = 0; x < png.width; ++x) ink += png.at(x, y).r < 128;
    }
    EXPECT_GT(ink, 20u) << "no caption text";
  }
}

TEST(ImageGrid, BadGridsAreErrorsNamingTheFile) {
  const auto images = ramp_images(2);
  const ImageGrid none{.images = images, .count = 0, .height = 4, .width = 3};
  EXPECT_THROW(layout_image_grid(none), TrainingError);
  const ImageGrid too_few{.images = images, .count = 3, .height = 4, .width = 3, .columns = 3};
  try {
    write_image_grid("/tmp/x.png", too_few);
    FAIL();
  } catch (const TrainingError& e) {
    EXPECT_NE(std::string(e.what()).find("/tmp/x.png"), std::string::npos) << e.what();
  }
  const ImageGrid labels{
      .images = images, .count = 2, .height = 4, .width = 3, .cell_labels = {"one"}};
  EXPECT_THROW(layout_image_grid(labels), TrainingError);
  const auto dir = testing::make_temp_dir("grid_bad");
  const ImageGrid ok{.images = images, .count = 2, .height = 4, .width = 3, .columns = 2};
  EXPECT_THROW(write_image_grid(dir + "/no/such/dir.png", ok), TrainingError);
}

TEST(Font, AMissingFontFileIsAnErrorNamingItAndItsPackage) {
  try {
    Font f(12, "/nonexistent/font.ttf");
    FAIL();
  } catch (const TrainingError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("/nonexistent/font.ttf"), std::string::npos) << what;
    EXPECT_NE(what.find("fonts-dejavu-core"), std::string::npos) << what;
  }
  const Font f(14);
  EXPECT_GT(f.text_width("Ankle boot"), f.text_width("Bag"));
  EXPECT_GT(f.line_height(), 10);
}

TEST(ConfusionMatrix, EvaluationCountsSumToTheSetSizeAndTheDiagonalIsTheAccuracy) {
  auto model = nn::build_model(testing::small_cnn());
  model->init_params(3);
  comm::SelfCommunicator self;
  const auto& test = testing::small_splits().test;
  const auto r = train::evaluate(*model, test, self, 7);
  ASSERT_EQ(r.confusion.classes, 10u);
  EXPECT_EQ(r.confusion.total(), static_cast<std::int64_t>(test.size()));
  EXPECT_EQ(r.confusion.correct(),
            static_cast<std::int64_t>(r.accuracy * static_cast<double>(r.count) + 0.5));
  // Each row holds that class's examples.
  for (std::size_t t = 0; t < 10; ++t) {
    std::int64_t row = 0, expected = 0;
    for (std::size_t p = 0; p < 10; ++p) row += r.confusion.at(t, p);
    for (auto label : test.labels) expected += label == static_cast<std::int32_t>(t);
    EXPECT_EQ(row, expected) << "class " << t;
  }
}

TEST(ConfusionMatrix, PictureHasOneCellPerClassPairShadedByItsShare) {
  ConfusionMatrix m(3);
  m.counts = {8, 2, 0, 0, 10, 0, 5, 0, 5};
  EXPECT_EQ(m.total(), 30);
  EXPECT_EQ(m.correct(), 23);
  const auto dir = testing::make_temp_dir("confusion");
  write_confusion_matrix(dir + "/c.png", m, {"zero", "one", "two"}, "test set");
  const auto png = read_png(dir + "/c.png");
  ASSERT_GT(png.width, 3 * 52u);
  ASSERT_GT(png.height, 3 * 52u);
  // The bottom-right cell (10 px margin) is the 5/10 share, the one left of it is empty.
  const Rgb half = png.at(png.width - 10 - 52 + 4, png.height - 10 - 4);
  const Rgb empty = png.at(png.width - 10 - 2 * 52 + 4, png.height - 10 - 4);
  EXPECT_EQ(empty.r, 255);
  EXPECT_LT(half.r, 160);
  EXPECT_GT(half.r, 100);
  EXPECT_THROW(write_confusion_matrix(dir + "/d.png", m, {"zero"}, "t"), TrainingError);
}

TEST(ConfusionMatrix, FashionMnistClassesHaveTheirNames) {
  data::DataSplits d;
  d.description = "fashion-mnist at /usr/share/datasets/fashion-mnist";
  EXPECT_EQ(class_names(d, 10)[9], "Ankle boot");
  d.description = "synthetic (seed 0)";
  EXPECT_EQ(class_names(d, 10)[9], "class 9");
}

}  // namespace
}  // namespace dtrain::render
