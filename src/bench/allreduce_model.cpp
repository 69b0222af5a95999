#include "bench/allreduce_model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "comm/collectives/blocks.h"
#include "comm/collectives/hierarchical.h"
#include "core/errors.h"

namespace dtrain::bench {

using comm::add_into;
using comm::floor_pow2;
using comm::HierarchicalAllreduce;
using comm::log2_floor;

CostCoefficients cost_coefficients(const std::string& algo, int ranks, std::size_t bytes,
                                   bool in_place) {
  const double p = ranks;
  const double n = static_cast<double>(bytes);
  const int pof2 = floor_pow2(ranks);
  const double lg = log2_floor(ranks);
  const double fold = pof2 != ranks ? 1.0 : 0.0;
  const double part = (pof2 - 1.0) / pof2;
  if (algo == "ring") return {2 * (p - 1), 2 * (p - 1) / p * n, (p - 1) / p * n};
  if (algo == "rd") return {lg + 2 * fold, (lg + 2 * fold) * n, (lg + fold) * n};
  if (algo == "rabenseifner" || algo == "mpi") {
    return {2 * lg + 2 * fold, (2 * part + 2 * fold) * n, (part + fold) * n};
  }
  if (algo == "hierarchical") {
    if (in_place && bytes >= HierarchicalAllreduce::kInPlaceMinFloats * sizeof(float)) {
      // Two barriers; each rank reads its slice from the L-1 peers' arrays and writes the sum
      // into theirs: 2 (L-1)/L n bytes through other cores' caches (its own slice stays local).
      return {2.0, 2 * (p - 1) / p * n, (p - 1) / p * n};
    }
    const std::size_t piece = HierarchicalAllreduce::kDefaultPieceFloats * sizeof(float);
    const double pieces = std::ceil(n / static_cast<double>(piece));
    const bool small = bytes <= HierarchicalAllreduce::kSmallFloats * sizeof(float);
    // Memory traffic per rank: copy in (L-1)/L, read the peers' slices (L-1)/L, write the
    // slice sum 1/L, copy out (L-1)/L of the array.
    return {small ? 1.0 : 2 * pieces, (3 * (p - 1) + 1) / p * n, (p - 1) / p * n};
  }
  throw ConfigError("--fit: no cost model for algorithm '" + algo + "'");
}

namespace {

struct Solved {
  double alpha = 0.0, beta = 0.0;
};

// Minimises sum ((a_i alpha + b_i beta - y_i) / y_i)^2 with y_i = t_i - c_i gamma.
Solved solve(const std::vector<CostCoefficients>& k, const std::vector<double>& t, double gamma) {
  double saa = 0, sab = 0, sbb = 0, say = 0, sby = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const double w = 1.0 / (t[i] * t[i]);
    const double y = t[i] - k[i].c * gamma;
    saa += w * k[i].a * k[i].a;
    sab += w * k[i].a * k[i].b;
    sbb += w * k[i].b * k[i].b;
    say += w * k[i].a * y;
    sby += w * k[i].b * y;
  }
  Solved s;
  const double det = saa * sbb - sab * sab;
  if (det > 0) {
    s.alpha = (say * sbb - sby * sab) / det;
    s.beta = (saa * sby - sab * say) / det;
  }
  // A negative parameter means the other one explains the data alone.
  if (det <= 0 || s.alpha < 0 || s.beta < 0) {
    const Solved only_alpha{saa > 0 ? std::max(0.0, say / saa) : 0.0, 0.0};
    const Solved only_beta{0.0, sbb > 0 ? std::max(0.0, sby / sbb) : 0.0};
    auto err = [&](const Solved& c) {
      double e = 0;
      for (std::size_t i = 0; i < t.size(); ++i) {
        const double m = k[i].a * c.alpha + k[i].b * c.beta + k[i].c * gamma;
        e += (m - t[i]) * (m - t[i]) / (t[i] * t[i]);
      }
      return e;
    };
    s = err(only_alpha) < err(only_beta) ? only_alpha : only_beta;
  }
  return s;
}

}  // namespace

std::vector<CostFit> fit_cost_model(const std::vector<AllreduceBenchResult>& results,
                                    double gamma_s_per_byte, bool in_place) {
  std::vector<CostFit> fits;
  for (const auto& r : results) {
    if (r.algo == "auto") continue;
    auto it =
        std::find_if(fits.begin(), fits.end(), [&](const CostFit& f) { return f.algo == r.algo; });
    if (it == fits.end()) {
      fits.push_back({});
      it = fits.end() - 1;
      it->algo = r.algo;
      it->ranks = r.ranks;
      it->in_place = in_place;
      it->gamma_s_per_byte = gamma_s_per_byte;
    }
    it->bytes.push_back(r.bytes);
    it->measured_us.push_back(r.time_us_p50);
  }
  for (auto& f : fits) {
    std::vector<CostCoefficients> k;
    std::vector<double> t;
    for (std::size_t i = 0; i < f.bytes.size(); ++i) {
      k.push_back(cost_coefficients(f.algo, f.ranks, f.bytes[i], f.in_place));
      t.push_back(std::max(f.measured_us[i], 1e-3) * 1e-6);
    }
    const Solved s = solve(k, t, gamma_s_per_byte);
    f.alpha_s = s.alpha;
    f.beta_s_per_byte = s.beta;
    double sum = 0;
    for (std::size_t i = 0; i < t.size(); ++i) {
      const double m = k[i].a * s.alpha + k[i].b * s.beta + k[i].c * gamma_s_per_byte;
      f.model_us.push_back(m * 1e6);
      const double rel = std::abs(m - t[i]) / t[i];
      sum += rel * rel;
      f.max_rel_error = std::max(f.max_rel_error, rel);
    }
    f.rms_rel_error = t.empty() ? 0.0 : std::sqrt(sum / static_cast<double>(t.size()));
  }
  return fits;
}

double measure_gamma() {
  // 64 Ki floats per operand (768 KiB for the three arrays): in L2/L3 like the chunks the
  // algorithms add. Best of several repetitions: the machine may be shared.
  const std::size_t n = std::size_t{1} << 16;
  std::vector<float> a(n, 1.0f), b(n, 2.0f), d(n, 0.0f);
  double best = 1e30;
  for (int rep = 0; rep < 50; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    add_into(d.data(), a.data(), b.data(), n);
    const auto stop = std::chrono::steady_clock::now();
    a[rep % n] = d[(rep * 7) % n];  // keep the additions observable
    best = std::min(best, std::chrono::duration<double>(stop - start).count());
  }
  return best / static_cast<double>(n * sizeof(float));
}

std::string cost_fits_json(const std::vector<CostFit>& fits) {
  std::ostringstream out;
  out.precision(6);
  out << "{\"model\":\"time = a*alpha + b*n*beta + c*n*gamma (Thakur, Rabenseifner & Gropp "
         "2005)\",\"fits\":[";
  for (std::size_t i = 0; i < fits.size(); ++i) {
    const auto& f = fits[i];
    out << (i ? "," : "") << "\n{\"algo\":\"" << f.algo << "\",\"ranks\":" << f.ranks
        << ",\"buffer\":\"" << (f.in_place ? "shared" : "private") << "\""
        << ",\"alpha_s\":" << f.alpha_s << ",\"beta_s_per_byte\":" << f.beta_s_per_byte
        << ",\"gamma_s_per_byte\":" << f.gamma_s_per_byte
        << ",\"rms_rel_error\":" << f.rms_rel_error << ",\"max_rel_error\":" << f.max_rel_error
        << ",\"points\":[";
    for (std::size_t j = 0; j < f.bytes.size(); ++j) {
      out << (j ? "," : "") << "{\"bytes\":" << f.bytes[j]
          << ",\"measured_us\":" << f.measured_us[j] << ",\"model_us\":" << f.model_us[j] << "}";
    }
    out << "]}";
  }
  out << "\n]}\n";
  return out.str();
}

}  // namespace dtrain::bench
