// dtrain bench step: one model's training step, layer by layer, against the sgemm roofline of
// its own GEMM shapes (train/step_bench.h). One process, no MPI.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/model_registry.h"
#include "tensor/blas.h"
#include "bench/step_bench.h"

namespace dtrain::cli {

namespace {

double percent(double part, double whole) {
  return whole > 0 ? 100.0 * part / whole : 0.0;
}

void print_layers(const bench::StepBenchResult& r) {
  const bool several = r.layers.size() > 0 && r.layers.front().network != "model";
  std::printf("%-24s %-16s %9s %9s %10s %10s %8s %6s %8s\n", "layer", "type", "fwd_ms", "bwd_ms",
              "fwd_MFLOP", "bwd_MFLOP", "GFLOP/s", "share", "roofline");
  for (const auto& l : r.layers) {
    const std::string name = several ? l.network + "." + l.name : l.name;
    const std::string passes =
        l.forward_passes > 1 ? " x" + std::to_string(l.forward_passes) : std::string();
    char gflops[16] = "-", roof[16] = "-";
    if (l.has_products && l.ms() > 0)
      std::snprintf(gflops, sizeof gflops, "%.1f", l.flops() / l.ms() * 1e-6);
    if (l.sgemm_ms > 0 && l.ms() > 0) std::snprintf(roof, sizeof roof, "%.2f", l.sgemm_ms / l.ms());
    std::printf("%-24s %-16s %9.3f %9.3f %10.2f %10.2f %8s %5.1f%% %8s\n", name.c_str(),
                (l.type + passes).c_str(), l.forward_ms, l.backward_ms, l.forward_flops * 1e-6,
                l.backward_flops * 1e-6, gflops, percent(l.ms(), r.step_ms), roof);
  }
  const auto line = [&](const std::string& what, double ms) {
    std::printf("%-41s %9.3f %46.1f%%\n", what.c_str(), ms, percent(ms, r.step_ms));
  };
  line("zero gradients", r.zero_grad_ms);
  line("optimizer (" + r.optimizer + ")", r.optimizer_ms);
  line("loss + rest", r.other_ms);
  std::printf("%-41s %9.3f ms   %.0f samples/s   %.1f GFLOP/s\n", "whole step", r.step_ms,
              r.samples_per_s(), r.step_ms > 0 ? r.step_flops() / r.step_ms * 1e-6 : 0.0);
}

void print_gemms(const bench::StepBenchResult& r) {
  std::printf("\nsgemm on the step's GEMM shapes (this process, same threads; costliest first)\n");
  std::printf("%-24s %6s %11s %10s %8s  %s\n", "shape (op M x N x K)", "calls", "MFLOP/step",
              "sgemm_us", "GFLOP/s", "used by");
  int products = 0;
  for (const auto& g : r.gemms) {
    products += g.calls;
    std::string users;
    for (const auto& u : g.used_by) users += (users.empty() ? "" : ", ") + u;
    if (!g.via_blas) users += " (direct kernel)";
    std::printf("%-24s %6d %11.2f %10.1f %8.1f  %s\n", g.shape.to_string().c_str(), g.calls,
                g.calls * g.shape.flops() * 1e-6, g.sgemm_us, g.sgemm_gflops, users.c_str());
  }
  std::printf(
      "\nroofline: the step's %d matrix products take %.3f ms at sgemm's rate -> %.0f samples/s; "
      "fraction %.3f of the measured step\n",
      products, r.roofline_ms, r.roofline_samples_per_s(), r.roofline_fraction());
  if (r.direct_at_sgemm_ms > 0) {
    std::printf("direct kernels: %.3f ms of the roofline is sgemm on the shapes they compute\n",
                r.direct_at_sgemm_ms);
  }
  if (r.gemm_census_matches) {
    std::printf("GEMM census: the %zu sgemm calls of a step are the ones the layers declare\n",
                r.recorded_gemm_calls);
  } else {
    std::printf(
        "WARNING: GEMM census: a step ran %zu sgemm calls, the layers declare %zu (or other "
        "shapes): the FLOP and roofline figures are off (Layer::matrix_products)\n",
        r.recorded_gemm_calls, r.declared_gemm_calls);
  }
}

}  // namespace

int run_bench_step(const BenchStepOptions& o) {
  tensor::set_blas_threads(o.threads);
  const auto result = bench::run_step_bench(load_model_config(o.model), o.step);
  if (o.json) {
    std::printf("%s\n", bench::step_bench_json(result).dump().c_str());
    std::fflush(stdout);
    return kExitOk;
  }
  const auto load = bench::load_average();
  std::printf(
      "# dtrain bench step: model %s (%s), batch %zu, %d BLAS thread(s); medians of %d steps "
      "after %d warm-up\n# cpu: %s; load average %.2f %.2f %.2f\n",
      result.model.c_str(), result.task.c_str(), result.batch, result.threads, result.iterations,
      result.warmup, bench::cpu_model_name().c_str(), load[0], load[1], load[2]);
  print_layers(result);
  print_gemms(result);
  std::printf("notes:\n");
  for (const auto& n : result.notes) std::printf("  - %s\n", n.c_str());
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace dtrain::cli
