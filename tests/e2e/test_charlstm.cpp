// Character-level language modelling end to end: a tiny charlstm (the built-in's layers,
// narrower) trains for a few steps under mpiexec -np 2 on a small generated text file, reports
// bits per character, and `dtrain sample` prints the requested number of characters, all from
// the file's vocabulary, from nothing but the checkpoint. The built-in itself builds from
// --model charlstm, and bad text files fail with exit 3 naming the file. A tiny GPT
// (transformer blocks) trains, samples and exports the same way.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

#include "testing/run_command.h"

namespace dtrain::testing {
namespace {

using nlohmann::json;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// ~6 KB of words over a 15-character vocabulary.
std::string write_corpus(const std::string& dir) {
  const char* words[] = {"the ", "cat ", "sat ", "on ", "a ", "mat.\n", "dog ", "ran "};
  std::string text;
  for (unsigned i = 0; text.size() < 6000; ++i) text += words[(i * 2654435761u >> 7) % 8];
  const auto path = dir + "/corpus.txt";
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string tiny_charlstm(const std::string& dir) {
  const auto path = dir + "/tiny_charlstm.pbtxt";
  std::ofstream(path) << "name: 'tiny_charlstm' task: 'language_model'\n"
                         "input_height: 20 input_width: 1 input_channels: 1\n"
                         "layers { type: 'embedding' vocab: 0 units: 8 }\n"
                         "layers { type: 'lstm' units: 24 return_sequences: true }\n"
                         "layers { type: 'dense' units: 0 per_step: true }\n";
  return path;
}

TEST(CharLstm, TrainsUnderTwoRanksThenSamplesFromTheCheckpoint) {
  const auto dir = make_temp_dir("charlstm");
  const auto corpus = write_corpus(dir);
  const auto metrics = dir + "/metrics.jsonl";
  const auto r = run_dtrain(2, "--model " + tiny_charlstm(dir) + " --data text:" + corpus +
                                   " --epochs 3 --batch-size 16 --lr 0.01 "
                                   "--progress never --metrics " +
                                   metrics + " --checkpoint-dir " + dir + "/ckpt");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("task language_model"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("test_bpc"), std::string::npos) << r.output;
  const auto lines = read_lines(metrics);
  ASSERT_EQ(lines.size(), 4u) << r.output;  // three epochs, the final line
  const auto first = json::parse(lines[0]), last = json::parse(lines[3]);
  for (const char* key : {"train_bpc", "val_bpc", "train_loss", "val_loss"}) {
    ASSERT_TRUE(first.contains(key)) << key << " in " << lines[0];
  }
  EXPECT_FALSE(first.contains("train_acc"));
  ASSERT_TRUE(last.contains("test_bpc")) << lines[3];
  // Below the uniform guess over the vocabulary (log2 of the 15 distinct bytes, 3.9 bits).
  EXPECT_LT(last["test_bpc"].get<double>(), 3.5) << lines[3];
  EXPECT_GT(last["test_bpc"].get<double>(), 0.0);

  // `dtrain sample`: the prime, then --length characters of the corpus' vocabulary, a newline.
  const std::string corpus_text = read_file(corpus);
  const std::set<char> vocabulary(corpus_text.begin(), corpus_text.end());
  const auto out = dir + "/sample.txt";
  const auto s = run_dtrain(0, "sample --checkpoint " + dir +
                                   "/ckpt --length 300 --temperature 0.8 --prime 'the ' "
                                   "--seed 4 > " +
                                   out);
  ASSERT_EQ(s.exit_code, 0) << read_file(out);
  const std::string text = read_file(out);
  ASSERT_EQ(text.size(), 4u + 300u + 1u) << text;
  EXPECT_EQ(text.substr(0, 4), "the ");
  EXPECT_EQ(text.back(), '\n');
  for (char c : text.substr(4, 300)) EXPECT_TRUE(vocabulary.count(c)) << int(c);
  // The same seed gives the same text.
  EXPECT_EQ(
      run_dtrain(0, "sample --checkpoint " + dir + "/ckpt --length 300 --prime 'the ' --seed 4")
          .output,
      text);

  // A prime outside the vocabulary and a non-language model are usage errors (exit 2).
  const auto bad_prime = run_dtrain(0, "sample --checkpoint " + dir + "/ckpt --prime 'XYZ'");
  EXPECT_EQ(bad_prime.exit_code, 2) << bad_prime.output;
  EXPECT_NE(bad_prime.output.find("vocabulary"), std::string::npos) << bad_prime.output;
  // eval on the same text reports the checkpoint's test figure.
  const auto e = run_dtrain(0, "eval --checkpoint " + dir + "/ckpt --data text:" + corpus);
  ASSERT_EQ(e.exit_code, 0) << e.output;
  EXPECT_NE(e.output.find("test_bpc"), std::string::npos) << e.output;
}

TEST(CharLstm, ATinyGptTrainsUnderTwoRanksThenSamplesAndExports) {
  const auto dir = make_temp_dir("tiny_gpt");
  const auto corpus = write_corpus(dir);
  const auto spec = dir + "/tiny_gpt.pbtxt";
  std::ofstream(spec) << "name: 'tiny_gpt' task: 'language_model'\n"
                         "input_height: 20 input_width: 1 input_channels: 1\n"
                         "layers { type: 'embedding' vocab: 0 units: 16 }\n"
                         "layers { type: 'position_embedding' }\n"
                         "layers { type: 'residual' layers { type: 'layernorm' }\n"
                         "  layers { type: 'attention' heads: 2 } }\n"
                         "layers { type: 'residual' layers { type: 'layernorm' }\n"
                         "  layers { type: 'dense' units: 32 per_step: true }\n"
                         "  layers { type: 'gelu' }\n"
                         "  layers { type: 'dense' units: 16 per_step: true } }\n"
                         "layers { type: 'layernorm' }\n"
                         "layers { type: 'dense' units: 0 per_step: true }\n";
  const auto metrics = dir + "/metrics.jsonl";
  const auto r = run_dtrain(2, "--model " + spec + " --data text:" + corpus +
                                   " --epochs 3 --batch-size 16 --lr 0.01 --progress never "
                                   "--metrics " +
                                   metrics + " --checkpoint-dir " + dir + "/ckpt");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto lines = read_lines(metrics);
  ASSERT_EQ(lines.size(), 4u) << r.output;
  const auto last = json::parse(lines[3]);
  // Below the uniform guess over the 15 distinct bytes (3.9 bits).
  EXPECT_LT(last["test_bpc"].get<double>(), 3.5) << lines[3];
  const auto s = run_dtrain(0, "sample --checkpoint " + dir + "/ckpt --length 50 --seed 1");
  ASSERT_EQ(s.exit_code, 0) << s.output;
  EXPECT_EQ(s.output.size(), 51u) << s.output;
  const auto e = run_dtrain(
      0, "export --checkpoint " + dir + "/ckpt --format onnx --output " + dir + "/gpt.onnx");
  EXPECT_EQ(e.exit_code, 0) << e.output;
}

TEST(CharLstm, BuiltinNeedsTextDataAndBadFilesNameTheFile) {
  const auto dir = make_temp_dir("charlstm_bad");
  const auto synthetic = run_dtrain(0, "--model charlstm --data synthetic --max-steps 1");
  EXPECT_EQ(synthetic.exit_code, 2) << synthetic.output;
  EXPECT_NE(synthetic.output.find("text:FILE"), std::string::npos) << synthetic.output;

  const auto missing = run_dtrain(0, "--model charlstm --data text:" + dir + "/none.txt");
  EXPECT_EQ(missing.exit_code, 3) << missing.output;
  EXPECT_NE(missing.output.find(dir + "/none.txt"), std::string::npos) << missing.output;

  const auto short_file = dir + "/short.txt";
  std::ofstream(short_file) << std::string(200, 'a');  // under 3 sequences of 101
  const auto too_short = run_dtrain(0, "--model charlstm --data text:" + short_file);
  EXPECT_EQ(too_short.exit_code, 3) << too_short.output;
  EXPECT_NE(too_short.output.find("at least 303 bytes"), std::string::npos) << too_short.output;

  // The built-in builds against real text: one step of the full-size network.
  const auto corpus = write_corpus(dir);
  const auto one = run_dtrain(0, "--model charlstm --data text:" + corpus +
                                     " --max-steps 1 --batch-size 4 --progress never");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  EXPECT_NE(one.output.find("model charlstm (task language_model"), std::string::npos)
      << one.output;
}

}  // namespace
}  // namespace dtrain::testing
