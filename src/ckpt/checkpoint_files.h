#pragma once
// Checkpoint files on disk. A --checkpoint-dir holds ckpt-<step>.pb files and a `latest`
// file naming the newest. Every write goes to a temporary file that is fsynced and then
// renamed, the directory is fsynced, and only then is `latest` replaced the same way, so a
// crash at any instant leaves the previous checkpoint loadable (docs/design.md "Checkpoints").
#include <cstdint>
#include <optional>
#include <string>

#include "train/train_state.h"

namespace dtrain::ckpt {

class CheckpointDirectory {
 public:
  CheckpointDirectory(std::string dir, int keep);

  // Creates the directory if needed and checks that files can be created in it, before any
  // training. Throws ConfigError naming --checkpoint-dir.
  void prepare();
  // Writes ckpt-<step>.pb atomically, points `latest` at it and removes all but the newest
  // `keep` checkpoints. Returns the file's path. Throws TrainingError (exit 1) when the
  // write fails (disk full...), leaving the previous checkpoint and `latest` untouched.
  std::string write(std::int64_t step, const std::string& bytes);
  // The checkpoint `latest` names; nullopt when there is no `latest` (nothing saved yet).
  // Throws CheckpointError when `latest` names a file that is missing.
  std::optional<std::string> latest() const;
  // --keep-best: points `best` (written atomically like `latest`) at the file `name` of
  // this directory. Pruning never removes the file `best` names.
  void mark_best(const std::string& name);
  const std::string& path() const { return dir_; }

 private:
  void prune() const;
  std::string dir_;
  int keep_;
};

// Reads a whole checkpoint file. Throws CheckpointError naming the path when it is
// missing, a directory, or unreadable.
std::string read_checkpoint_bytes(const std::string& path);

// --resume PATH / --checkpoint PATH: a checkpoint file, or a directory whose `latest` names
// one. Throws CheckpointError when neither.
std::string resolve_checkpoint_path(const std::string& path);

// Saves a trainer's state into a CheckpointDirectory (called on rank 0 only).
class FileCheckpointStore final : public train::CheckpointStore {
 public:
  explicit FileCheckpointStore(CheckpointDirectory& directory) : directory_(directory) {}
  std::string save(train::TrainState state) override;

 private:
  CheckpointDirectory& directory_;
};

}  // namespace dtrain::ckpt
