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

// What the route records for one pooled element: the window position of the maximum, or
// kNoRoute where an absorbed relu clamped it (its gradient is zero).
std::uint8_t route_of(float best, int position, bool relu) {
  return relu && !(best > 0.0f) ? kNoRoute : static_cast<std::uint8_t>(position);
}

// A window's running first maximum for one block of kColBlock columns, in registers.
struct BlockMax {
  Vec best[kColVecs] = {};
  IVec where[kColVecs] = {};  // window position
  void take(const Vec (&row)[kColVecs], int position, bool first) {
    const IVec at = position - IVec{};
    for (int q = 0; q < kColVecs; ++q) {
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
  void store_to(float* out, std::uint8_t* route, bool relu) const {
    for (int q = 0; q < kColVecs; ++q) {
      const Vec v = relu ? (best[q] > Vec{} ? best[q] : Vec{}) : best[q];
      store(out + q * kLanes, v);
      for (int l = 0; l < kLanes; ++l)
        route[q * kLanes + l] = route_of(best[q][l], where[q][l], relu);
    }
  }
};

}  // namespace

void small_k_forward_maxpool(const SmallKPoolGrid& grid, int n, int k, const float* a,
                             const float* b, const float* bias, bool relu, float* pooled,
                             std::uint8_t* route) {
  check_shape(n, k, "small_k_forward_maxpool");
  if (grid.window * grid.window > kNoRoute) {
    throw std::invalid_argument("small_k_forward_maxpool: window too large for the route");
  }
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
    int where[kMaxN];
    const auto samples = chunk_range(grid.batch, chunks, chunk);
    for (int s = static_cast<int>(samples.begin); s < samples.end; ++s) {
      std::size_t o = s * pooled_sample;  // pooled element offset
      const int first_row = s * grid.height * grid.width;
      for (int ph = 0; ph < grid.out_height(); ++ph) {
        for (int pw = 0; pw < grid.out_width(); ++pw, o += cols) {
          // Window positions in MaxPool2D's order, a window row's cells two at a time (they
          // are consecutive rows of C).
          auto cell_of = [&](int wh, int ww) { return (ph * p + wh) * grid.width + pw * p + ww; };
          for (int j0 = 0; j0 < whole; j0 += kColBlock) {
            BlockMax m;
            for (int wh = 0; wh < p; ++wh) {
              for (int ww = 0; ww < p; ww += 2) {
                const int cell = cell_of(wh, ww), position = wh * p + ww;
                if (ww + 1 < p) {
                  Vec acc[2][kColVecs];
                  rows_block<2>(first_row + cell, n, k, j0, a, bt, bias, acc);
                  m.take(acc[0], position, position == 0);
                  m.take(acc[1], position + 1, false);
                } else {
                  Vec acc[1][kColVecs];
                  rows_block<1>(first_row + cell, n, k, j0, a, bt, bias, acc);
                  m.take(acc[0], position, position == 0);
                }
              }
            }
            m.store_to(pooled + o + j0, route + o + j0, relu);
          }
          if (whole == n) continue;
          for (int wh = 0; wh < p; ++wh) {  // the columns past the last whole block
            for (int ww = 0; ww < p; ww += 2) {
              const int count = std::min(2, p - ww);
              tail_rows(first_row + cell_of(wh, ww), count, n, k, whole, a, bt, bias, buf);
              for (int r = 0; r < count; ++r) {
                const float* row = buf + r * cols;
                const int position = wh * p + ww + r;
                for (int j = whole; j < n; ++j) {
                  const bool larger = position == 0 || row[j] > best[j];
                  best[j] = larger ? row[j] : best[j];
                  where[j] = larger ? position : where[j];
                }
              }
            }
          }
          for (int j = whole; j < n; ++j) {
            pooled[o + j] = relu ? (best[j] > 0.0f ? best[j] : 0.0f) : best[j];
            route[o + j] = route_of(best[j], where[j], relu);
          }
        }
      }
    }
  });
}

namespace {

// The gradient routed to a cell at window position `position`, columns [o, o + width) of
// its pooled element: the pooled gradient where the route names that position, else zero;
// 0.0f + g as MaxPool2D's backward writes it.
struct RouteGrad {
  const float* d;  // one sample's pooled gradient and route
  const std::uint8_t* route;
  Vec block(std::size_t o, int position) const {
    IVec r = {};
    for (int l = 0; l < kLanes; ++l) r[l] = route[o + l];
    const Vec dv = load(d + o);
    return 0.0f + (r == position ? dv : Vec{});
  }
  float one(std::size_t o, int position) const {
    return 0.0f + (route[o] == position ? d[o] : 0.0f);
  }
};

// Calls line(route, first row of C, first cell, first pooled element) for every covered
// line of the grid (one conv output row of a sample) of samples [first, end), in order.
template <typename Line>
void for_each_line(const SmallKPoolGrid& grid, std::size_t cols, const float* pooled_grad,
                   const std::uint8_t* route, long first, long end, Line&& line) {
  const int p = grid.window;
  const std::size_t pooled_sample = std::size_t(grid.out_height()) * grid.out_width() * cols;
  for (long s = first; s < end; ++s) {
    const RouteGrad r{pooled_grad + s * pooled_sample, route + s * pooled_sample};
    const std::size_t first_row = std::size_t(s) * grid.height * grid.width;
    for (int oh = 0; oh < grid.out_height() * p; ++oh) {
      line(r, first_row + std::size_t(oh) * grid.width, oh,
           std::size_t(oh / p) * grid.out_width() * cols);
    }
  }
}

}  // namespace

// Chunks of whole samples as small_k_backward cuts them (chunked_grad); inside one, a line
// of the grid at a time: every column block's accumulators take its cells in order, so each
// partial sums rows in increasing order as small_k_backward does; the rows no tile covers
// have a zero gradient and are skipped (small_k_rows.h).
void small_k_backward_maxpool(const SmallKPoolGrid& grid, int n, int k, const float* pooled_grad,
                              const std::uint8_t* route, const float* a, float* b_grad,
                              float* bias_grad) {
  check_shape(n, k, "small_k_backward_maxpool");
  const int p = grid.window;
  const auto cols = static_cast<std::size_t>(n);
  const int whole = n - n % kLanes;
  const int covered_width = grid.out_width() * p;
  chunked_grad(
      grid.batch, n, k, b_grad, bias_grad,
      [=](long first, long end, float* b_part, float* bias_part) {
        with_k_bias(k, bias_part != nullptr, [&](auto k_constant, auto bias_constant) {
          constexpr int K = decltype(k_constant)::value;
          using Block = BlockGrad<K, decltype(bias_constant)::value>;
          Block blocks[kMaxN / kLanes];
          for_each_line(grid, cols, pooled_grad, route, first, end,
                        [&](const RouteGrad& r, std::size_t row0, int oh, std::size_t o_line) {
                          for (int j0 = 0; j0 < whole; j0 += kLanes) {
                            Block acc = blocks[j0 / kLanes];
                            for (int ow = 0; ow < covered_width; ++ow) {
                              const std::size_t o = o_line + std::size_t(ow / p) * cols;
                              acc.add_row(r.block(o + j0, (oh % p) * p + ow % p),
                                          a + (row0 + ow) * K);
                            }
                            blocks[j0 / kLanes] = acc;
                          }
                        });
          for (int j0 = 0; j0 < whole; j0 += kLanes) {
            blocks[j0 / kLanes].finish(j0, b_part, bias_part);
          }
        });
        if (whole == n) return;
        TailGrad tail(whole, n, k, bias_part != nullptr);
        float g[kLanes];
        for_each_line(grid, cols, pooled_grad, route, first, end,
                      [&](const RouteGrad& r, std::size_t row0, int oh, std::size_t o_line) {
                        for (int ow = 0; ow < covered_width; ++ow) {
                          const std::size_t o = o_line + std::size_t(ow / p) * cols;
                          const int position = (oh % p) * p + ow % p;
                          for (int j = whole; j < n; ++j) {
                            g[j - whole] = r.one(o + j, position);
                          }
                          tail.add_row(g, a + (row0 + ow) * k);
                        }
                      });
        tail.finish(b_part, bias_part);
      });
}

void small_k_maxpool_expand_grad(const SmallKPoolGrid& grid, int n, const float* pooled_grad,
                                 const std::uint8_t* route, float* c_grad) {
  const int p = grid.window;
  const auto cols = static_cast<std::size_t>(n);
  const std::size_t sample_rows = std::size_t(grid.height) * grid.width;
  std::fill(c_grad, c_grad + grid.batch * sample_rows * cols, 0.0f);  // uncovered cells
  const int covered_width = grid.out_width() * p;
  for_each_line(grid, cols, pooled_grad, route, 0, grid.batch,
                [&](const RouteGrad& r, std::size_t row0, int oh, std::size_t o_line) {
                  for (int ow = 0; ow < covered_width; ++ow) {
                    const std::size_t o = o_line + std::size_t(ow / p) * cols;
                    float* g = c_grad + (row0 + ow) * cols;
                    for (int j = 0; j < n; ++j) g[j] = r.one(o + j, (oh % p) * p + ow % p);
                  }
                });
}

}  // namespace dtrain::tensor
