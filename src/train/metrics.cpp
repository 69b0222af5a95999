#include "train/metrics.h"

#include "core/errors.h"

namespace dtrain::train {

MetricsWriter::MetricsWriter(const std::string& path, bool append) : path_(path) {
  if (path.empty()) return;
  out_.open(path, append ? std::ios::app : std::ios::trunc);
  if (!out_) throw ConfigError("--metrics: cannot open '" + path + "' for writing");
}

void MetricsWriter::write(const nlohmann::json& line) {
  if (!enabled()) return;
  out_ << line.dump() << '\n';
  out_.flush();
  if (!out_) throw TrainingError("--metrics: writing '" + path_ + "' failed (disk full?)");
}

}  // namespace dtrain::train
