// The command line: defaults, every invalid value naming its option, INI config files,
// and the model spec loader's errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli/command_line.h"
#include "cli/model_registry.h"
#include "core/errors.h"
#include "nn/language_model_spec.h"
#include "train/train_config.h"

namespace dtrain::cli {
namespace {

CommandLine parse(std::vector<std::string> args) {
  args.insert(args.begin(), "dtrain");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

// The options of the command that args name (a test failure if it is another command).
template <typename Options>
Options parse_as(Command command, std::vector<std::string> args) {
  const auto line = parse(std::move(args));
  EXPECT_EQ(line.command, command);
  return std::get<Options>(line.options);
}

TrainOptions parse_train(std::vector<std::string> args) {
  return parse_as<TrainOptions>(Command::kTrain, std::move(args));
}

BenchAllreduceOptions parse_bench(std::vector<std::string> args) {
  return parse_as<BenchAllreduceOptions>(Command::kBenchAllreduce, std::move(args));
}

void expect_config_error(std::vector<std::string> args, const std::string& option) {
  try {
    parse(args);
    ADD_FAILURE() << "expected ConfigError for " << args[0];
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(option), std::string::npos) << e.what();
    EXPECT_EQ(e.exit_code(), kExitUsage);
  }
}

TEST(CliOptions, DefaultsMatchDesign) {
  const auto line = parse({});
  EXPECT_EQ(line.command, Command::kTrain);
  const auto& o = std::get<TrainOptions>(line.options);
  EXPECT_EQ(o.train.model_name, "cnn");
  EXPECT_EQ(o.data.path, "/usr/share/datasets/fashion-mnist");
  EXPECT_EQ(o.train.epochs, 5);
  EXPECT_EQ(o.train.global_batch, 128);
  EXPECT_EQ(o.train.optimizer.kind, "adam");
  EXPECT_FLOAT_EQ(o.train.lr, 0.001f);
  EXPECT_FALSE(o.train.linear_lr_scaling);
  EXPECT_EQ(o.train.seed, 0u);
  EXPECT_EQ(o.data.val_size, 5000u);
  EXPECT_EQ(o.train.max_steps, 0);
  EXPECT_EQ(o.threads, 1);
  EXPECT_EQ(o.allreduce, "auto");
  EXPECT_EQ(o.allreduce_table.fingerprint(), comm::AlgorithmTable::builtin().fingerprint());
  EXPECT_EQ(o.train.progress, train::ProgressMode::kAuto);
  EXPECT_DOUBLE_EQ(o.comm_timeout, 600.0);
  EXPECT_DOUBLE_EQ(o.stall_warning, 60.0);
  EXPECT_EQ(parse_train({"train", "--epochs", "2"}).train.epochs, 2);
  EXPECT_DOUBLE_EQ(parse_train({"--comm-timeout", "0", "--stall-warning", "0"}).comm_timeout, 0.0);
  EXPECT_DOUBLE_EQ(parse_train({"--comm-timeout", "2.5"}).comm_timeout, 2.5);
}

TEST(CliOptions, InvalidValuesNameTheOption) {
  expect_config_error({"--batch-size", "0"}, "--batch-size");
  expect_config_error({"--lr", "-0.1"}, "--lr");
  expect_config_error({"--lr", "0"}, "--lr");
  expect_config_error({"--optimizer", "adagrad"}, "--optimizer");
  expect_config_error({"--epochs", "0"}, "--epochs");
  expect_config_error({"--threads", "0"}, "--threads");
  expect_config_error({"--lr-scaling", "sqrt"}, "--lr-scaling");
  expect_config_error({"--allreduce", "tree"}, "--allreduce");
  expect_config_error({"--progress", "sometimes"}, "--progress");
  expect_config_error({"--warmup-epochs", "-1"}, "--warmup-epochs");
  expect_config_error({"--max-steps", "-3"}, "--max-steps");
  expect_config_error({"--comm-timeout", "-1"}, "--comm-timeout");
  expect_config_error({"--comm-timeout", "0.5"}, "--comm-timeout");  // below 1 s
  expect_config_error({"--comm-timeout", "1e9"}, "--comm-timeout");
  expect_config_error({"--comm-timeout", "soon"}, "comm-timeout");
  expect_config_error({"--stall-warning", "-5"}, "--stall-warning");
  expect_config_error({"--stall-warning", "nan"}, "--stall-warning");
  expect_config_error({"--epochs", "five"}, "epochs");
  expect_config_error({"--no-such-option"}, "no-such-option");
  expect_config_error({"frobnicate"}, "frobnicate");
  expect_config_error({"bench", "allgather"}, "bench");
  expect_config_error({"bench", "allreduce", "--algo", "ring,tree"}, "--algo");
  expect_config_error({"bench", "allreduce", "--tune"}, "--output");
  expect_config_error({"bench", "allreduce", "--output", "t.txt"}, "--tune");
}

TEST(CliOptions, EveryAllreduceAlgorithmIsAccepted) {
  for (const char* algo : {"auto", "ring", "rd", "rabenseifner", "hierarchical", "mpi"}) {
    EXPECT_EQ(parse_train({"--allreduce", algo}).allreduce, algo);
  }
  const auto bench =
      parse_bench({"bench", "allreduce", "--algo", "auto,ring,rd,rabenseifner,hierarchical,mpi"});
  EXPECT_EQ(bench.bench.algos.size(), 6u);
  const auto tune = parse_bench({"bench", "allreduce", "--tune", "--output", "t.txt"});
  EXPECT_EQ(tune.bench.algos,
            (std::vector<std::string>{"ring", "rd", "rabenseifner", "hierarchical"}));
}

TEST(CliOptions, AllreduceTableFileIsReadAndBadOnesNameFileAndLine) {
  const auto dir = std::filesystem::temp_directory_path() / "dtrain_table_test";
  std::filesystem::create_directories(dir);
  const auto good = (dir / "good.txt").string();
  std::ofstream(good) << "# tuned\nshm 4096 rd\nshm max ring\n";
  const auto o = parse_train({"--allreduce-table", good});
  EXPECT_EQ(o.allreduce_table.choose(comm::Topology::kSharedHosts, 4096),
            comm::AllreduceAlgo::kRecursiveDoubling);
  EXPECT_EQ(o.allreduce_table.choose(comm::Topology::kSharedHosts, 4097),
            comm::AllreduceAlgo::kRing);
  // The net section is the built-in one.
  EXPECT_EQ(o.allreduce_table.entries(comm::Topology::kOneRankPerHost),
            comm::AlgorithmTable::builtin().entries(comm::Topology::kOneRankPerHost));
  EXPECT_NE(o.allreduce_table.fingerprint(), comm::AlgorithmTable::builtin().fingerprint());
  // The same option from a config file.
  const auto ini = (dir / "run.ini").string();
  std::ofstream(ini) << "allreduce-table = " << good << "\n";
  EXPECT_EQ(parse_train({"--config", ini}).allreduce_table.fingerprint(),
            o.allreduce_table.fingerprint());
  EXPECT_EQ(
      parse_bench({"bench", "allreduce", "--allreduce-table", good}).allreduce_table.fingerprint(),
      o.allreduce_table.fingerprint());

  const std::vector<std::pair<std::string, std::string>> bad{
      {"shm 4096 rd\nshm 100 ring\nshm max ring\n", ":2:"},  // sizes must increase
      {"shm 4096 rd\n", ":1:"},                              // no max
      {"\n\nshm 4096 tree\n", ":3:"},                        // unknown algorithm
      {"shm max mpi\n", ":1:"},                              // not one of ours
      {"gpu max ring\n", ":1:"},                             // unknown topology
      {"shm -5 ring\nshm max ring\n", ":1:"},                // bad size
      {"shm 12x ring\n", ":1:"},
      {"shm max ring extra\n", ":1:"},
      {"shm max\n", ":1:"},
      {"# only a comment\n", ":1:"},  // no entries
  };
  for (const auto& [text, where] : bad) {
    const auto path = (dir / "bad.txt").string();
    std::ofstream(path) << text;
    try {
      parse({"--allreduce-table", path});
      ADD_FAILURE() << "accepted " << text;
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_EQ(e.exit_code(), kExitBadInput) << message;
      EXPECT_NE(message.find(path + where), std::string::npos) << message;
    }
  }
  try {
    parse({"--allreduce-table", (dir / "missing.txt").string()});
    ADD_FAILURE() << "accepted a missing table";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), kExitBadInput);
    EXPECT_NE(std::string(e.what()).find("missing.txt"), std::string::npos);
  }
  // A written table reads back the same.
  const auto round = comm::AlgorithmTable::parse(o.allreduce_table.to_text(), "round-trip");
  EXPECT_EQ(round.fingerprint(), o.allreduce_table.fingerprint());
  std::filesystem::remove_all(dir);
}

TEST(CliOptions, ConfigFileReadsTheSameOptionsAndCommandLineWins) {
  const auto path = std::filesystem::path(::testing::TempDir()) / "dtrain_test.ini";
  {
    std::ofstream out(path);
    out << "# a comment\nepochs = 3\nbatch-size = 64\noptimizer = momentum\nlr = 0.05\n";
  }
  const auto o = parse_train({"--config", path.string(), "--epochs", "7"});
  EXPECT_EQ(o.train.epochs, 7);
  EXPECT_EQ(o.train.global_batch, 64);
  EXPECT_EQ(o.train.optimizer.kind, "momentum");
  EXPECT_FLOAT_EQ(o.train.lr, 0.05f);
  {
    std::ofstream out(path);
    out << "lr = -1\n";
  }
  expect_config_error({"--config", path.string()}, "--lr");
  {
    std::ofstream out(path);
    out << "bogus-key = 1\n";
  }
  expect_config_error({"--config", path.string()}, "bogus-key");
  expect_config_error({"--config", "/nonexistent/dtrain.ini"}, "--config");
}

// Found by fuzz/fuzz_config_file (its corpus keeps the input): Boost.Program_options builds
// an error message by replacing each %placeholder% with the user's text until none is left,
// so a token holding its own placeholder hung dtrain forever instead of exiting 2.
TEST(CliOptions, PercentPlaceholdersInBadOptionsDoNotHang) {
  expect_config_error({"--ch%original_token%x"}, "original_token");
  expect_config_error({"--epochs=%value%"}, "--epochs");
  expect_config_error({"--x%option%y"}, "option");
  const auto path = std::filesystem::path(::testing::TempDir()) / "dtrain_percent.ini";
  {
    std::ofstream out(path);
    out << "checkpoint-dir = /tmp/x\nch%original_token%teps = 03\n";
  }
  expect_config_error({"--config", path.string()}, "original_token");
  {
    std::ofstream out(path);
    out << "epochs = %value%\n";
  }
  expect_config_error({"--config", path.string()}, "epochs");
}

TEST(CliOptions, HelpVersionAndBench) {
  const auto help = parse({"--help"});
  EXPECT_EQ(help.command, Command::kHelp);
  for (const char* opt : {"--model", "--data", "--epochs", "--batch-size", "--optimizer", "--lr",
                          "--lr-scaling", "--warmup-epochs", "--seed", "--val-size", "--max-steps",
                          "--threads", "--allreduce", "--metrics", "--progress", "--config"}) {
    EXPECT_NE(help.help_text.find(opt), std::string::npos) << opt;
  }
  EXPECT_NE(help.help_text.find("(=128)"), std::string::npos);  // defaults are listed
  EXPECT_EQ(parse({"--version"}).command, Command::kVersion);
  const auto bench =
      parse_bench({"bench", "allreduce", "--max-bytes", "1024", "--algo", "ring", "--json"});
  EXPECT_EQ(bench.bench.max_bytes, 1024u);
  EXPECT_EQ(bench.bench.algos, std::vector<std::string>{"ring"});
  EXPECT_TRUE(bench.json);
}

TEST(ModelRegistry, BuiltinsParseAndBuildWithExpectedSizes) {
  auto cnn = nn::build_model(load_model_config("cnn"));
  EXPECT_EQ(cnn->arena().num_params(), 693962u);  // the reference network
  EXPECT_EQ(cnn->output_shape(), (tensor::Shape{10}));
  auto mlp = nn::build_model(load_model_config("mlp"));
  EXPECT_EQ(mlp->arena().num_params(), 784u * 256 + 256 + 256 * 10 + 10);
  const auto autoencoder = nn::build_networks(load_model_config("autoencoder"));
  ASSERT_EQ(autoencoder.size(), 1u);
  EXPECT_EQ(autoencoder[0].model->arena().num_params(),
            784u * 256 + 256 + 256 * 64 + 64 + 64 * 256 + 256 + 256 * 784 + 784);
  EXPECT_EQ(autoencoder[0].model->output_shape(), (tensor::Shape{28, 28, 1}));
  const auto gan_mlp = nn::build_networks(load_model_config("gan-mlp"));
  ASSERT_EQ(gan_mlp.size(), 2u);
  EXPECT_EQ(gan_mlp[0].role, "generator");
  EXPECT_EQ(gan_mlp[0].model->arena().num_params(), 64u * 256 + 256 + 256 * 784 + 784);
  EXPECT_EQ(gan_mlp[0].model->output_shape(), (tensor::Shape{28, 28, 1}));
  EXPECT_EQ(gan_mlp[1].role, "discriminator");
  EXPECT_EQ(gan_mlp[1].model->arena().num_params(), 784u * 256 + 256 + 256 + 1);
  // The DCGAN: dense 100 -> 7x7x64 (no bias), batchnorm (4 x 64: gamma, beta, running mean
  // and variance), conv2d_transpose 64 -> 32 (no bias), batchnorm, conv2d_transpose 32 -> 1.
  const auto gan = nn::build_networks(load_model_config("gan"));
  ASSERT_EQ(gan.size(), 2u);
  EXPECT_EQ(gan[0].model->arena().num_params(),
            100u * 3136 + 4 * 64 + 64u * 16 * 32 + 4 * 32 + 32u * 16 + 1);
  EXPECT_EQ(gan[0].model->input_shape(), (tensor::Shape{1, 1, 100}));
  EXPECT_EQ(gan[0].model->output_shape(), (tensor::Shape{28, 28, 1}));
  // conv 1 -> 32, conv 32 -> 64 (no bias), batchnorm, dense 7x7x64 -> 1.
  EXPECT_EQ(gan[1].model->arena().num_params(), 16u * 32 + 32 + 32u * 16 * 64 + 4 * 64 + 3136 + 1);
}

// The parameter count models/conv-autoencoder.pbtxt states, and an output the size of its input.
TEST(ModelRegistry, ConvAutoencoderHasItsStatedSize) {
  const auto networks = nn::build_networks(load_model_config("conv-autoencoder"));
  ASSERT_EQ(networks.size(), 1u);
  EXPECT_EQ(networks[0].model->arena().num_params(), (9u * 16 + 16) + (9 * 16 * 32 + 32) +
                                                         (32 * 8 + 8) + (9 * 8 * 32 + 32) +
                                                         (9 * 32 * 16 + 16) + (9 * 16 + 1));
  EXPECT_EQ(networks[0].model->arena().num_params(), 12169u);
  EXPECT_EQ(networks[0].model->output_shape(), (tensor::Shape{28, 28, 1}));
}

TEST(ModelRegistry, GanSpecsThatDoNotFitNameTheProblem) {
  const std::string generator =
      "generator { input_height: 1 input_width: 1 input_channels: 4\n"
      "  layers { type: \"flatten\" } layers { type: \"dense\" units: 16 }\n"
      "  layers { type: \"reshape\" shape: [4, 4, 1] } }\n";
  const std::string discriminator =
      "discriminator { input_height: 4 input_width: 4 input_channels: 1\n"
      "  layers { type: \"flatten\" } layers { type: \"dense\" units: 1 } }\n";
  auto expect_model_error = [](const std::string& text, const std::string& expected) {
    try {
      nn::build_networks(parse_model_spec(text, "g.pbtxt"));
      ADD_FAILURE() << "expected ModelError with '" << expected << "'";
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  EXPECT_EQ(
      nn::build_networks(
          parse_model_spec("task: \"gan\" noise_dim: 4\n" + generator + discriminator, "g.pbtxt"))
          .size(),
      2u);
  expect_model_error("task: \"gan\" noise_dim: 5\n" + generator + discriminator, "noise_dim");
  expect_model_error("task: \"gan\" noise_dim: 4\n" + generator, "discriminator");
  expect_model_error("task: \"gann\"\n", "unknown task");
  // image_range is a GAN's; a bad enum value is a parse error with its position.
  expect_model_error(
      "image_range: MINUS_ONE_TO_ONE input_height: 1 input_width: 1 input_channels: 1\n"
      "layers { type: \"flatten\" }\n",
      "image_range");
  expect_model_error("task: \"gan\" image_range: MINUS_TWO\n", "MINUS_TWO");
}

TEST(ModelRegistry, EveryFileInModelsParsesAndBuilds) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(DTRAIN_SOURCE_DIR "/models")) {
    if (entry.path().extension() != ".pbtxt") continue;
    SCOPED_TRACE(entry.path().string());
    // A GAN spec holds two networks; every network of every spec must build.
    auto config = load_model_config(entry.path().string());
    // A language model's vocabulary sizes come from its data (0 in the spec).
    if (config.task_kind() == nn::kTaskLanguageModel) nn::resolve_vocabulary(config, "abc\n");
    const auto networks = nn::build_networks(config);
    ASSERT_FALSE(networks.empty());
    for (const auto& n : networks) EXPECT_GT(n.model->arena().num_params(), 0u) << n.role;
    EXPECT_TRUE(is_builtin_model(entry.path().stem().string()));
    ++count;
  }
  EXPECT_EQ(count, static_cast<int>(builtin_model_names().size()));
}

// A model file's own recipe: its lr unless --lr is given, its Adam beta1 for Adam only.
TEST(ModelRegistry, ModelDefaultsGiveTheRecipeUnlessTheCommandLineOverrides) {
  const auto gan = load_model_config("gan");
  EXPECT_FLOAT_EQ(gan.defaults.lr, 2e-4f);
  EXPECT_FLOAT_EQ(gan.defaults.adam_beta1, 0.5f);
  EXPECT_EQ(gan.defaults.batch_size, 0);
  EXPECT_EQ(load_model_config("charlstm").defaults.batch_size, 32);
  train::TrainConfig config;
  config.model_spec = gan;
  config.apply_model_defaults(/*lr_given=*/false);
  EXPECT_FLOAT_EQ(config.lr, 2e-4f);
  EXPECT_FLOAT_EQ(config.optimizer.beta1, 0.5f);

  train::TrainConfig given;
  given.model_spec = gan;
  given.lr = 0.01f;
  given.apply_model_defaults(/*lr_given=*/true);
  EXPECT_FLOAT_EQ(given.lr, 0.01f);
  EXPECT_FLOAT_EQ(given.optimizer.beta1, 0.5f);

  train::TrainConfig momentum;
  momentum.model_spec = gan;
  momentum.optimizer.kind = "momentum";
  const float beta1 = momentum.optimizer.beta1;
  momentum.apply_model_defaults(false);
  EXPECT_EQ(momentum.optimizer.beta1, beta1);

  // No defaults: the command line's values stand.
  train::TrainConfig plain;
  plain.model_spec = load_model_config("cnn");
  plain.apply_model_defaults(false);
  EXPECT_FLOAT_EQ(plain.lr, 0.001f);
  EXPECT_FLOAT_EQ(plain.optimizer.beta1, 0.9f);
}

TEST(ModelRegistry, BadModelDefaultsNameTheField) {
  const std::string net =
      "input_height: 2 input_width: 2 input_channels: 1\n"
      "layers { type: \"flatten\" } layers { type: \"dense\" units: 2 }\n";
  EXPECT_EQ(nn::build_networks(parse_model_spec(net + "defaults { lr: 0.01 }", "d.pbtxt")).size(),
            1u);
  for (const auto& [bad, field] : std::vector<std::pair<std::string, std::string>>{
           {"defaults { lr: -0.01 }", "defaults.lr"},
           {"defaults { lr: nan }", "defaults.lr"},
           {"defaults { adam_beta1: 1.0 }", "defaults.adam_beta1"},
           {"defaults { adam_beta1: -0.5 }", "defaults.adam_beta1"},
           {"defaults { batch_size: -2 }", "defaults.batch_size"}}) {
    try {
      nn::build_networks(parse_model_spec(net + bad, "d.pbtxt"));
      ADD_FAILURE() << "expected ModelError for " << bad;
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
      EXPECT_EQ(e.exit_code(), kExitBadInput);
    }
  }
  EXPECT_THROW(parse_model_spec(net + "defaults { momentum: 0.9 }", "d.pbtxt"), ModelError);
}

TEST(ModelRegistry, BadSpecsGiveClearErrors) {
  try {
    parse_model_spec("name: \"x\"\nlayers { type: \"dense\" units: abc }\n", "bad.pbtxt");
    FAIL();
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bad.pbtxt"), std::string::npos) << msg;
    EXPECT_NE(msg.find("line 2"), std::string::npos) << msg;
    EXPECT_EQ(e.exit_code(), kExitBadInput);
  }
  // Parses, but the shapes do not fit: the error names the layer.
  const auto impossible = parse_model_spec(
      "input_height: 4 input_width: 4 input_channels: 1\n"
      "layers { type: \"conv2d\" name: \"huge\" filters: 2 kernel: 9 }\n",
      "impossible.pbtxt");
  try {
    nn::build_model(impossible);
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("huge"), std::string::npos) << e.what();
  }
  expect_config_error({"--model", "resnet9000"}, "--model");
  EXPECT_THROW(load_model_config("resnet9000"), ConfigError);
}

}  // namespace
}  // namespace dtrain::cli
