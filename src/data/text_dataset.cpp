#include "data/text_dataset.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>

#include "core/errors.h"

namespace dtrain::data {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open the text file (--data text:FILE)");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw DataError(path + ": read error in the text file (--data text:FILE)");
  return bytes;
}

// Sequences [first, first + count) of the file as a data set of [len, 1, 1] id examples.
Dataset sequences(const std::string& bytes, const std::array<int, 256>& id, std::size_t len,
                  std::size_t first, std::size_t count) {
  Dataset d;
  d.height = static_cast<int>(len);
  d.width = 1;
  d.channels = 1;
  d.values.resize(count * len);
  const auto* begin = reinterpret_cast<const unsigned char*>(bytes.data()) + first * len;
  for (std::size_t i = 0; i < count * len; ++i) d.values[i] = static_cast<float>(id[begin[i]]);
  return d;
}

}  // namespace

std::string text_vocabulary(const std::string& text) {
  std::array<bool, 256> present{};
  for (unsigned char c : text) present[c] = true;
  std::string vocabulary;
  for (int b = 0; b < 256; ++b) {
    if (present[b]) vocabulary.push_back(static_cast<char>(b));
  }
  return vocabulary;
}

DataSplits load_text_data(const std::string& path, int seq_len) {
  if (seq_len < 1) {
    throw ConfigError("--data text:" + path + ": the model's sequence length (input_height) is " +
                      std::to_string(seq_len) + ", expected >= 1");
  }
  const std::string bytes = read_file(path);
  const std::size_t len = static_cast<std::size_t>(seq_len) + 1;
  const std::size_t n = bytes.size() / len;
  if (n < kMinTextSequences) {
    throw DataError(path + ": " +
                    (bytes.empty() ? "empty" : std::to_string(bytes.size()) + " bytes") +
                    ", expected at least " + std::to_string(kMinTextSequences * len) +
                    " bytes of text (" + std::to_string(kMinTextSequences) +
                    " sequences of sequence length + 1 = " + std::to_string(len) +
                    " characters: training, validation and test)");
  }
  DataSplits splits;
  splits.vocabulary = text_vocabulary(bytes);
  std::array<int, 256> id{};
  for (std::size_t i = 0; i < splits.vocabulary.size(); ++i) {
    id[static_cast<unsigned char>(splits.vocabulary[i])] = static_cast<int>(i);
  }
  const std::size_t held_out = std::max<std::size_t>(1, n / 20);
  const std::size_t train = n - 2 * held_out;
  splits.train = sequences(bytes, id, len, 0, train);
  splits.val = sequences(bytes, id, len, train, held_out);
  splits.test = sequences(bytes, id, len, train + held_out, held_out);
  splits.description = "text " + path + " (" + std::to_string(bytes.size()) + " bytes, " +
                       std::to_string(splits.vocabulary.size()) + " distinct, sequences of " +
                       std::to_string(seq_len) + "+1)";
  return splits;
}

}  // namespace dtrain::data
