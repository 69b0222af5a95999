#pragma once
// --data text:FILE: any file read as a stream of bytes (UTF-8 text is read byte by byte, so a
// multi-byte character is several tokens), for character-level language models.
//  - vocabulary: the distinct bytes present in the file, sorted; token id i is the i-th of them
//    (at most 256). The vocabulary is that of the whole file, so the held-out tail never
//    meets an unknown id.
//  - examples: the file cut into non-overlapping sequences of seq_len + 1 bytes from its
//    start (a ragged tail shorter than that is dropped); an example is [seq_len + 1, 1, 1]
//    ids stored as floats. A language model reads the first seq_len as input and predicts
//    the last seq_len (each position's next byte), so every example is seq_len predictions.
//  - splits, in file order: the last max(1, n/20) sequences are the test set, the
//    max(1, n/20) before them the validation set, the rest (at least one) training.
//    Sequences are examples, so the sharded sampler shuffles and shards them like images.
#include <string>

#include "data/dataset.h"

namespace dtrain::data {

inline constexpr const char* kTextDataPrefix = "text:";

// Fewest sequences a text file must hold: one each for training, validation and test.
inline constexpr std::size_t kMinTextSequences = 3;

// Throws DataError (exit 3) naming the file when it cannot be read, is empty, or holds
// fewer than kMinTextSequences sequences of seq_len + 1 bytes; ConfigError (exit 2) when
// seq_len < 1 (it comes from the model).
DataSplits load_text_data(const std::string& path, int seq_len);

// The sorted distinct bytes of `text` (the vocabulary of a file holding it).
std::string text_vocabulary(const std::string& text);

}  // namespace dtrain::data
