#pragma once
// The alpha-beta-gamma (Hockney) cost model of each allreduce algorithm, with the
// coefficients of Thakur, Rabenseifner & Gropp (2005):
//   time = a(P) alpha + b(P) n beta + c(P) n gamma
// alpha: latency per message step, beta: transfer time per byte, gamma: reduction time per
// byte, n: message bytes. `dtrain bench allreduce --fit` fits alpha and beta per algorithm
// to measured medians (gamma measured separately by timing the local addition), and
// bench/project_scaling.py uses the same coefficients to predict other P.
#include <cstddef>
#include <string>
#include <vector>

#include "bench/allreduce_bench.h"

namespace dtrain::bench {

struct CostCoefficients {
  double a = 0.0;  // multiplies alpha (message steps / synchronisations)
  double b = 0.0;  // multiplies n beta
  double c = 0.0;  // multiplies n gamma
};

// For "ring", "rd", "rabenseifner", "hierarchical" (one host: barriers and memory traffic;
// in_place: the buffer is a communicator array, summed in place from 1 KiB, else staged
// through copies) and "mpi" (modelled as Open MPI's large-message choice, Rabenseifner);
// "auto" has no model of its own. Throws ConfigError for other names.
CostCoefficients cost_coefficients(const std::string& algo, int ranks, std::size_t bytes,
                                   bool in_place = true);

struct CostFit {
  std::string algo;
  int ranks = 0;
  bool in_place = true;  // measured on a communicator array (hierarchical sums in place)
  double alpha_s = 0.0;
  double beta_s_per_byte = 0.0;
  double gamma_s_per_byte = 0.0;
  double rms_rel_error = 0.0;  // over the fitted sizes, |model - measured| / measured
  double max_rel_error = 0.0;
  std::vector<std::size_t> bytes;
  std::vector<double> measured_us;
  std::vector<double> model_us;
};

// Least squares in relative error (every size counts alike), alpha, beta >= 0.
std::vector<CostFit> fit_cost_model(const std::vector<AllreduceBenchResult>& results,
                                    double gamma_s_per_byte, bool in_place = true);

// Seconds per byte of an in-cache float addition (dst = a + b), the gamma of the model.
double measure_gamma();

std::string cost_fits_json(const std::vector<CostFit>& fits);

}  // namespace dtrain::bench
