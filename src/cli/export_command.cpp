// dtrain export: a checkpoint's network as an ONNX file, checked by onnx's own checker
// before it is written (atomically: a temporary file renamed into place).
#include <onnx/checker.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "export/onnx_export.h"

namespace dtrain::cli {

LoadedModel load_checkpoint_model(const std::string& checkpoint) {
  LoadedModel m;
  m.path = ckpt::resolve_checkpoint_path(checkpoint);
  m.state = ckpt::decode_checkpoint(ckpt::read_checkpoint_bytes(m.path), m.path);
  m.task = train::make_task(m.state.model, m.state.seed);
  const auto& models = m.task->models();
  const auto saved = m.state.models();
  bool fits = models.size() == saved.size();
  for (std::size_t i = 0; fits && i < models.size(); ++i) {
    fits = models[i].model->arena().arena_size() == saved[i].params.size();
  }
  if (!fits) {
    throw CheckpointError(m.path + ": the stored parameters do not fit model '" +
                          m.state.model.name + "'");
  }
  for (std::size_t i = 0; i < models.size(); ++i) {
    const auto& p = saved[i].params;
    std::copy(p.begin(), p.end(), models[i].model->arena().params().begin());
  }
  return m;
}

nn::Sequential& LoadedModel::network() const {
  return *task->models()[0].model;
}

const nn::ModelConfig& LoadedModel::network_config() const {
  return state.model.task_kind() == nn::kTaskGan ? state.model.generator.at(0) : state.model;
}

int run_export(const ExportOptions& o) {
  const LoadedModel m = load_checkpoint_model(o.checkpoint);
  const std::string kind = m.state.model.task_kind();
  const std::string what = kind == nn::kTaskGan           ? "the generator's samples"
                           : kind == nn::kTaskReconstruct ? "reconstructions"
                                                          : "logits";
  const std::string doc = "dtrain " + m.state.model.name + " (" + kind + ") from " + m.path +
                          ", global step " + std::to_string(m.state.global_step) +
                          "; input [N, H, W, C] float32, output " + what;
  const onnx::ModelProto model = exporter::to_onnx(m.network_config(), m.network(), doc);
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw TrainingError(std::string("export: the ONNX model fails onnx's checker: ") + e.what());
  }
  const std::string tmp = o.output + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !model.SerializeToOstream(&out) || !out.flush()) {
      throw ConfigError("--output: cannot write '" + o.output + "'");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, o.output, ec);
  if (ec) throw ConfigError("--output: cannot write '" + o.output + "': " + ec.message());
  std::printf("%s: ONNX opset %d, input [N, %s] -> output %s, %zu parameters (%s)\n",
              o.output.c_str(), exporter::kOnnxOpset, m.network().input_shape().to_string().c_str(),
              what.c_str(), m.network().arena().num_params(), m.task->models()[0].role.c_str());
  return kExitOk;
}

}  // namespace dtrain::cli
