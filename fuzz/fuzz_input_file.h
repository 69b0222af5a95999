#pragma once
// The readers under fuzz take a path (zlib's gzopen, std::ifstream), so each input is put
// in an in-memory file (memfd) and read back through /proc/self/fd: no disk traffic, and
// the readers run exactly as they do on a user's file.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace dtrain::fuzz {

class InputFile {
 public:
  InputFile() : fd_(memfd_create("dtrain-fuzz-input", 0)) {
    if (fd_ < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  // Replaces the file's contents with the input; returns its path.
  const std::string& hold(const std::uint8_t* data, std::size_t size) {
    if (ftruncate(fd_, 0) != 0 || pwrite(fd_, data, size, 0) != static_cast<ssize_t>(size)) {
      std::perror("memfd write");
      std::abort();
    }
    return path_;
  }

 private:
  int fd_;
  std::string path_;
};

}  // namespace dtrain::fuzz
