#include "cli/options.h"

#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cli/model_registry.h"
#include "cli/option_parts.h"
#include "comm/sync/gradient_compression.h"
#include "core/errors.h"
#include "data/fashion_mnist.h"

namespace dtrain::cli {

namespace po = boost::program_options;

namespace {

constexpr const char* kUsage =
    "usage: dtrain [train] [options]          train (the default command)\n"
    "       dtrain eval --checkpoint PATH     loss/accuracy of a checkpoint on the test set\n"
    "       dtrain inspect PATH [--json]      what a checkpoint holds; checks its integrity\n"
    "       dtrain bench allreduce [options]  our allreduce algorithms vs MPI_Allreduce: time, "
    "algbw, busbw;\n"
    "                                         --tune writes a size->algorithm table, --fit a "
    "cost model\n"
    "       dtrain bench step [--model M]     time per layer of one training step, FLOPs, and "
    "the\n"
    "                                         fraction of the sgemm roofline (one process)\n"
    "       dtrain export --checkpoint PATH --output model.onnx   the network as ONNX\n"
    "       dtrain predict --checkpoint PATH --input x.npy --output y.npy\n"
    "       dtrain plot METRICS.jsonl [--output curves.png]   training curves\n"
    "       dtrain sample --checkpoint PATH [--length 500]   text from a language model\n"
    "       dtrain --help | dtrain COMMAND --help | dtrain --version\n"
    "Run it under MPI, e.g. mpirun -np 4 dtrain --epochs 5\n";

}  // namespace

std::string help_for(const po::options_description& desc, const std::string& title) {
  std::ostringstream out;
  out << kUsage << "\n" << title << "\n" << desc;
  return out.str();
}

namespace {

std::string model_names() {
  std::string names;
  for (const auto& n : builtin_model_names()) names += (names.empty() ? "" : ", ") + n;
  return names;
}

}  // namespace

// Options of the NumPy, CSV and HDF5 readers, shared by train, eval and predict.
po::options_description data_format_options(data::DataOptions& d) {
  po::options_description desc("Data set options");
  // clang-format off
  desc.add_options()
      ("num-classes", po::value(&d.num_classes)->default_value(0),
       "classes of a labeled NumPy/CSV/HDF5 data set (0 = 1 + the largest label)")
      ("label-column", po::value(&d.label_column),
       "CSV: the label column, by header name or 0-based index (default: the last column)")
      ("data-memory-mb", po::value(&d.memory_limit_mb)->default_value(1024),
       "HDF5: examples larger than this many MiB are read from the file batch by batch")
      ("hdf5-datasets", po::value(&d.hdf5_datasets)->default_value(d.hdf5_datasets),
       "HDF5: train x, train y, test x, test y dataset names (y and test optional)");
  // clang-format on
  return desc;
}

namespace {

po::options_description train_options(CliOptions& o, std::string& lr_scaling, std::string& progress,
                                      std::string& config_file) {
  auto& t = o.train;
  po::options_description desc("Train options");
  // clang-format off: one option per entry reads better than the formatter's chain layout
  desc.add_options()("help,h", "show this help")("config", po::value(&config_file),
                                                 "read options from an INI file (key = value)")(
      "model", po::value(&t.model_name)->default_value("cnn"),
      ("built-in model (" + model_names() + ") or a text-format ModelSpec file").c_str())(
      "data", po::value(&o.data)->default_value(data::default_data_dir()),
      "directory of train/t10k IDX files (gzip'd or not), NumPy .npy/.npz, CSV, HDF5 .h5, or "
      "'synthetic'")("epochs", po::value(&t.epochs)->default_value(5), "epochs to train (>= 1)")(
      "batch-size", po::value(&t.global_batch)->default_value(128),
      "GLOBAL batch size, split over ranks (>= number of ranks); a model file's "
      "defaults { batch_size } when not given (charlstm: 32)")(
      "optimizer", po::value(&t.optimizer.kind)->default_value("adam"), "sgd | momentum | adam")(
      "lr", po::value(&t.lr)->default_value(0.001f, "0.001"),
      "learning rate (> 0), for a global batch of 128 when --lr-scaling linear; a model "
      "file's `defaults { lr }` replaces the default (lstm: 0.005, gan: 0.0002)")(
      "lr-scaling", po::value(&lr_scaling)->default_value("none"),
      "none | linear (lr * batch-size / 128)")(
      "warmup-epochs", po::value(&t.warmup_epochs)->default_value(0.0, "0"),
      "ramp the learning rate up linearly over this many epochs (>= 0)")(
      "seed", po::value(&t.seed)->default_value(0), "seed for initialization and shuffling")(
      "val-size", po::value(&o.val_size)->default_value(5000),
      "validation examples held out from the end of the training set")(
      "max-steps", po::value(&t.max_steps)->default_value(0),
      "stop once the global step reaches N, then evaluate and finish (0 = no limit)")(
      "threads", po::value(&o.threads)->default_value(1), "BLAS threads per rank (>= 1)")(
      "allreduce", po::value(&o.allreduce)->default_value("auto"),
      "auto (per message size from the algorithm table) | ring | rd (recursive doubling) | "
      "rabenseifner | hierarchical (shared memory inside a host) | mpi (MPI_Allreduce, the "
      "reference)")("allreduce-table", po::value(&o.allreduce_table_path),
                    "size->algorithm table for --allreduce auto (written by dtrain bench "
                    "allreduce --tune); default: the built-in one")(
      "overlap", po::value(&o.overlap)->default_value("on"),
      "on: a communication thread sums each gradient bucket while backward goes on | off: "
      "after backward (same result)")(
      "bucket-mb", po::value(&o.bucket_mb)->default_value("auto"),
      "gradient bucket size in MiB (> 0), cut at layer boundaries; auto: the first 1 MiB, the "
      "others a quarter of the model within [1, 25] MiB")(
      "grad-compression", po::value(&t.grad_compression)->default_value("none"),
      "none | fp16 | bf16: gradients travel as 16-bit values, summed in float32")(
      "error-feedback", po::bool_switch(&t.error_feedback),
      "with --grad-compression: add what rounding dropped to the next step's gradient")(
      "comm-timeout", po::value(&o.comm_timeout)->default_value(600.0, "600"),
      "end the job (exit 4) when a rank has waited this many seconds on its peers in one "
      "collective during training steps, naming the silent ranks (0 = off)")(
      "stall-warning", po::value(&o.stall_warning)->default_value(60.0, "60"),
      "print which ranks are behind once a collective has waited this many seconds (0 = off)")(
      "timeline", po::value(&t.timeline_path),
      "write a Chrome trace (chrome://tracing, Perfetto) of every rank to FILE (rank 0)")(
      "checkpoint-dir", po::value(&o.checkpoint_dir),
      "write checkpoints (ckpt-<step>.pb and `latest`) into DIR")(
      "checkpoint-every-steps", po::value(&t.checkpoint_every_steps)->default_value(0),
      "checkpoint every N global steps (0 = at each epoch end)")(
      "keep", po::value(&o.keep)->default_value(3), "checkpoints to keep (>= 1)")(
      "resume", po::value(&o.resume_path)->implicit_value(""),
      "continue from the latest checkpoint in --checkpoint-dir (a fresh start if there is "
      "none), or from PATH (a checkpoint file or directory)")(
      "metrics", po::value(&t.metrics_path), "write JSON-lines metrics to FILE (rank 0)")(
      "output-dir", po::value(&t.output_dir),
      "write pictures into DIR at each epoch end (autoencoder reconstructions, GAN samples, "
      "a classifier's confusion matrix; a classifier's test set at the end too)")(
      "image-scale", po::value(&t.image_scale)->default_value(0),
      "pixels per image pixel in --output-dir grids (0 = automatic: the grid is >= 600 px wide)")(
      "progress", po::value(&progress)->default_value("auto"),
      "auto (a bar on a terminal) | always | never")(
      "plot", po::bool_switch(&o.plot),
      "at the end, plot the --metrics file's curves into a PNG beside it (gnuplot)");
  // clang-format on
  desc.add(data_format_options(o.data_format));
  return desc;
}

po::options_description eval_options(CliOptions& o) {
  po::options_description desc("dtrain eval options");
  // clang-format off
  desc.add_options()
      ("help,h", "show this help")
      ("checkpoint", po::value(&o.checkpoint),
       "checkpoint file, or a checkpoint directory (its `latest`)")
      ("classifier", po::value(&o.classifier),
       "a GAN checkpoint: classify --samples generated images with this classifier checkpoint "
       "and report the share classified with confidence >= 0.9 and the classes that appear")
      ("samples", po::value(&o.samples)->default_value(1000), "generated images to judge (>= 1)")
      ("data", po::value(&o.data)->default_value(data::default_data_dir()),
       "directory of the t10k IDX files, or 'synthetic' (the test split is evaluated)")
      ("val-size", po::value(&o.val_size)->default_value(5000), "as in training (train files only)")
      ("threads", po::value(&o.threads)->default_value(1), "BLAS threads per rank (>= 1)")
      ("json", po::bool_switch(&o.json), "print one JSON object");
  // clang-format on
  desc.add(data_format_options(o.data_format));
  return desc;
}

po::options_description inspect_options(CliOptions& o) {
  po::options_description desc("dtrain inspect PATH options");
  // clang-format off
  desc.add_options()
      ("help,h", "show this help")
      ("checkpoint", po::value(&o.checkpoint), "checkpoint file or directory (also positional)")
      ("json", po::bool_switch(&o.json), "print one JSON object");
  // clang-format on
  return desc;
}

po::options_description bench_options(CliOptions& o, std::string& algos) {
  auto& b = o.bench;
  po::options_description desc("dtrain bench allreduce options");
  // clang-format off
  desc.add_options()
      ("help,h", "show this help")
      ("min-bytes", po::value(&b.min_bytes)->default_value(8), "smallest message (bytes)")
      ("max-bytes", po::value(&b.max_bytes)->default_value(std::size_t{256} << 20, "268435456"),
       "largest message (bytes); sizes double from min to max")
      ("iters", po::value(&b.iters)->default_value(0), "timed iterations per size (0 = by size)")
      ("algo", po::value(&algos)->default_value("auto,mpi"),
       "comma-separated: auto, ring, rd, rabenseifner, hierarchical, mpi (measured in turns)")
      ("allreduce-table", po::value(&o.allreduce_table_path),
       "the table `auto` uses (default: the built-in one)")
      ("tune", po::bool_switch(&o.bench_tune),
       "measure ring, rd, rabenseifner, hierarchical and write the fastest per size as a "
       "table to --output")
      ("output", po::value(&o.bench_output), "table file that --tune writes")
      ("fit", po::bool_switch(&o.bench_fit),
       "fit alpha, beta (and measure gamma) of each algorithm's cost model and print them")
      ("fit-json", po::value(&o.bench_fit_json), "also write the fit as JSON to FILE (--fit)")
      ("json", po::bool_switch(&o.bench_json), "one JSON object per algorithm and size")
      ("private-buffer", po::bool_switch(&b.private_buffer),
       "measure on a plain private buffer instead of one from the communicator's shared "
       "arrays (as the trainer's gradients are): hierarchical then stages through copies");
  // clang-format on
  return desc;
}

// Boost.Program_options (1.74) builds an error's message by replacing each %placeholder%
// (%option%, %value%, %original_token%...) with the user's text, again and again until none
// is left, so a token that holds its own placeholder (`--epochs=%value%`) never finishes
// (found by fuzz/fuzz_config_file). The message is built from a copy whose user text has
// its '%' signs replaced by a look-alike (U+FF05) that is no placeholder.
std::string describe(const po::error& e) {
  const auto* named = dynamic_cast<const po::error_with_option_name*>(&e);
  if (!named) return e.what();
  struct Substitutions : po::error_with_option_name {
    static std::map<std::string, std::string>& of(po::error_with_option_name& error) {
      return error.*(&Substitutions::m_substitutions);
    }
  };
  po::error_with_option_name safe(*named);
  for (auto& [placeholder, text] : Substitutions::of(safe)) {
    for (std::size_t at = text.find('%'); at != std::string::npos; at = text.find('%', at)) {
      text.replace(at, 1, "\xef\xbc\x85");
    }
  }
  return safe.what();
}

void parse_into(po::options_description& desc, const std::vector<std::string>& args,
                const std::string* config_file_option, po::variables_map& vm,
                const char* positional = nullptr) {
  po::positional_options_description pos;
  if (positional) pos.add(positional, 1);
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  if (config_file_option && vm.count("config")) {
    const std::string path = vm["config"].as<std::string>();
    std::ifstream in(path);
    if (!in) throw ConfigError("--config: cannot read '" + path + "'");
    try {
      po::store(po::parse_config_file(in, desc), vm);
    } catch (const po::error& e) {
      throw ConfigError("--config '" + path + "': " + describe(e));
    }
  }
  po::notify(vm);
}

template <typename T>
void require(bool ok, const std::string& option, const T& value, const std::string& expected) {
  if (!ok) {
    std::ostringstream v;
    v << value;
    throw ConfigError(option + ": got " + v.str() + ", expected " + expected);
  }
}

void read_allreduce_table(CliOptions& o) {
  if (!o.allreduce_table_path.empty()) {
    o.allreduce_table = comm::AlgorithmTable::read_file(o.allreduce_table_path);
  }
}

void validate_train(CliOptions& o, const std::string& lr_scaling, const std::string& progress) {
  auto& t = o.train;
  require(t.epochs >= 1, "--epochs", t.epochs, "an integer >= 1");
  require(t.global_batch >= 1, "--batch-size", t.global_batch,
          "an integer >= 1 (and >= the number of ranks)");
  require(t.lr > 0.0f, "--lr", t.lr, "a number > 0");
  require(t.warmup_epochs >= 0.0, "--warmup-epochs", t.warmup_epochs, "a number >= 0");
  require(t.max_steps >= 0, "--max-steps", t.max_steps, "an integer >= 0");
  require(t.checkpoint_every_steps >= 0, "--checkpoint-every-steps", t.checkpoint_every_steps,
          "an integer >= 0");
  require(o.keep >= 1, "--keep", o.keep, "an integer >= 1");
  require(t.image_scale >= 0 && t.image_scale <= 16, "--image-scale", t.image_scale,
          "an integer in [0, 16] (0 = automatic)");
  if (o.plot && t.metrics_path.empty()) {
    throw ConfigError("--plot: plots the --metrics file, which is not set");
  }
  if (o.resume && o.resume_path.empty() && o.checkpoint_dir.empty()) {
    throw ConfigError(
        "--resume: without a PATH it resumes from --checkpoint-dir, which is not set");
  }
  require(o.threads >= 1 && o.threads <= 1024, "--threads", o.threads, "an integer in [1, 1024]");
  std::error_code ec;
  require(is_builtin_model(t.model_name) || std::filesystem::is_regular_file(t.model_name, ec),
          "--model", t.model_name, "a built-in model (" + model_names() + ") or a ModelSpec file");
  const auto& k = t.optimizer.kind;
  require(k == "sgd" || k == "momentum" || k == "adam", "--optimizer", k,
          "one of sgd, momentum, adam");
  require(lr_scaling == "none" || lr_scaling == "linear", "--lr-scaling", lr_scaling,
          "none or linear");
  t.linear_lr_scaling = lr_scaling == "linear";
  require(o.allreduce == "auto" || comm::parse_algo(o.allreduce).has_value(), "--allreduce",
          o.allreduce, "auto, ring, rd, rabenseifner, hierarchical or mpi");
  read_allreduce_table(o);
  require(o.overlap == "on" || o.overlap == "off", "--overlap", o.overlap, "on or off");
  t.overlap = o.overlap == "on";
  if (o.bucket_mb == "auto") {
    t.bucket_mb = 0.0;
  } else {
    std::size_t used = 0;
    double mb = 0.0;
    try {
      mb = std::stod(o.bucket_mb, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    require(used == o.bucket_mb.size() && mb > 0.0 && mb <= 1024.0, "--bucket-mb", o.bucket_mb,
            "auto or a number of MiB in (0, 1024]");
    t.bucket_mb = mb;
  }
  // Seconds as a user would write them; below 1 s a descheduled rank would trip it.
  require(o.comm_timeout == 0.0 || (o.comm_timeout >= 1.0 && o.comm_timeout <= 604800.0),
          "--comm-timeout", o.comm_timeout, "0 (off) or seconds in [1, 604800]");
  require(o.stall_warning == 0.0 || (o.stall_warning >= 1.0 && o.stall_warning <= 604800.0),
          "--stall-warning", o.stall_warning, "0 (off) or seconds in [1, 604800]");
  comm::parse_compression(t.grad_compression);  // throws ConfigError naming the option
  if (t.error_feedback && t.grad_compression == "none") {
    throw ConfigError("--error-feedback: needs --grad-compression fp16 or bf16");
  }
  if (progress == "auto") {
    t.progress = train::ProgressMode::kAuto;
  } else if (progress == "always") {
    t.progress = train::ProgressMode::kAlways;
  } else if (progress == "never") {
    t.progress = train::ProgressMode::kNever;
  } else {
    require(false, "--progress", progress, "auto, always or never");
  }
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
  return parts;
}

}  // namespace

CliOptions parse_command_line(int argc, const char* const* argv) {
  CliOptions o;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "--version" || args[0] == "-V")) {
    o.command = Command::kVersion;
    return o;
  }
  if (!args.empty() && args[0] == "train") args.erase(args.begin());
  po::variables_map vm;
  try {
    if (!args.empty() && args[0] == "bench") {
      if (args.size() >= 2 && args[1] == "step") {
        parse_bench_step_command({args.begin() + 2, args.end()}, o);
        return o;
      }
      if (args.size() < 2 || args[1] != "allreduce") {
        if (args.size() >= 2 && (args[1] == "--help" || args[1] == "-h")) {
          std::string algos;
          o.command = Command::kHelp;
          o.help_text = help_for(bench_options(o, algos), "dtrain bench allreduce");
          return o;
        }
        throw ConfigError(
            "bench: expected 'dtrain bench allreduce [options]' or 'dtrain bench step "
            "[options]'");
      }
      o.command = Command::kBenchAllreduce;
      args.erase(args.begin(), args.begin() + 2);
      std::string algos;
      auto desc = bench_options(o, algos);
      parse_into(desc, args, nullptr, vm);
      if (vm.count("help")) {
        o.command = Command::kHelp;
        o.help_text = help_for(desc, "dtrain bench allreduce");
        return o;
      }
      o.bench.algos = split_commas(algos);
      require(!o.bench.algos.empty(), "--algo", algos, "a comma-separated list of algorithms");
      for (const auto& a : o.bench.algos) {
        require(a == "auto" || comm::parse_algo(a).has_value(), "--algo", algos,
                "a comma-separated list of auto, ring, rd, rabenseifner, hierarchical, mpi");
      }
      if (o.bench_tune) {
        require(!o.bench_output.empty(), "--tune", "without --output",
                "--output FILE (where the table goes)");
        o.bench.algos = {"ring", "rd", "rabenseifner", "hierarchical"};
      } else {
        require(o.bench_output.empty(), "--output", o.bench_output, "only together with --tune");
      }
      if (!o.bench_fit_json.empty()) o.bench_fit = true;
      read_allreduce_table(o);
      return o;
    }
    if (!args.empty() && (args[0] == "eval" || args[0] == "inspect")) {
      const bool eval = args[0] == "eval";
      o.command = eval ? Command::kEval : Command::kInspect;
      args.erase(args.begin());
      auto desc = eval ? eval_options(o) : inspect_options(o);
      parse_into(desc, args, nullptr, vm, eval ? nullptr : "checkpoint");
      if (vm.count("help")) {
        o.command = Command::kHelp;
        o.help_text =
            help_for(desc, eval ? "dtrain eval --checkpoint PATH" : "dtrain inspect PATH");
        return o;
      }
      if (o.checkpoint.empty()) {
        throw ConfigError(std::string(eval ? "eval: --checkpoint PATH" : "inspect: PATH") +
                          " is required (a checkpoint file or directory)");
      }
      require(o.threads >= 1 && o.threads <= 1024, "--threads", o.threads,
              "an integer in [1, 1024]");
      require(o.samples >= 1, "--samples", o.samples, "an integer >= 1");
      return o;
    }
    if (!args.empty() &&
        (args[0] == "export" || args[0] == "predict" || args[0] == "plot" || args[0] == "sample")) {
      const std::string command = args[0];
      args.erase(args.begin());
      parse_model_io_command(command, args, o);
      return o;
    }
    if (!args.empty() && !args[0].starts_with("-")) {
      throw ConfigError("unknown command '" + args[0] +
                        "' (expected train, eval, inspect, export, predict, plot, sample, bench "
                        "allreduce or bench step)");
    }
    // `--resume PATH` as two words: Boost only binds an implicit value written --resume=PATH.
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == "--resume" && !args[i + 1].starts_with("-")) {
        args[i] += "=" + args[i + 1];
        args.erase(args.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      }
    }
    std::string lr_scaling, progress, config_file;
    auto desc = train_options(o, lr_scaling, progress, config_file);
    parse_into(desc, args, &config_file, vm);
    if (vm.count("help")) {
      o.command = Command::kHelp;
      o.help_text = help_for(desc, "dtrain train");
      return o;
    }
    o.resume = vm.count("resume") > 0;
    o.lr_given = !vm["lr"].defaulted();
    o.batch_size_given = !vm["batch-size"].defaulted();
    validate_train(o, lr_scaling, progress);
  } catch (const po::error& e) {
    throw ConfigError(describe(e) + " (see dtrain --help)");
  }
  return o;
}

}  // namespace dtrain::cli
