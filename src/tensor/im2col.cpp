#include "tensor/im2col.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "tensor/parallel.h"

namespace dtrain::tensor {

namespace {

// No padding: every kernel row lies inside the image, kL = kernel * channels contiguous
// floats in NHWC. With kL a constant each copy is a few moves (the general loop below
// spent more on its per-row branches and loop set-up than on the copy: 8.5% of a cnn
// training run in perf, for 3 floats a row).
template <int kL>
void im2col_unpadded(const ConvGeometry& g, const float* img, float* out) {
  for (int oh = 0; oh < g.out_height(); ++oh) {
    for (int ow = 0; ow < g.out_width(); ++ow) {
      for (int kh = 0; kh < g.kernel; ++kh, out += kL) {
        const float* src =
            img +
            (static_cast<std::size_t>(oh * g.stride + kh) * g.width + ow * g.stride) * g.channels;
        for (int i = 0; i < kL; ++i) out[i] = src[i];
      }
    }
  }
}

constexpr int kMaxUnpaddedRow = 16;

// Calls im2col_unpadded<row_len>; false when row_len is larger than the instantiated ones.
bool im2col_unpadded_row(int row_len, const ConvGeometry& g, const float* img, float* out) {
  return [&]<int... Ls>(std::integer_sequence<int, Ls...>) {
    return ((row_len == Ls + 1 ? (im2col_unpadded<Ls + 1>(g, img, out), true) : false) || ...);
  }
  (std::make_integer_sequence<int, kMaxUnpaddedRow>{});
}

}  // namespace

void im2col(const ConvGeometry& g, int batch, const float* input, float* cols) {
  const int oh_n = g.out_height(), ow_n = g.out_width();
  const std::size_t row_len = static_cast<std::size_t>(g.kernel) * g.channels;
  const std::size_t image = static_cast<std::size_t>(g.height) * g.width * g.channels;
  const std::size_t sample_cols = static_cast<std::size_t>(g.patches()) * g.patch_size();
  // Samples are independent: the pool's threads take whole samples.
  const int chunks = std::min(batch, 4 * pool_threads());
  parallel_for(chunks, [=, &g](int chunk) {
    const auto samples = chunk_range(batch, chunks, chunk);
    for (int b = static_cast<int>(samples.begin); b < samples.end; ++b) {
      const float* img = input + b * image;
      float* out = cols + b * sample_cols;
      if (g.padding == 0 && im2col_unpadded_row(static_cast<int>(row_len), g, img, out)) continue;
      for (int oh = 0; oh < oh_n; ++oh) {
        for (int ow = 0; ow < ow_n; ++ow) {
          const int w0 = ow * g.stride - g.padding;
          for (int kh = 0; kh < g.kernel; ++kh) {
            const int h = oh * g.stride - g.padding + kh;
            if (h < 0 || h >= g.height) {
              std::fill_n(out, row_len, 0.0f);
            } else if (w0 >= 0 && w0 + g.kernel <= g.width) {
              // The common case: the kernel row lies inside the image and is contiguous in NHWC.
              // A plain loop beats a memcpy call for the few floats of a 1-channel input.
              const float* src = img + (static_cast<std::size_t>(h) * g.width + w0) * g.channels;
              for (std::size_t i = 0; i < row_len; ++i) out[i] = src[i];
            } else {
              for (int kw = 0; kw < g.kernel; ++kw) {
                const int w = w0 + kw;
                float* dst = out + static_cast<std::size_t>(kw) * g.channels;
                if (w < 0 || w >= g.width) {
                  std::fill_n(dst, g.channels, 0.0f);
                } else {
                  std::memcpy(dst, img + (static_cast<std::size_t>(h) * g.width + w) * g.channels,
                              g.channels * sizeof(float));
                }
              }
            }
            out += row_len;
          }
        }
      }
    }
  });
}

void col2im(const ConvGeometry& g, int batch, const float* cols, float* input_grad) {
  const int oh_n = g.out_height(), ow_n = g.out_width();
  const std::size_t image = static_cast<std::size_t>(g.height) * g.width * g.channels;
  std::fill_n(input_grad, image * batch, 0.0f);
  const float* in = cols;
  for (int b = 0; b < batch; ++b) {
    float* img = input_grad + b * image;
    for (int oh = 0; oh < oh_n; ++oh) {
      for (int ow = 0; ow < ow_n; ++ow) {
        for (int kh = 0; kh < g.kernel; ++kh) {
          const int h = oh * g.stride - g.padding + kh;
          for (int kw = 0; kw < g.kernel; ++kw) {
            const int w = ow * g.stride - g.padding + kw;
            if (h >= 0 && h < g.height && w >= 0 && w < g.width) {
              float* dst = img + (static_cast<std::size_t>(h) * g.width + w) * g.channels;
              for (int c = 0; c < g.channels; ++c) dst[c] += in[c];
            }
            in += g.channels;
          }
        }
      }
    }
  }
}

}  // namespace dtrain::tensor
