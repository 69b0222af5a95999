#include "ckpt/checkpoint_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "ckpt/checkpoint_codec.h"
#include "core/errors.h"

namespace dtrain::ckpt {

namespace fs = std::filesystem;

namespace {

constexpr const char* kLatest = "latest";
constexpr const char* kBest = "best";  // --keep-best

std::string errno_text() {
  return std::strerror(errno);
}

// Closes a descriptor on every path out.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void fsync_directory(const std::string& dir) {
  Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY)};
  if (d.fd < 0 || ::fsync(d.fd) != 0) {
    throw TrainingError("cannot fsync checkpoint directory '" + dir + "': " + errno_text());
  }
}

// Writes bytes to dir/name through dir/.name.tmp: write, fsync, rename, fsync the directory.
void write_atomically(const std::string& dir, const std::string& name, const std::string& bytes) {
  const std::string tmp = dir + "/." + name + ".tmp";
  const std::string final_path = dir + "/" + name;
  auto fail = [&](const std::string& what) {
    const std::string reason = errno_text();
    ::unlink(tmp.c_str());
    throw TrainingError("cannot write checkpoint '" + final_path + "' (" + what + ": " + reason +
                        "); the previous checkpoint is unchanged");
  };
  {
    Fd f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
    if (f.fd < 0) fail("open");
    const char* p = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
      const ssize_t n = ::write(f.fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail("write");
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    if (::fsync(f.fd) != 0) fail("fsync");
    const int fd = f.fd;
    f.fd = -1;
    if (::close(fd) != 0) fail("close");
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) fail("rename");
  fsync_directory(dir);
}

std::optional<std::int64_t> step_of(const fs::path& file) {
  const std::string name = file.filename().string();
  if (!name.starts_with("ckpt-") || !name.ends_with(".pb")) return std::nullopt;
  const std::string digits = name.substr(5, name.size() - 8);
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return std::nullopt;
  return std::stoll(digits);
}

}  // namespace

CheckpointDirectory::CheckpointDirectory(std::string dir, int keep)
    : dir_(std::move(dir)), keep_(keep) {
  if (keep_ < 1) {
    throw ConfigError("--keep: got " + std::to_string(keep_) + ", expected an integer >= 1");
  }
}

void CheckpointDirectory::prepare() {
  // A file-size limit (ulimit -f) must fail the write with EFBIG, not kill the process.
  std::signal(SIGXFSZ, SIG_IGN);
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec || !fs::is_directory(dir_)) {
    throw ConfigError("--checkpoint-dir: cannot create directory '" + dir_ + "'" +
                      (ec ? ": " + ec.message() : std::string(" (a file is in the way)")));
  }
  const std::string probe = dir_ + "/.write-probe";
  Fd f{::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (f.fd < 0 || ::write(f.fd, "ok", 2) != 2) {
    throw ConfigError("--checkpoint-dir: '" + dir_ + "' is not writable: " + errno_text());
  }
  ::unlink(probe.c_str());
  // Temporary files of writes that a crash interrupted are garbage.
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".") && name.ends_with(".tmp")) fs::remove(entry.path(), ec);
  }
}

std::string CheckpointDirectory::write(std::int64_t step, const std::string& bytes) {
  const std::string name = "ckpt-" + std::to_string(step) + ".pb";
  write_atomically(dir_, name, bytes);
  write_atomically(dir_, kLatest, name + "\n");
  prune();
  return dir_ + "/" + name;
}

std::optional<std::string> CheckpointDirectory::latest() const {
  const std::string latest_path = dir_ + "/" + kLatest;
  std::error_code ec;
  if (!fs::exists(latest_path, ec)) return std::nullopt;
  return resolve_checkpoint_path(dir_);
}

void CheckpointDirectory::mark_best(const std::string& name) {
  write_atomically(dir_, kBest, name + "\n");
}

void CheckpointDirectory::prune() const {
  std::vector<std::pair<std::int64_t, fs::path>> files;
  std::error_code ec;
  std::string best;
  std::ifstream best_file(dir_ + "/" + kBest);
  if (best_file) std::getline(best_file, best);
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (!best.empty() && entry.path().filename() == best) continue;  // --keep-best's
    if (auto step = step_of(entry.path())) files.emplace_back(*step, entry.path());
  }
  std::sort(files.begin(), files.end());
  const std::size_t keep = static_cast<std::size_t>(keep_);
  for (std::size_t i = 0; i + keep < files.size(); ++i) fs::remove(files[i].second, ec);
}

std::string read_checkpoint_bytes(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw CheckpointError(path + ": is a directory, expected a checkpoint file");
  }
  if (!fs::exists(path, ec)) throw CheckpointError(path + ": checkpoint file not found");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in) throw CheckpointError(path + ": cannot read the checkpoint file");
  return bytes.str();
}

std::string resolve_checkpoint_path(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return path;
  const std::string latest_path = path + "/" + kLatest;
  std::ifstream in(latest_path);
  std::string name;
  if (!in || !std::getline(in, name) || name.empty()) {
    throw CheckpointError(path + ": directory holds no `latest` file naming a checkpoint");
  }
  const std::string file = path + "/" + name;
  if (name.find('/') != std::string::npos || !fs::is_regular_file(file, ec)) {
    throw CheckpointError(latest_path + ": names '" + name +
                          "', which is not a checkpoint file in that directory");
  }
  return file;
}

std::string FileCheckpointStore::save(train::TrainState state) {
  const std::int64_t step = state.global_step;
  const bool best = state.keep_best && state.early.best_epoch > 0 && state.early.best_step == step;
  auto path = directory_.write(step, encode_checkpoint(std::move(state)));
  if (best) directory_.mark_best(fs::path(path).filename().string());
  return path;
}

}  // namespace dtrain::ckpt
