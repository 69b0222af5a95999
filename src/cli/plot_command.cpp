// dtrain plot: training curves from a metrics file, drawn by gnuplot (pngcairo, 1000x400).
// Panels by what the run logged: loss and accuracy (classifier, train against
// validation), MSE (autoencoder), or the discriminator's and generator's losses (GAN).
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/errors.h"

namespace dtrain::cli {
namespace {

struct Panel {
  std::string title;
  std::vector<std::string> keys;  // columns to draw, e.g. train_loss, val_loss
};

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

}  // namespace

void plot_metrics(const std::string& metrics_path, const std::string& png_path) {
  std::ifstream in(metrics_path);
  if (!in) throw DataError(metrics_path + ": cannot read (expected a dtrain metrics file)");
  std::vector<nlohmann::json> epochs;
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      throw DataError(metrics_path + " line " + std::to_string(line_no) +
                      ": not a JSON object (expected one metrics record per line)");
    }
    if (j.value("event", "") == "epoch") epochs.push_back(std::move(j));
  }
  if (epochs.empty()) {
    throw DataError(metrics_path + ": no epoch records (expected lines with \"event\":\"epoch\")");
  }
  std::vector<Panel> panels;
  const auto& first = epochs.front();
  if (first.contains("train_loss")) panels.push_back({"loss", {"train_loss", "val_loss"}});
  if (first.contains("train_acc")) panels.push_back({"accuracy", {"train_acc", "val_acc"}});
  if (first.contains("train_mse")) panels.push_back({"MSE", {"train_mse", "val_mse"}});
  if (first.contains("d_loss")) panels.push_back({"GAN losses", {"d_loss", "g_loss"}});
  if (panels.empty()) throw DataError(metrics_path + ": epoch records carry no known figures");

  // One data file: epoch then every key of every panel ("nan" where a record lacks it).
  const std::string data_path = png_path + ".dat";
  std::vector<std::string> columns;
  for (const auto& p : panels) columns.insert(columns.end(), p.keys.begin(), p.keys.end());
  {
    std::ofstream data(data_path);
    for (const auto& e : epochs) {
      data << e.value("epoch", 0);
      for (const auto& k : columns) {
        if (e.contains(k) && e[k].is_number())
          data << ' ' << e[k].get<double>();
        else
          data << " nan";
      }
      data << '\n';
    }
    if (!data) throw ConfigError("--output: cannot write '" + data_path + "'");
  }
  std::string script = "set terminal pngcairo size 1000,400\nset output " + quoted(png_path) +
                       "\nset multiplot layout 1," + std::to_string(panels.size()) +
                       "\nset xlabel 'epoch'\nset grid\nset key top right\n";
  std::size_t column = 2;
  for (const auto& p : panels) {
    script += "set title " + quoted(p.title) + "\nplot ";
    for (std::size_t i = 0; i < p.keys.size(); ++i, ++column) {
      script += (i ? ", " : "") + quoted(data_path) + " using 1:" + std::to_string(column) +
                " with linespoints title " + quoted(p.keys[i]);
    }
    script += "\n";
  }
  script += "unset multiplot\n";
  std::FILE* gp = popen("gnuplot 2>&1", "w");
  if (gp == nullptr) throw TrainingError("plot: cannot start gnuplot");
  std::fputs(script.c_str(), gp);
  const int status = pclose(gp);
  std::error_code ec;
  std::filesystem::remove(data_path, ec);
  if (status != 0) {
    throw TrainingError("plot: gnuplot failed (exit status " + std::to_string(WEXITSTATUS(status)) +
                        ") writing " + png_path + "; is gnuplot (Debian's gnuplot-nox) installed?");
  }
}

int run_plot(const PlotOptions& o) {
  plot_metrics(o.metrics, o.output);
  std::printf("%s: training curves of %s\n", o.output.c_str(), o.metrics.c_str());
  return kExitOk;
}

}  // namespace dtrain::cli
