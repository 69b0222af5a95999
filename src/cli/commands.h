#pragma once
// The sub-commands, each run after MPI is up. They throw dtrain's typed errors; app.cpp
// maps them to exit codes.
#include <memory>
#include <string>

#include "ckpt/checkpoint_codec.h"
#include "ckpt/checkpoint_files.h"
#include "cli/bench_allreduce_command.h"
#include "cli/bench_allreduce_options.h"
#include "cli/bench_step_options.h"
#include "cli/command_guard.h"
#include "cli/eval_options.h"
#include "cli/explain_options.h"
#include "cli/export_options.h"
#include "cli/inspect_options.h"
#include "cli/plot_options.h"
#include "cli/predict_options.h"
#include "cli/sample_options.h"
#include "cli/train_options.h"
#include "comm/communicator.h"
#include "core/errors.h"
#include "data/dataset.h"
#include "train/task.h"
#include "train/train_state.h"

namespace dtrain::cli {

std::string version_text();
// --data: the synthetic set (generated from seed), IDX files, or a NumPy, CSV or HDF5 data
// set (data_source.h).
data::DataSplits load_data(data::DataOptions options, std::uint64_t seed);
// A language model's --data text:FILE, cut into the model's sequence length; resolves the
// model's vocabulary sizes from it (nn/language_model_spec.h).
data::DataSplits load_language_model_data(const data::DataOptions& options, nn::ModelConfig& model);
// ConfigError naming both when a classifier meets unlabeled data or the model's input
// shape is not the data's example shape.
void check_data_fits(const train::Task& task, const data::DataSplits& data,
                     const std::string& model_name, const std::string& data_path);
int run_train(const TrainOptions& options);
int run_bench_step(const BenchStepOptions& options);  // needs no MPI
int run_eval(const EvalOptions& options);
int run_inspect(const InspectOptions& options);  // needs no MPI
int run_export(const ExportOptions& options);    // needs no MPI
int run_predict(const PredictOptions& options);
int run_plot(const PlotOptions& options);        // needs no MPI
int run_explain(const ExplainOptions& options);  // needs no MPI
int run_sample(const SampleOptions& options);    // needs no MPI
// Writes the PNG of a metrics file's curves with gnuplot (plot and train --plot).
void plot_metrics(const std::string& metrics_path, const std::string& png_path);

// A checkpoint's networks with their trained parameters.
struct LoadedModel {
  std::string path;
  train::TrainState state;
  std::unique_ptr<train::Task> task;
  // The network that export and predict run: the model, or a GAN's generator.
  nn::Sequential& network() const;
  const nn::ModelConfig& network_config() const;
};
LoadedModel load_checkpoint_model(const std::string& checkpoint);

}  // namespace dtrain::cli
