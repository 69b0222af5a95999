#include "cli/train_options.h"

#include <cmath>

#include "comm/sync/gradient_compression.h"
#include "core/errors.h"
#include "data/fashion_mnist.h"

namespace dtrain::cli {

namespace po = boost::program_options;

namespace {

// Options given as text and turned into TrainConfig fields by validation.
struct TextOptions {
  std::string lr_scaling, progress, config_file;
};

po::options_description train_options(TrainOptions& o, TextOptions& text) {
  auto& t = o.train;
  po::options_description desc("Train options");
  // One entry per option: clang-format would chain them into one unreadable expression.
  // clang-format off
  desc.add_options()
      ("help,h", "show this help")
      ("config", po::value(&text.config_file), "read options from an INI file (key = value)")
      ("model", po::value(&t.model_name)->default_value("cnn"),
       ("built-in model (" + model_names() + ") or a text-format ModelSpec file").c_str())
      ("data", po::value(&o.data.path)->default_value(data::default_data_dir()),
       "directory of train/t10k IDX files (gzip'd or not), NumPy .npy/.npz, CSV, HDF5 .h5, or "
       "'synthetic'")
      ("epochs", po::value(&t.epochs)->default_value(5), "epochs to train (>= 1)")
      ("batch-size", po::value(&t.global_batch)->default_value(128),
       "GLOBAL batch size, split over ranks (>= number of ranks); a model file's "
       "defaults { batch_size } when not given (charlstm: 32)")
      ("optimizer", po::value(&t.optimizer.kind)->default_value("adam"),
       "sgd | momentum | adam | adamw (Adam with decoupled --weight-decay)")
      ("weight-decay", po::value(&t.optimizer.weight_decay)->default_value(0.0f, "0"),
       "adamw: W -= lr * wd * W each step on weight matrices (not biases, normalization "
       "parameters or embeddings unless the model file's defaults { weight_decay_layers } "
       "names the layer) (>= 0)")
      ("lr", po::value(&t.lr)->default_value(0.001f, "0.001"),
       "learning rate (> 0), for a global batch of 128 when --lr-scaling linear; a model "
       "file's `defaults { lr }` replaces the default (lstm: 0.005, gan: 0.0002)")
      ("lr-scaling", po::value(&text.lr_scaling)->default_value("none"),
       "none | linear (lr * batch-size / 128)")
      ("warmup-epochs", po::value(&t.warmup_epochs)->default_value(0.0, "0"),
       "ramp the learning rate up linearly over this many epochs (>= 0)")
      ("warmup-steps", po::value(&t.schedule.warmup_steps)->default_value(0),
       "ramp the learning rate up linearly over this many global steps (>= 0; instead of "
       "--warmup-epochs)")
      ("lr-schedule", po::value(&t.schedule.kind)->default_value("constant"),
       "after warmup: constant | cosine (down to --min-lr at the run's last step: epochs x "
       "steps per epoch, or --max-steps) | step (times --lr-decay-factor every "
       "--lr-decay-steps global steps)")
      ("min-lr", po::value(&t.schedule.min_lr)->default_value(0.0f, "0"),
       "cosine: the rate at the last step; step: the lowest rate (>= 0)")
      ("lr-decay-steps", po::value(&t.schedule.decay_steps)->default_value(0),
       "step schedule: global steps between decays (>= 1)")
      ("lr-decay-factor", po::value(&t.schedule.decay_factor)->default_value(0.1f, "0.1"),
       "step schedule: multiplier per decay, in (0, 1]")
      ("clip-grad-norm", po::value(&t.clip_grad_norm)->default_value(0.0f, "0"),
       "scale the averaged gradient down to this global L2 norm when above it; the metrics "
       "file's epoch lines get grad_norm (0 = off)")
      ("accumulate", po::value(&t.accumulate)->default_value(1),
       "N micro-batches of batch-size / N per optimizer step, gradients summed, one "
       "allreduce per step: the same step as one batch of batch-size, in the memory of a "
       "micro-batch (>= 1, divides --batch-size; not for a GAN)")
      ("early-stopping", po::value(&t.early_stopping)->default_value(0),
       "stop (exit 0) after this many epochs in a row without a better --monitor figure "
       "(0 = off)")
      ("monitor", po::value(&t.monitor),
       "the validation figure --early-stopping and --keep-best judge by: val_loss | val_acc | "
       "val_bpc | val_mse (default: val_loss, an autoencoder's val_mse)")
      ("keep-best", po::bool_switch(&t.keep_best),
       "keep the best epoch's checkpoint, named by a `best` file beside `latest` (needs "
       "--checkpoint-dir; never pruned by --keep)")
      ("seed", po::value(&t.seed)->default_value(0), "seed for initialization and shuffling")
      ("val-size", po::value(&o.data.val_size)->default_value(5000),
       "validation examples held out from the end of the training set")
      ("max-steps", po::value(&t.max_steps)->default_value(0),
       "stop once the global step reaches N, then evaluate and finish (0 = no limit)")
      ("threads", po::value(&o.threads)->default_value(1), "BLAS threads per rank (>= 1)")
      ("allreduce", po::value(&o.allreduce)->default_value("auto"),
       "auto (per message size from the algorithm table) | ring | rd (recursive doubling) | "
       "rabenseifner | hierarchical (shared memory inside a host) | mpi (MPI_Allreduce, the "
       "reference)")
      ("allreduce-table", po::value(&o.allreduce_table_path),
       "size->algorithm table for --allreduce auto (written by dtrain bench allreduce --tune); "
       "default: the built-in one")
      ("overlap", po::value(&o.overlap)->default_value("on"),
       "on: a communication thread sums each gradient bucket while backward goes on | off: "
       "after backward (same result)")
      ("bucket-mb", po::value(&o.bucket_mb)->default_value("auto"),
       "gradient bucket size in MiB (> 0), cut at layer boundaries; auto: the first 1 MiB, the "
       "others a quarter of the model within [1, 25] MiB")
      ("grad-compression", po::value(&t.grad_compression)->default_value("none"),
       "none | fp16 | bf16: gradients travel as 16-bit values, summed in float32")
      ("error-feedback", po::bool_switch(&t.error_feedback),
       "with --grad-compression: add what rounding dropped to the next step's gradient")
      ("comm-timeout", po::value(&o.comm_timeout)->default_value(600.0, "600"),
       "end the job (exit 4) when a rank has waited this many seconds on its peers in one "
       "collective during training steps, naming the silent ranks (0 = off)")
      ("stall-warning", po::value(&o.stall_warning)->default_value(60.0, "60"),
       "print which ranks are behind once a collective has waited this many seconds (0 = off)")
      ("timeline", po::value(&t.timeline_path),
       "write a Chrome trace (chrome://tracing, Perfetto) of every rank to FILE (rank 0)")
      ("checkpoint-dir", po::value(&o.checkpoint_dir),
       "write checkpoints (ckpt-<step>.pb and `latest`) into DIR")
      ("checkpoint-every-steps", po::value(&t.checkpoint_every_steps)->default_value(0),
       "checkpoint every N global steps (0 = at each epoch end)")
      ("keep", po::value(&o.keep)->default_value(3), "checkpoints to keep (>= 1)")
      ("resume", po::value(&o.resume_path)->implicit_value(""),
       "continue from the latest checkpoint in --checkpoint-dir (a fresh start if there is "
       "none), or from PATH (a checkpoint file or directory)")
      ("metrics", po::value(&t.metrics_path), "write JSON-lines metrics to FILE (rank 0)")
      ("output-dir", po::value(&t.output_dir),
       "write pictures into DIR at each epoch end (autoencoder reconstructions, GAN samples, "
       "a classifier's confusion matrix; a classifier's test set at the end too)")
      ("image-scale", po::value(&t.image_scale)->default_value(0),
       "pixels per image pixel in --output-dir grids (0 = automatic: the grid is >= 600 px wide)")
      ("progress", po::value(&text.progress)->default_value("auto"),
       "auto (a bar on a terminal) | always | never")
      ("plot", po::bool_switch(&o.plot),
       "at the end, plot the --metrics file's curves into a PNG beside it (gnuplot)");
  // clang-format on
  desc.add(data_format_options(o.data));
  return desc;
}

// "auto" or a number of MiB in (0, 1024]; auto is 0 in TrainConfig.
double parse_bucket_mb(const std::string& text) {
  if (text == "auto") return 0.0;
  std::size_t used = 0;
  double mb = 0.0;
  try {
    mb = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  require(used == text.size() && mb > 0.0 && mb <= 1024.0, "--bucket-mb", text,
          "auto or a number of MiB in (0, 1024]");
  return mb;
}

train::ProgressMode parse_progress(const std::string& text) {
  if (text == "auto") return train::ProgressMode::kAuto;
  if (text == "always") return train::ProgressMode::kAlways;
  if (text == "never") return train::ProgressMode::kNever;
  require(false, "--progress", text, "auto, always or never");
  return train::ProgressMode::kAuto;  // not reached
}

// --lr-schedule and its options, --warmup-steps, --weight-decay, --clip-grad-norm.
void validate_recipe(const train::TrainConfig& t) {
  const auto& s = t.schedule;
  require(s.kind == "constant" || s.kind == "cosine" || s.kind == "step", "--lr-schedule", s.kind,
          "constant, cosine or step");
  require(s.warmup_steps >= 0, "--warmup-steps", s.warmup_steps, "an integer >= 0");
  if (s.warmup_steps > 0 && t.warmup_epochs > 0.0) {
    throw ConfigError("--warmup-steps: give either --warmup-steps or --warmup-epochs, not both");
  }
  require(std::isfinite(s.min_lr) && s.min_lr >= 0.0f, "--min-lr", s.min_lr, "a number >= 0");
  require(s.decay_steps >= 0, "--lr-decay-steps", s.decay_steps, "an integer >= 1");
  if (s.kind == "step") {
    require(s.decay_steps >= 1, "--lr-decay-steps", s.decay_steps,
            "an integer >= 1 with --lr-schedule step");
  }
  require(s.decay_factor > 0.0f && s.decay_factor <= 1.0f, "--lr-decay-factor", s.decay_factor,
          "a number in (0, 1]");
  require(std::isfinite(t.optimizer.weight_decay) && t.optimizer.weight_decay >= 0.0f,
          "--weight-decay", t.optimizer.weight_decay, "a number >= 0");
  require(std::isfinite(t.clip_grad_norm) && t.clip_grad_norm >= 0.0f, "--clip-grad-norm",
          t.clip_grad_norm, "a number >= 0 (0 = off)");
  require(t.accumulate >= 1, "--accumulate", t.accumulate, "an integer >= 1");
  require(t.early_stopping >= 0, "--early-stopping", t.early_stopping,
          "an integer >= 0 (epochs without improvement; 0 = off)");
  require(t.monitor.empty() || t.monitor == "val_loss" || t.monitor == "val_acc" ||
              t.monitor == "val_bpc" || t.monitor == "val_mse",
          "--monitor", t.monitor, "val_loss, val_acc, val_bpc or val_mse");
  if (!t.monitor.empty() && t.early_stopping == 0 && !t.keep_best) {
    throw ConfigError("--monitor: needs --early-stopping or --keep-best");
  }
}

// The checks, in the order they report: the first failing one names its option.
void validate(TrainOptions& o, const TextOptions& text) {
  auto& t = o.train;
  require(t.epochs >= 1, "--epochs", t.epochs, "an integer >= 1");
  require(t.global_batch >= 1, "--batch-size", t.global_batch,
          "an integer >= 1 (and >= the number of ranks)");
  require(t.lr > 0.0f, "--lr", t.lr, "a number > 0");
  require(t.warmup_epochs >= 0.0, "--warmup-epochs", t.warmup_epochs, "a number >= 0");
  validate_recipe(t);
  require(t.max_steps >= 0, "--max-steps", t.max_steps, "an integer >= 0");
  require(t.checkpoint_every_steps >= 0, "--checkpoint-every-steps", t.checkpoint_every_steps,
          "an integer >= 0");
  require(o.keep >= 1, "--keep", o.keep, "an integer >= 1");
  require(t.image_scale >= 0 && t.image_scale <= 16, "--image-scale", t.image_scale,
          "an integer in [0, 16] (0 = automatic)");
  if (t.keep_best && o.checkpoint_dir.empty()) {
    throw ConfigError("--keep-best: keeps a checkpoint, and --checkpoint-dir is not set");
  }
  if (o.plot && t.metrics_path.empty()) {
    throw ConfigError("--plot: plots the --metrics file, which is not set");
  }
  if (o.resume && o.resume_path.empty() && o.checkpoint_dir.empty()) {
    throw ConfigError(
        "--resume: without a PATH it resumes from --checkpoint-dir, which is not set");
  }
  check_threads(o.threads);
  check_model(t.model_name);
  const auto& k = t.optimizer.kind;
  require(k == "sgd" || k == "momentum" || k == "adam" || k == "adamw", "--optimizer", k,
          "one of sgd, momentum, adam, adamw");
  if (t.optimizer.weight_decay > 0.0f && k != "adamw") {
    throw ConfigError("--weight-decay: decoupled weight decay needs --optimizer adamw (got " + k +
                      ")");
  }
  require(text.lr_scaling == "none" || text.lr_scaling == "linear", "--lr-scaling", text.lr_scaling,
          "none or linear");
  t.linear_lr_scaling = text.lr_scaling == "linear";
  require(o.allreduce == "auto" || comm::parse_algo(o.allreduce).has_value(), "--allreduce",
          o.allreduce, "auto, ring, rd, rabenseifner, hierarchical or mpi");
  if (!o.allreduce_table_path.empty()) {
    o.allreduce_table = comm::AlgorithmTable::read_file(o.allreduce_table_path);
  }
  require(o.overlap == "on" || o.overlap == "off", "--overlap", o.overlap, "on or off");
  t.overlap = o.overlap == "on";
  t.bucket_mb = parse_bucket_mb(o.bucket_mb);
  // Seconds as a user would write them; below 1 s a descheduled rank would trip it.
  require(o.comm_timeout == 0.0 || (o.comm_timeout >= 1.0 && o.comm_timeout <= 604800.0),
          "--comm-timeout", o.comm_timeout, "0 (off) or seconds in [1, 604800]");
  require(o.stall_warning == 0.0 || (o.stall_warning >= 1.0 && o.stall_warning <= 604800.0),
          "--stall-warning", o.stall_warning, "0 (off) or seconds in [1, 604800]");
  comm::parse_compression(t.grad_compression);  // throws ConfigError naming the option
  if (t.error_feedback && t.grad_compression == "none") {
    throw ConfigError("--error-feedback: needs --grad-compression fp16 or bf16");
  }
  t.progress = parse_progress(text.progress);
}

}  // namespace

Parsed<TrainOptions> parse_train_options(std::vector<std::string> args) {
  // `--resume PATH` as two words: Boost only binds an implicit value written --resume=PATH.
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--resume" && !args[i + 1].starts_with("-")) {
      args[i] += "=" + args[i + 1];
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i) + 1);
    }
  }
  TrainOptions o;
  TextOptions text;
  const auto desc = train_options(o, text);
  po::variables_map vm;
  store_args(desc, args, vm);
  if (vm.count("config")) store_config_file(desc, vm["config"].as<std::string>(), vm);
  po::notify(vm);
  if (vm.count("help")) return HelpText{help_for(desc, "dtrain train")};
  o.resume = vm.count("resume") > 0;
  o.lr_given = !vm["lr"].defaulted();
  o.batch_size_given = !vm["batch-size"].defaulted();
  validate(o, text);
  return o;
}

}  // namespace dtrain::cli
