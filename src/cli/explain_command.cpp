// dtrain explain: attribution maps of a classifier's decisions (eval/attribution.h), one
// picture per example: the input, the map, and the map laid over the input, captioned with
// the predicted (and, for test examples, the true) class. One process, no MPI: each example
// is one or two passes of one image.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "data/array_dataset.h"
#include "data/batch.h"
#include "data/npy.h"
#include "eval/attribution.h"
#include "render/confusion_matrix.h"
#include "render/heatmap.h"
#include "render/image_grid.h"
#include "tensor/blas.h"

namespace dtrain::cli {
namespace {

std::string percent(double p) {
  char text[16];
  std::snprintf(text, sizeof text, "%.1f%%", 100.0 * p);
  return text;
}

// The examples to explain and, for test examples, their labels and the class names.
struct Examples {
  data::Dataset set;
  std::size_t count = 0;
  bool labeled = false;
  std::vector<std::string> names;
};

Examples load_examples(const ExplainOptions& o, const LoadedModel& m) {
  Examples e;
  const std::size_t classes = m.network().output_shape().numel();
  if (!o.input.empty()) {
    e.set = data::dataset_from_arrays(data::read_npy(o.input), nullptr, o.input, "");
    e.count = e.set.size();
    data::DataSplits none;
    e.names = render::class_names(none, classes);
  } else {
    const auto data = load_data(o.data, m.state.seed);
    e.set = data.test;
    e.count = std::min<std::size_t>(static_cast<std::size_t>(o.test_examples), e.set.size());
    e.labeled = e.set.num_classes > 0;
    e.names = render::class_names(data, classes);
  }
  const auto& in = m.network().input_shape();
  if (in.rank() != 3 || in[0] != std::size_t(e.set.height) || in[1] != std::size_t(e.set.width) ||
      in[2] != std::size_t(e.set.channels)) {
    throw ConfigError((o.input.empty() ? o.data.path : o.input) + " holds " + e.set.shape_text() +
                      " examples but model '" + m.network().name() + "' takes " + in.to_string());
  }
  return e;
}

}  // namespace

int run_explain(const ExplainOptions& o) {
  tensor::set_blas_threads(o.threads);
  const auto method = eval::parse_attribution_method(o.method);
  LoadedModel m = load_checkpoint_model(o.checkpoint);
  if (m.state.model.task_kind() != nn::kTaskClassify) {
    throw ConfigError("explain: " + m.path + " holds a " + m.state.model.task_kind() +
                      " model; explanations are of a classifier's decisions");
  }
  const Examples ex = load_examples(o, m);
  nn::Sequential& net = m.network();
  // The sanity check's model: the same network, initialized from another seed and untrained.
  std::unique_ptr<train::Task> random_task;
  if (o.sanity_check) {
    random_task = train::make_task(m.state.model, m.state.seed);
    random_task->models()[0].model->init_params(m.state.seed ^ 0x72616e646f6dULL);  // "random"
  }
  std::filesystem::create_directories(o.output_dir);
  const auto& in = net.input_shape();
  const std::size_t H = in[0], W = in[1], C = in[2];
  std::vector<float> maps;
  maps.reserve(ex.count * H * W);
  tensor::Tensor x(in.with_batch(1));
  for (std::size_t i = 0; i < ex.count; ++i) {
    data::gather_range(ex.set, i, 1, x.data());
    const auto e = eval::explain(net, x, method, o.target, o.steps);
    maps.insert(maps.end(), e.map.begin(), e.map.end());
    std::string line = "example " + std::to_string(i) + ": predicted " + ex.names[e.target] + " (" +
                       percent(e.probabilities[e.target]) + ")";
    std::string caption =
        "predicted " + ex.names[e.target] + " " + percent(e.probabilities[e.target]);
    if (ex.labeled) {
      std::int32_t label = 0;
      data::gather_range_labels(ex.set, i, 1, &label);
      line += ", true " + ex.names[static_cast<std::size_t>(label)];
      caption += ", true " + ex.names[static_cast<std::size_t>(label)];
    }
    if (method == eval::AttributionMethod::kIntegratedGradients) {
      double sum = 0.0;
      for (float v : e.map) sum += v;
      const double expected = e.logit - e.baseline_logit;
      char text[160];
      std::snprintf(
          text, sizeof text,
          "; attributions sum %.4f, logit - baseline logit %.4f (completeness error "
          "%.2f%%)",
          sum, expected,
          expected != 0.0 ? 100.0 * std::fabs(sum - expected) / std::fabs(expected) : 0.0);
      line += text;
    }
    if (random_task) {
      const auto r = eval::explain(*random_task->models()[0].model, x, method,
                                   static_cast<long>(e.target), o.steps);
      char text[96];
      std::snprintf(text, sizeof text, "; rank correlation with a random model's map %.3f",
                    eval::rank_correlation(e.map, r.map));
      line += text;
    }
    std::printf("%s\n", line.c_str());
    const std::span<const float> image(x.data(), H * W * C);
    const auto heat = render::heat_rgb(e.map, method == eval::AttributionMethod::kGradCam);
    std::vector<float> cells = render::to_rgb(image, C);
    cells.insert(cells.end(), heat.begin(), heat.end());
    const auto overlay = render::overlay_rgb(image, C, heat);
    cells.insert(cells.end(), overlay.begin(), overlay.end());
    const auto path =
        (std::filesystem::path(o.output_dir) / ("explain-" + std::to_string(i) + ".png")).string();
    const std::string what = o.method + (e.layer.empty() ? "" : " at " + e.layer);
    render::write_image_grid(path, {.images = cells,
                                    .count = 3,
                                    .height = H,
                                    .width = W,
                                    .channels = 3,
                                    .columns = 3,
                                    .title = caption,
                                    .cell_labels = {"input", what, "overlay"}});
  }
  const std::vector<float>& all = maps;
  data::write_npy((std::filesystem::path(o.output_dir) / "attributions.npy").string(),
                  data::NpyDtype::kFloat32, {ex.count, H, W},
                  {reinterpret_cast<const std::uint8_t*>(all.data()), all.size() * sizeof(float)});
  std::printf("dtrain: %zu picture(s) and attributions.npy [%zu, %zu, %zu] in %s\n", ex.count,
              ex.count, H, W, o.output_dir.c_str());
  return kExitOk;
}

}  // namespace dtrain::cli
