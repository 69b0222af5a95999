// im2col against the definition (cols[row][(kh * kernel + kw) * channels + c] = the input
// under that kernel position, zero in the padding) for padded and unpadded geometries: the
// unpadded ones take the fast path of a constant row length (<= 16 floats) or the general
// loop (longer rows).
#include <gtest/gtest.h>

#include <vector>

#include "core/rng.h"
#include "tensor/im2col.h"

namespace dtrain::tensor {
namespace {

std::vector<float> reference_im2col(const ConvGeometry& g, int batch, const std::vector<float>& x) {
  std::vector<float> cols;
  for (int b = 0; b < batch; ++b) {
    for (int oh = 0; oh < g.out_height(); ++oh) {
      for (int ow = 0; ow < g.out_width(); ++ow) {
        for (int kh = 0; kh < g.kernel; ++kh) {
          for (int kw = 0; kw < g.kernel; ++kw) {
            for (int c = 0; c < g.channels; ++c) {
              const int h = oh * g.stride - g.padding + kh, w = ow * g.stride - g.padding + kw;
              const bool inside = h >= 0 && h < g.height && w >= 0 && w < g.width;
              cols.push_back(
                  inside ? x[((std::size_t(b) * g.height + h) * g.width + w) * g.channels + c]
                         : 0.0f);
            }
          }
        }
      }
    }
  }
  return cols;
}

TEST(Im2col, MatchesTheDefinitionPaddedOrNot) {
  Rng rng(3);
  for (int kernel : {1, 2, 3, 5}) {
    for (int channels : {1, 2, 3, 4}) {
      for (int stride : {1, 2}) {
        for (int padding : {0, 1}) {
          ConvGeometry g{.height = 7,
                         .width = 6,
                         .channels = channels,
                         .kernel = kernel,
                         .stride = stride,
                         .padding = padding};
          const int batch = 3;
          std::vector<float> x(std::size_t(batch) * 7 * 6 * channels);
          for (auto& v : x) v = rng.uniform(-1.0f, 1.0f);
          std::vector<float> cols(std::size_t(batch) * g.patches() * g.patch_size(), -9.0f);
          im2col(g, batch, x.data(), cols.data());
          EXPECT_EQ(cols, reference_im2col(g, batch, x))
              << "kernel " << kernel << " channels " << channels << " stride " << stride
              << " padding " << padding;
        }
      }
    }
  }
}

}  // namespace
}  // namespace dtrain::tensor
