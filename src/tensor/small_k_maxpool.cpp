#include "tensor/small_k_maxpool.h"

#include "tensor/small_k_rows.h"

namespace dtrain::tensor {

using namespace small_k_detail;

namespace {

// Row `row` and, when two, the next one of C into buf (rows of n floats), columns [j0, n).
void tail_rows(int row, int count, int n, int k, int j0, const float* a, const float* bt,
               const float* bias, float* buf) {
  for (int r = 0; r < count; ++r) forward_tail(row + r, n, k, j0, a, bt, bias, buf + r * n);
}

// A window's running first maximum for one block of kColBlock columns, in registers.
struct BlockMax {
  Vec best[kColVecs] = {};
  IVec where[kColVecs] = {};
  void take(const Vec (&row)[kColVecs], std::uint32_t offset, bool first) {
    for (int q = 0; q < kColVecs; ++q) {
      IVec at;
      for (int l = 0; l < kLanes; ++l) at[l] = static_cast<std::int32_t>(offset + q * kLanes + l);
      if (first) {
        best[q] = row[q];
        where[q] = at;
        continue;
      }
      const IVec larger = row[q] > best[q];  // strictly greater keeps the first maximum
      best[q] = larger ? row[q] : best[q];
      where[q] = larger ? at : where[q];
    }
  }
  void store_to(float* out, std::uint32_t* arg, bool relu) const {
    for (int q = 0; q < kColVecs; ++q) {
      const Vec v = relu ? (best[q] > Vec{} ? best[q] : Vec{}) : best[q];
      store(out + q * kLanes, v);
      std::memcpy(arg + q * kLanes, &where[q], sizeof where[q]);
    }
  }
};

}  // namespace

void small_k_forward_maxpool(const SmallKPoolGrid& grid, int n, int k, const float* a,
                             const float* b, const float* bias, bool relu, float* pooled,
                             std::uint32_t* argmax) {
  check_shape(n, k, "small_k_forward_maxpool");
  float bt_storage[kSmallK * kMaxN];
  transpose_b(n, k, b, bt_storage);
  const float* bt = bt_storage;
  const int p = grid.window;
  const auto cols = static_cast<std::size_t>(n);
  const int whole = n - n % kColBlock;
  const std::size_t pooled_sample = std::size_t(grid.out_height()) * grid.out_width() * cols;
  // Samples are independent: any cut gives the same bits.
  const int chunks = std::min(grid.batch, 4 * pool_threads());
  parallel_for(chunks, [=](int chunk) {
    float buf[2 * kMaxN], best[kMaxN];
    std::uint32_t where[kMaxN];
    const auto samples = chunk_range(grid.batch, chunks, chunk);
    for (int s = static_cast<int>(samples.begin); s < samples.end; ++s) {
      std::size_t o = s * pooled_sample;  // pooled element offset
      const int first_row = s * grid.height * grid.width;
      for (int ph = 0; ph < grid.out_height(); ++ph) {
        for (int pw = 0; pw < grid.out_width(); ++pw, o += cols) {
          // Window positions in MaxPool2D's order, a window row's cells two at a time (they
          // are consecutive rows of C).
          auto cell_of = [&](int wh, int ww) { return (ph * p + wh) * grid.width + pw * p + ww; };
          auto offset_of = [&](int cell) { return static_cast<std::uint32_t>(cell * cols); };
          for (int j0 = 0; j0 < whole; j0 += kColBlock) {
            BlockMax m;
            for (int wh = 0; wh < p; ++wh) {
              for (int ww = 0; ww < p; ww += 2) {
                const int cell = cell_of(wh, ww);
                if (ww + 1 < p) {
                  Vec acc[2][kColVecs];
                  rows_block<2>(first_row + cell, n, k, j0, a, bt, bias, acc);
                  m.take(acc[0], offset_of(cell) + j0, wh == 0 && ww == 0);
                  m.take(acc[1], offset_of(cell + 1) + j0, false);
                } else {
                  Vec acc[1][kColVecs];
                  rows_block<1>(first_row + cell, n, k, j0, a, bt, bias, acc);
                  m.take(acc[0], offset_of(cell) + j0, wh == 0 && ww == 0);
                }
              }
            }
            m.store_to(pooled + o + j0, argmax + o + j0, relu);
          }
          if (whole == n) continue;
          for (int wh = 0; wh < p; ++wh) {  // the columns past the last whole block
            for (int ww = 0; ww < p; ww += 2) {
              const int count = std::min(2, p - ww);
              const int cell = cell_of(wh, ww);
              tail_rows(first_row + cell, count, n, k, whole, a, bt, bias, buf);
              for (int r = 0; r < count; ++r) {
                const float* row = buf + r * cols;
                const std::uint32_t offset = offset_of(cell + r);
                const bool first = wh == 0 && ww + r == 0;
                for (int j = whole; j < n; ++j) {
                  const bool larger = first || row[j] > best[j];
                  best[j] = larger ? row[j] : best[j];
                  where[j] = larger ? offset + j : where[j];
                }
              }
            }
          }
          for (int j = whole; j < n; ++j) {
            pooled[o + j] = relu ? (best[j] > 0.0f ? best[j] : 0.0f) : best[j];
            argmax[o + j] = where[j];
          }
        }
      }
    }
  });
}

namespace {

// The gradient routed to row `cell` of one sample's grid, columns [j0, j0 + width): the
// pooled gradient where that cell held the maximum (and, with relu, the maximum was
// positive), else zero; 0.0f + g as MaxPool2D's backward writes it.
struct RouteGrad {
  const float* d;  // one sample's pooled gradient, values and argmax
  const float* y;
  const std::uint32_t* arg;
  bool relu;
  Vec block(std::size_t o, std::uint32_t offset) const {
    Vec g;
    for (int l = 0; l < kLanes; ++l) g[l] = one(o + l, offset + l);
    return g;
  }
  float one(std::size_t o, std::uint32_t offset) const {
    const bool routed = arg[o] == offset && (!relu || y[o] > 0.0f);
    return 0.0f + (routed ? d[o] : 0.0f);
  }
};

}  // namespace

// Chunks of whole samples as small_k_backward cuts them (chunked_grad); inside one, a line
// of the grid (one conv output row of a sample) at a time: every column block's
// accumulators take its cells in order, so each partial sums rows in increasing order as
// small_k_backward does; the rows no tile covers have a zero gradient and are skipped
// (small_k_rows.h).
void small_k_backward_maxpool(const SmallKPoolGrid& grid, int n, int k, const float* pooled_grad,
                              const float* pooled, const std::uint32_t* argmax, bool relu,
                              const float* a, float* b_grad, float* bias_grad) {
  check_shape(n, k, "small_k_backward_maxpool");
  const int p = grid.window;
  const auto cols = static_cast<std::size_t>(n);
  const std::size_t pooled_sample = std::size_t(grid.out_height()) * grid.out_width() * cols;
  const int whole = n - n % kLanes;
  const int covered_width = grid.out_width() * p;
  chunked_grad(
      grid.batch, n, k, b_grad, bias_grad,
      [&](long first, long end, float* b_part, float* bias_part) {
        auto for_each_line = [&](auto&& line) {
          for (long s = first; s < end; ++s) {
            const RouteGrad route{pooled_grad + s * pooled_sample, pooled + s * pooled_sample,
                                  argmax + s * pooled_sample, relu};
            const std::size_t first_row = std::size_t(s) * grid.height * grid.width;
            for (int oh = 0; oh < grid.out_height() * p; ++oh) {
              line(route, first_row + std::size_t(oh) * grid.width, std::size_t(oh) * grid.width,
                   std::size_t(oh / p) * grid.out_width() * cols);
            }
          }
        };
        with_k(k, [&](auto k_constant) {
          constexpr int K = decltype(k_constant)::value;
          BlockGrad<K> blocks[kMaxN / kLanes];
          for_each_line(
              [&](const RouteGrad& route, std::size_t row0, std::size_t cell0, std::size_t o_line) {
                for (int j0 = 0; j0 < whole; j0 += kLanes) {
                  BlockGrad<K> acc = blocks[j0 / kLanes];
                  for (int ow = 0; ow < covered_width; ++ow) {
                    const std::size_t o = o_line + std::size_t(ow / p) * cols + j0;
                    const auto offset = static_cast<std::uint32_t>((cell0 + ow) * cols + j0);
                    acc.add_row(route.block(o, offset), a + (row0 + ow) * K);
                  }
                  blocks[j0 / kLanes] = acc;
                }
              });
          for (int j0 = 0; j0 < whole; j0 += kLanes)
            blocks[j0 / kLanes].finish(j0, b_part, bias_part);
        });
        if (whole < n) {
          TailGrad tail(whole, n, k);
          float g[kLanes];
          for_each_line(
              [&](const RouteGrad& route, std::size_t row0, std::size_t cell0, std::size_t o_line) {
                for (int ow = 0; ow < covered_width; ++ow) {
                  const std::size_t o = o_line + std::size_t(ow / p) * cols;
                  const auto offset = static_cast<std::uint32_t>((cell0 + ow) * cols);
                  for (int j = whole; j < n; ++j) g[j - whole] = route.one(o + j, offset + j);
                  tail.add_row(g, a + (row0 + ow) * k);
                }
              });
          tail.finish(b_part, bias_part);
        }
      });
}

}  // namespace dtrain::tensor
