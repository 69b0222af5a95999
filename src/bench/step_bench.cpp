#include "bench/step_bench.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "bench/sgemm_timing.h"
#include "core/rng.h"
#include "nn/language_model_spec.h"
#include "optim/optimizer.h"
#include "train/task.h"
#include "train/train_config.h"

namespace dtrain::bench {

using train::make_task;
using train::ModelUpdates;
using train::StepBatch;
using train::Task;
using train::TrainConfig;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point begin) {
  return std::chrono::duration<double, std::milli>(Clock::now() - begin).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// A language model's tokens when the spec has no data to take its vocabulary from: the 96
// printable ASCII bytes and newline, about what an English text holds.
std::string synthetic_vocabulary() {
  std::string v = "\n";
  for (char c = ' '; c <= '~'; ++c) v += c;
  return v;
}

// One batch of the task's kind: token ids of the vocabulary for a language model, values in
// [0, 1) (images) otherwise, labels over the classifier's classes when the task needs them.
struct SyntheticBatch {
  tensor::Tensor x;
  std::vector<std::int32_t> labels;
};

SyntheticBatch synthetic_batch(const Task& task, const nn::ModelConfig& spec, std::size_t batch,
                               std::uint64_t seed) {
  SyntheticBatch b{tensor::Tensor(task.example_shape().with_batch(batch)), {}};
  Rng rng(derive_seed(seed, 0xBA7C));
  const bool ids = task.kind() == nn::kTaskLanguageModel;
  for (std::size_t i = 0; i < b.x.numel(); ++i) {
    b.x[i] = ids ? static_cast<float>(rng.below(spec.vocabulary.size())) : rng.uniform();
  }
  if (task.needs_labels()) {
    const std::size_t classes = task.models()[0].model->output_shape().numel();
    b.labels.resize(batch);
    for (auto& l : b.labels) l = static_cast<std::int32_t>(rng.below(classes));
  }
  return b;
}

// The trainer's part of a step without communication: each model's optimizer step, timed.
class TimedUpdates final : public ModelUpdates {
 public:
  TimedUpdates(const Task& task, const TrainConfig& config) : task_(task), lr_(config.lr) {
    for (const auto& m : task.models()) {
      optimizers_.push_back(optim::make_optimizer(config.optimizer, m.model->arena().arena_size()));
    }
  }
  const nn::ParamGradsFinal* grads_final(std::size_t) override { return nullptr; }
  void update(std::size_t i, double) override {
    auto& arena = task_.models()[i].model->arena();
    const auto begin = Clock::now();
    optimizers_[i]->step(arena.params(), arena.grads(), lr_);
    ms_ += ms_since(begin);
  }
  double take_ms() { return std::exchange(ms_, 0.0); }

 private:
  const Task& task_;
  float lr_;
  std::vector<std::unique_ptr<optim::Optimizer>> optimizers_;
  double ms_ = 0.0;
};

// A layer pass as the observers saw it, with the layer's index over all the task's networks.
struct PassRecord {
  std::size_t layer;
  nn::LayerPassRecord pass;
};

std::string display_name(const LayerStepFigures& l, bool several_networks) {
  return several_networks ? l.network + "." + l.name : l.name;
}

// FLOPs, GEMM shapes and the GEMM calls the layers declare, from one step's passes.
struct Census {
  std::map<std::pair<tensor::GemmShape, bool>, GemmShapeFigures> gemms;  // by shape, via_blas
  std::vector<std::vector<nn::MatrixProduct>> products;  // per layer, over the step's passes
  std::vector<tensor::GemmShape> declared;               // one entry per sgemm call
};

Census take_census(const std::vector<PassRecord>& passes,
                   const std::vector<const nn::Layer*>& layers,
                   std::vector<LayerStepFigures>& figures, bool several_networks) {
  Census c;
  c.products.resize(layers.size());
  for (const auto& [index, pass] : passes) {
    auto& f = figures[index];
    const bool forward = pass.pass == nn::Pass::kForward;
    ++(forward ? f.forward_passes : f.backward_passes);
    for (const auto& p : layers[index]->matrix_products(pass.batch, pass.input_grad)) {
      if (p.pass != pass.pass) continue;
      (forward ? f.forward_flops : f.backward_flops) += p.flops();
      f.has_products = true;
      c.products[index].push_back(p);
      if (p.via_blas) {
        c.declared.insert(c.declared.end(), std::size_t(p.calls), p.shape);
      } else if (std::ranges::find(f.direct_roles, p.role) == f.direct_roles.end()) {
        f.direct_roles.push_back(p.role);
      }
      auto& g = c.gemms[{p.shape, p.via_blas}];
      g.shape = p.shape;
      g.via_blas = p.via_blas;
      g.calls += p.calls;
      const std::string user = display_name(f, several_networks) + " " + p.role;
      if (std::ranges::find(g.used_by, user) == g.used_by.end()) g.used_by.push_back(user);
    }
  }
  return c;
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : separator) + p;
  return s;
}

// What a reader needs to know to read this model's figures.
std::vector<std::string> notes_for(const StepBenchResult& r, bool several,
                                   const std::string& vocabulary_note) {
  std::vector<std::string> notes;
  if (r.task == nn::kTaskGan) {
    notes.push_back(
        "GAN step as in training (train/gan_task.cpp): the discriminator on a real and a fake "
        "batch, then the generator through the discriminator; the discriminator's layers make "
        "3 forward and 3 backward passes per step, and its figures are their sums");
  }
  if (!vocabulary_note.empty()) notes.push_back(vocabulary_note);
  std::vector<std::string> plain;
  for (const auto& l : r.layers) {
    if (!l.has_products) plain.push_back(display_name(l, several));
    if (!l.direct_roles.empty()) {
      notes.push_back(display_name(l, several) + ": " + join(l.direct_roles, " and ") +
                      " run in a direct kernel (tensor/small_k.h), not sgemm: the roofline "
                      "counts them at sgemm's rate on their shapes, as for any other product");
    }
  }
  if (!plain.empty()) {
    notes.push_back("no matrix products, so 0 FLOPs (elementwise work is not counted): " +
                    join(plain, ", "));
  }
  notes.push_back(
      "one process: no data loading and no gradient communication in the step; zeroing the "
      "gradients is timed alone (the same call the step makes), loss + rest is the step minus "
      "its layer passes, optimizer steps and that zeroing");
  return notes;
}

}  // namespace

double StepBenchResult::layers_ms() const {
  double ms = 0.0;
  for (const auto& l : layers) ms += l.ms();
  return ms;
}

double StepBenchResult::step_flops() const {
  double flops = 0.0;
  for (const auto& l : layers) flops += l.flops();
  return flops;
}

StepBenchResult run_step_bench(nn::ModelConfig spec, const StepBenchOptions& options) {
  std::string vocabulary_note;
  if (spec.task_kind() == nn::kTaskLanguageModel && spec.vocabulary.empty()) {
    nn::resolve_vocabulary(spec, synthetic_vocabulary());
    vocabulary_note = "language model: a synthetic vocabulary of " +
                      std::to_string(spec.vocabulary.size()) + " tokens, random ids";
  }
  TrainConfig config;
  config.model_spec = spec;
  config.apply_model_defaults(false);
  auto task = make_task(spec, options.seed);
  const auto& models = task->models();
  StepBenchResult r;
  r.model = spec.name;
  r.task = task->kind();
  r.batch = options.batch;
  r.iterations = options.iterations;
  r.warmup = options.warmup;
  r.threads = tensor::blas_threads();
  r.optimizer = config.optimizer.kind;

  // Every layer of every network, with the observer that files its passes under it.
  std::vector<const nn::Layer*> layers;
  std::vector<PassRecord> passes;
  for (std::size_t i = 0; i < models.size(); ++i) {
    auto& model = *models[i].model;
    model.init_params(i == 0 ? options.seed : derive_seed(options.seed, 0x6d6f64656cULL, i));
    const std::size_t first = layers.size();
    for (std::size_t j = 0; j < model.num_layers(); ++j) {
      layers.push_back(&model.layer(j));
      r.layers.push_back({.network = models[i].role,
                          .name = model.layer(j).name(),
                          .type = model.layer(j).type()});
    }
    model.set_pass_observer([&passes, first](const nn::LayerPassRecord& p) {
      passes.push_back({first + p.layer, p});
    });
  }
  const bool several_networks = models.size() > 1;

  const SyntheticBatch data = synthetic_batch(*task, spec, options.batch, options.seed);
  TimedUpdates updates(*task, config);
  std::vector<double> sums(task->num_sums(), 0.0);
  auto run_step = [&](int step) {
    passes.clear();
    const auto s = static_cast<std::uint64_t>(step);
    const StepBatch batch{.x = data.x,
                          .labels = data.labels,
                          .step_seed = derive_seed(options.seed, s, 0x6e6f697365ULL),
                          .rank_seed = derive_seed(options.seed, s, 0),
                          .normalizer = static_cast<double>(options.batch)};
    task->train_step(batch, sums, updates);
  };

  int step = 0;
  for (; step < options.warmup; ++step) run_step(step);
  Census census;
  {
    tensor::GemmRecorder recorder;
    run_step(step++);
    census = take_census(passes, layers, r.layers, several_networks);
    auto recorded = recorder.calls();
    auto declared = census.declared;
    std::ranges::sort(recorded);
    std::ranges::sort(declared);
    r.recorded_gemm_calls = recorded.size();
    r.declared_gemm_calls = declared.size();
    r.gemm_census_matches = recorded == declared;
  }
  updates.take_ms();

  std::vector<std::vector<double>> forward_ms(layers.size()), backward_ms(layers.size());
  std::vector<double> zero_ms, optimizer_ms, step_ms, other_ms;
  for (int i = 0; i < options.iterations; ++i, ++step) {
    auto begin = Clock::now();
    for (const auto& m : models) m.model->arena().zero_grads();
    zero_ms.push_back(ms_since(begin));
    std::vector<double> fwd(layers.size(), 0.0), bwd(layers.size(), 0.0);
    begin = Clock::now();
    run_step(step);
    step_ms.push_back(ms_since(begin));
    double other = step_ms.back();
    for (const auto& [index, pass] : passes) {
      (pass.pass == nn::Pass::kForward ? fwd : bwd)[index] += 1e3 * pass.seconds;
      other -= 1e3 * pass.seconds;
    }
    for (std::size_t l = 0; l < layers.size(); ++l) {
      forward_ms[l].push_back(fwd[l]);
      backward_ms[l].push_back(bwd[l]);
    }
    optimizer_ms.push_back(updates.take_ms());
    other_ms.push_back(other - optimizer_ms.back() - zero_ms.back());
  }
  for (const auto& m : models) m.model->set_pass_observer({});
  for (std::size_t l = 0; l < layers.size(); ++l) {
    r.layers[l].forward_ms = median(forward_ms[l]);
    r.layers[l].backward_ms = median(backward_ms[l]);
  }
  r.zero_grad_ms = median(zero_ms);
  r.optimizer_ms = median(optimizer_ms);
  r.step_ms = median(step_ms);
  r.other_ms = median(other_ms);

  // sgemm on every shape of the step, then the roofline of each layer and of the step.
  for (auto& [key, g] : census.gemms) {
    const SgemmTiming t = time_sgemm(g.shape);
    g.sgemm_us = 1e6 * t.seconds_per_call;
    g.sgemm_gflops = t.gflops(g.shape);
    r.roofline_ms += g.calls * g.sgemm_us * 1e-3;
    if (!g.via_blas) r.direct_at_sgemm_ms += g.calls * g.sgemm_us * 1e-3;
    r.gemms.push_back(g);
  }
  for (std::size_t l = 0; l < layers.size(); ++l) {
    for (const auto& p : census.products[l]) {
      r.layers[l].sgemm_ms += p.calls * census.gemms[{p.shape, p.via_blas}].sgemm_us * 1e-3;
    }
  }
  std::ranges::sort(r.gemms, [](const auto& a, const auto& b) {
    return a.calls * a.sgemm_us > b.calls * b.sgemm_us;  // the costliest first
  });
  r.notes = notes_for(r, several_networks, vocabulary_note);
  return r;
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("model name")) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

std::vector<double> load_average() {
  std::ifstream in("/proc/loadavg");
  std::vector<double> load(3, 0.0);
  in >> load[0] >> load[1] >> load[2];
  return load;
}

nlohmann::json step_bench_json(const StepBenchResult& r) {
  using nlohmann::json;
  json layers = json::array();
  for (const auto& l : r.layers) {
    const double ms = l.ms();
    layers.push_back({{"network", l.network},
                      {"name", l.name},
                      {"type", l.type},
                      {"forward_passes", l.forward_passes},
                      {"backward_passes", l.backward_passes},
                      {"forward_ms", l.forward_ms},
                      {"backward_ms", l.backward_ms},
                      {"forward_flops", l.forward_flops},
                      {"backward_flops", l.backward_flops},
                      {"gflops", ms > 0 ? l.flops() / ms * 1e-6 : 0.0},
                      {"share", r.step_ms > 0 ? ms / r.step_ms : 0.0},
                      {"sgemm_ms", l.sgemm_ms},
                      {"roofline_fraction", ms > 0 ? l.sgemm_ms / ms : 0.0},
                      {"matrix_products", l.has_products},
                      {"direct_kernel", l.direct_roles}});
  }
  json gemms = json::array();
  for (const auto& g : r.gemms) {
    const auto& s = g.shape;
    gemms.push_back({{"trans_a", s.trans_a == tensor::Trans::kYes},
                     {"trans_b", s.trans_b == tensor::Trans::kYes},
                     {"m", s.m},
                     {"n", s.n},
                     {"k", s.k},
                     {"accumulate", s.accumulate},
                     {"via_blas", g.via_blas},
                     {"calls", g.calls},
                     {"flops", g.calls * s.flops()},
                     {"sgemm_us", g.sgemm_us},
                     {"sgemm_gflops", g.sgemm_gflops},
                     {"used_by", g.used_by}});
  }
  const double flops = r.step_flops();
  return {{"model", r.model},
          {"task", r.task},
          {"batch", r.batch},
          {"threads", r.threads},
          {"iterations", r.iterations},
          {"warmup", r.warmup},
          {"optimizer", r.optimizer},
          {"cpu", cpu_model_name()},
          {"blas", tensor::blas_version()},
          {"load_average", load_average()},
          {"layers", layers},
          {"zero_grad_ms", r.zero_grad_ms},
          {"optimizer_ms", r.optimizer_ms},
          {"other_ms", r.other_ms},
          {"step_ms", r.step_ms},
          {"samples_per_s", r.samples_per_s()},
          {"step_flops", flops},
          {"step_gflops", r.step_ms > 0 ? flops / r.step_ms * 1e-6 : 0.0},
          {"gemms", gemms},
          {"roofline",
           {{"step_ms", r.roofline_ms},
            {"samples_per_s", r.roofline_samples_per_s()},
            {"fraction", r.roofline_fraction()},
            {"direct_at_sgemm_ms", r.direct_at_sgemm_ms}}},
          {"gemm_census",
           {{"recorded_calls", r.recorded_gemm_calls},
            {"declared_calls", r.declared_gemm_calls},
            {"matches", r.gemm_census_matches}}},
          {"notes", r.notes}};
}

}  // namespace dtrain::bench
