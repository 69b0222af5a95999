#include "comm/shared_segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace dtrain::comm {
namespace {

std::string why(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

}  // namespace

SharedSegment SharedSegment::create(std::size_t bytes) {
  SharedSegment s;
  s.fd_ = memfd_create("dtrain-array", MFD_CLOEXEC);
  if (s.fd_ < 0) {
    s.error_ = why("memfd_create");
    return s;
  }
  if (ftruncate(s.fd_, static_cast<off_t>(bytes)) != 0) {
    s.error_ = why("ftruncate of " + std::to_string(bytes) + " bytes");
    s.release();
    return s;
  }
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, s.fd_, 0);
  if (p == MAP_FAILED) {
    s.error_ = why("mmap of " + std::to_string(bytes) + " bytes");
    s.release();
    return s;
  }
  s.data_ = static_cast<std::byte*>(p);
  s.bytes_ = bytes;
  return s;
}

SharedSegment SharedSegment::map_peer(long pid, int fd, std::size_t bytes) {
  SharedSegment s;
  const std::string path = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
  const int mine = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (mine < 0) {
    s.error_ = why("open " + path);
    return s;
  }
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, mine, 0);
  close(mine);  // the mapping keeps the memory
  if (p == MAP_FAILED) {
    s.error_ = why("mmap of " + path);
    return s;
  }
  s.data_ = static_cast<std::byte*>(p);
  s.bytes_ = bytes;
  return s;
}

SharedSegment::~SharedSegment() {
  release();
}

SharedSegment::SharedSegment(SharedSegment&& other) noexcept {
  *this = std::move(other);
}

SharedSegment& SharedSegment::operator=(SharedSegment&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
    fd_ = std::exchange(other.fd_, -1);
    error_ = std::move(other.error_);
  }
  return *this;
}

void SharedSegment::close_fd() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

void SharedSegment::release() {
  if (data_ != nullptr) munmap(data_, bytes_);
  data_ = nullptr;
  bytes_ = 0;
  close_fd();
}

}  // namespace dtrain::comm
