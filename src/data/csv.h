#pragma once
// CSV tables of numbers: a header row naming the columns, then one example per line,
// comma-separated, every cell a number (std::from_chars, so "1e-3", "-0.5", "nan" read as
// C++ does and locale plays no part). Header names may be double-quoted; cells are not.
// One column is the label (a non-negative integer); the others, in file order, are the
// example's features. Lines end in \n or \r\n; blank lines at the end are ignored.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dtrain::data {

struct CsvTable {
  std::vector<std::string> feature_names;
  std::vector<float> features;  // rows * feature_names.size(), row-major
  std::vector<std::int32_t> labels;
  std::string label_name;
  std::size_t rows() const { return labels.size(); }
};

// label_column: a header name, a 0-based index, or "" for the last column. Throws
// DataError naming `what`, the line and the column of the first bad cell, or the bad header,
// an empty file, a row with the wrong number of cells, a label that is not a class index.
// The CSV parser's fuzz entry (text of any bytes).
CsvTable parse_csv(std::string_view text, const std::string& what, const std::string& label_column);
CsvTable read_csv(const std::string& path, const std::string& label_column);

}  // namespace dtrain::data
