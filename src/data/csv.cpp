#include "data/csv.h"

#include <charconv>
#include <cmath>

#include "core/errors.h"
#include "data/npy.h"

namespace dtrain::data {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_cells(std::string_view line) {
  std::vector<std::string_view> cells;
  while (true) {
    const auto comma = line.find(',');
    cells.push_back(trim(line.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    line.remove_prefix(comma + 1);
  }
  return cells;
}

std::string printable(std::string_view cell) {
  std::string out;
  for (const char c : cell.substr(0, 40)) {
    out += (c >= 32 && c < 127) ? c : '?';
  }
  return cell.size() > 40 ? out + "..." : out;
}

}  // namespace

CsvTable parse_csv(std::string_view text, const std::string& what,
                   const std::string& label_column) {
  // Trailing blank lines are not rows.
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  if (text.empty()) {
    throw DataError(what + ": file is empty (expected a header row and numeric rows)");
  }
  std::size_t line_no = 1;
  auto next_line = [&text]() {
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    return line;
  };

  std::vector<std::string> names;
  for (std::string_view cell : split_cells(next_line())) {
    if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"') {
      cell = cell.substr(1, cell.size() - 2);
    }
    names.emplace_back(cell);
  }
  if (names.size() < 2) {
    throw DataError(what + " line 1: header has " + std::to_string(names.size()) +
                    " column (expected a header row naming at least one feature and the label)");
  }
  std::size_t label = names.size() - 1;
  if (!label_column.empty()) {
    std::size_t index = 0;
    const auto [end, ec] =
        std::from_chars(label_column.data(), label_column.data() + label_column.size(), index);
    bool found = false;
    for (std::size_t c = 0; c < names.size() && !found; ++c) {
      if (names[c] == label_column) label = c, found = true;
    }
    if (!found && ec == std::errc() && end == label_column.data() + label_column.size() &&
        index < names.size()) {
      label = index, found = true;
    }
    if (!found) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "'" : ", '") + n + "'";
      throw DataError(what + ": --label-column '" + label_column +
                      "' is neither a header name nor a column index 0.." +
                      std::to_string(names.size() - 1) + " (the header has " + list + ")");
    }
  }

  CsvTable t;
  t.label_name = names[label];
  for (std::size_t c = 0; c < names.size(); ++c) {
    if (c != label) t.feature_names.push_back(names[c]);
  }
  while (!text.empty()) {
    ++line_no;
    const auto cells = split_cells(next_line());
    if (cells.size() != names.size()) {
      throw DataError(what + " line " + std::to_string(line_no) + ": " +
                      std::to_string(cells.size()) + " cells (expected " +
                      std::to_string(names.size()) + ", as in the header)");
    }
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::string_view cell = cells[c];
      const auto bad = [&](const std::string& expected) {
        return DataError(what + " line " + std::to_string(line_no) + ", column " +
                         std::to_string(c + 1) + " ('" + names[c] + "'): '" + printable(cell) +
                         "' (expected " + expected + ")");
      };
      if (c == label) {
        std::int32_t v = 0;
        const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
        if (ec != std::errc() || end != cell.data() + cell.size() || v < 0) {
          throw bad("a class index: an integer >= 0");
        }
        t.labels.push_back(v);
        continue;
      }
      float v = 0.0f;
      const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
      if (cell.empty() || ec != std::errc() || end != cell.data() + cell.size() ||
          !std::isfinite(v)) {
        throw bad("a finite number");
      }
      t.features.push_back(v);
    }
  }
  if (t.labels.empty()) {
    throw DataError(what + ": a header but no rows (expected at least one example)");
  }
  return t;
}

CsvTable read_csv(const std::string& path, const std::string& label_column) {
  const auto bytes = read_file_bytes(path, "a CSV file with a header row");
  return parse_csv(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                   path, label_column);
}

}  // namespace dtrain::data
