// The cost model behind `dtrain bench allreduce --fit`: the textbook coefficients per
// algorithm (Thakur, Rabenseifner & Gropp 2005), the in-place hierarchical terms, and a fit
// that recovers alpha and beta from times made with known ones.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bench/allreduce_model.h"
#include "comm/collectives/hierarchical.h"
#include "core/errors.h"

namespace dtrain::bench {
namespace {

using comm::HierarchicalAllreduce;

TEST(AllreduceModel, TextbookCoefficients) {
  const std::size_t n = 1 << 20;
  const auto ring = cost_coefficients("ring", 4, n);
  EXPECT_DOUBLE_EQ(ring.a, 6.0);       // 2(P-1) steps
  EXPECT_DOUBLE_EQ(ring.b, 1.5 * n);   // 2(P-1)/P n
  EXPECT_DOUBLE_EQ(ring.c, 0.75 * n);  // (P-1)/P n
  const auto rd = cost_coefficients("rd", 8, n);
  EXPECT_DOUBLE_EQ(rd.a, 3.0);  // log2 P
  EXPECT_DOUBLE_EQ(rd.b, 3.0 * n);
  const auto rd5 = cost_coefficients("rd", 5, n);
  EXPECT_DOUBLE_EQ(rd5.a, 4.0);  // log2 4, plus fold and unfold
  const auto rab = cost_coefficients("rabenseifner", 4, n);
  EXPECT_DOUBLE_EQ(rab.a, 4.0);      // 2 log2 P
  EXPECT_DOUBLE_EQ(rab.b, 1.5 * n);  // 2(P-1)/P n
  EXPECT_THROW(cost_coefficients("bogus", 2, n), ConfigError);
}

TEST(AllreduceModel, HierarchicalInPlaceAndStaged) {
  const std::size_t n = 1 << 20;
  const auto in_place = cost_coefficients("hierarchical", 2, n, true);
  EXPECT_DOUBLE_EQ(in_place.a, 2.0);      // two barriers per call
  EXPECT_DOUBLE_EQ(in_place.b, 1.0 * n);  // half read from, half written to the peer
  EXPECT_DOUBLE_EQ(in_place.c, 0.5 * n);
  const auto staged = cost_coefficients("hierarchical", 2, n, false);
  const double pieces =
      static_cast<double>(n) / (HierarchicalAllreduce::kDefaultPieceFloats * sizeof(float));
  EXPECT_DOUBLE_EQ(staged.a, 2.0 * pieces);  // two barriers per piece
  EXPECT_GT(staged.b, in_place.b);
  // Below the in-place threshold a shared array is staged too.
  const std::size_t tiny = (HierarchicalAllreduce::kInPlaceMinFloats - 1) * sizeof(float);
  EXPECT_DOUBLE_EQ(cost_coefficients("hierarchical", 2, tiny, true).a, 1.0);
}

TEST(AllreduceModel, FitRecoversKnownParameters) {
  const double alpha = 2e-6, beta = 3e-10, gamma = 5e-11;
  std::vector<AllreduceBenchResult> results;
  for (const std::string algo : {"ring", "hierarchical"}) {
    for (std::size_t bytes = 1024; bytes <= (std::size_t{1} << 24); bytes *= 4) {
      const auto k = cost_coefficients(algo, 2, bytes);
      AllreduceBenchResult r;
      r.algo = algo;
      r.bytes = bytes;
      r.ranks = 2;
      r.time_us_p50 = (k.a * alpha + k.b * beta + k.c * gamma) * 1e6;
      results.push_back(r);
    }
  }
  const auto fits = fit_cost_model(results, gamma);
  ASSERT_EQ(fits.size(), 2u);
  for (const auto& f : fits) {
    EXPECT_NEAR(f.alpha_s, alpha, alpha * 1e-6) << f.algo;
    EXPECT_NEAR(f.beta_s_per_byte, beta, beta * 1e-6) << f.algo;
    EXPECT_LT(f.max_rel_error, 1e-6) << f.algo;
    EXPECT_TRUE(f.in_place);
  }
  EXPECT_NE(cost_fits_json(fits).find("\"buffer\":\"shared\""), std::string::npos);
}

}  // namespace
}  // namespace dtrain::bench
