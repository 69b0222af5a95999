#pragma once
// The metrics file of docs/design.md "Metrics file": one JSON object per line, written by rank 0 only and
// flushed after each line so a killed job keeps every finished epoch.
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace dtrain::train {

class MetricsWriter {
 public:
  // An empty path disables the writer. Throws ConfigError naming --metrics when the file
  // cannot be opened.
  MetricsWriter(const std::string& path, bool append);
  bool enabled() const { return out_.is_open(); }
  void write(const nlohmann::json& line);

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace dtrain::train
