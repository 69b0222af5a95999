// Options of the commands that take a model out (export), run it (predict), draw its
// training curves (plot) and generate text with a language model (sample).
#include <boost/program_options.hpp>
#include <cmath>
#include <sstream>

#include "cli/option_parts.h"
#include "cli/options.h"
#include "core/errors.h"

namespace dtrain::cli {

namespace po = boost::program_options;

void parse_model_io_command(const std::string& command, const std::vector<std::string>& args,
                            CliOptions& o) {
  po::options_description desc("dtrain " + command + " options");
  po::positional_options_description pos;
  std::string title;
  auto opt = desc.add_options();
  opt("help,h", "show this help");
  if (command == "export") {
    o.command = Command::kExport;
    title = "dtrain export --checkpoint PATH --format onnx --output model.onnx";
    opt("checkpoint", po::value(&o.checkpoint), "checkpoint file or directory (its `latest`)");
    opt("format", po::value(&o.format)->default_value("onnx"), "onnx (the only format)");
    opt("output", po::value(&o.output), "the file to write");
  } else if (command == "predict") {
    o.command = Command::kPredict;
    title = "dtrain predict --checkpoint PATH --input x.npy --output y.npy";
    opt("checkpoint", po::value(&o.checkpoint), "checkpoint file or directory (its `latest`)");
    opt("input", po::value(&o.input),
        ".npy of examples [N, ...] in the model's input shape (a GAN: noise [N, noise_dim])");
    opt("output", po::value(&o.output),
        ".npy to write: class probabilities [N, K] (classifier), reconstructions "
        "(autoencoder) or samples (GAN generator), float32, in input order");
    opt("classes", po::value(&o.classes_path), "also write the predicted classes (int64 [N])");
    opt("logits", po::value(&o.logits_path), "also write a classifier's logits [N, K]");
    opt("batch", po::value(&o.predict_batch)->default_value(256), "examples per forward pass");
    opt("threads", po::value(&o.threads)->default_value(1), "BLAS threads per rank (>= 1)");
  } else if (command == "sample") {
    o.command = Command::kSample;
    title = "dtrain sample --checkpoint PATH [--length 500] [--temperature 0.8] [--prime TEXT]";
    opt("checkpoint", po::value(&o.checkpoint),
        "a language model's checkpoint file or directory (its `latest`)");
    opt("length", po::value(&o.sample_length)->default_value(500),
        "characters to generate (after the prime)");
    opt("temperature", po::value(&o.temperature)->default_value(0.8, "0.8"),
        "> 0: logits are divided by it before the softmax (lower: more conservative)");
    opt("prime", po::value(&o.prime),
        "text to start from (printed first; bytes of the vocabulary)");
    opt("seed", po::value(&o.sample_seed)->default_value(0), "random seed of the draws");
    opt("threads", po::value(&o.threads)->default_value(1), "BLAS threads (>= 1)");
  } else {
    o.command = Command::kPlot;
    title = "dtrain plot METRICS.jsonl [--output curves.png]";
    opt("metrics", po::value(&o.input), "the metrics file of a run (also positional)");
    opt("output", po::value(&o.output), "PNG to write (default: METRICS with .png)");
    pos.add("metrics", 1);
  }
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    o.command = Command::kHelp;
    o.help_text = help_for(desc, title);
    return;
  }
  const auto need = [&](const std::string& value, const std::string& what) {
    if (value.empty()) throw ConfigError(command + ": " + what + " is required (see --help)");
  };
  if (command == "export") {
    need(o.checkpoint, "--checkpoint PATH");
    need(o.output, "--output FILE");
    if (o.format != "onnx") {
      throw ConfigError("--format: got " + o.format + ", expected onnx");
    }
  } else if (command == "predict") {
    need(o.checkpoint, "--checkpoint PATH");
    need(o.input, "--input FILE.npy");
    need(o.output, "--output FILE.npy");
    if (o.predict_batch < 1) {
      throw ConfigError("--batch: got " + std::to_string(o.predict_batch) +
                        ", expected an integer >= 1");
    }
    if (o.threads < 1 || o.threads > 1024) {
      throw ConfigError("--threads: got " + std::to_string(o.threads) +
                        ", expected an integer in [1, 1024]");
    }
  } else if (command == "sample") {
    need(o.checkpoint, "--checkpoint PATH");
    if (o.sample_length < 0) {
      throw ConfigError("--length: got " + std::to_string(o.sample_length) +
                        ", expected an integer >= 0");
    }
    if (!(o.temperature > 0.0) || !std::isfinite(o.temperature)) {
      throw ConfigError("--temperature: got " + std::to_string(o.temperature) +
                        ", expected a number > 0");
    }
    if (o.threads < 1 || o.threads > 1024) {
      throw ConfigError("--threads: got " + std::to_string(o.threads) +
                        ", expected an integer in [1, 1024]");
    }
  } else {
    need(o.input, "METRICS.jsonl");
    if (o.output.empty()) {
      const auto dot = o.input.rfind('.');
      o.output = (dot == std::string::npos ? o.input : o.input.substr(0, dot)) + ".png";
    }
  }
}

}  // namespace dtrain::cli
