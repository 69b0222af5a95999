#pragma once
// Memory that the other processes of this host can map: an anonymous memfd (no file in
// /dev/shm, so no tmpfs size limit such as a container's 64 MiB, and nothing left behind
// when the job dies), mapped by its creator; a peer maps it through /proc/PID/fd/FD while
// the creator still holds the descriptor. Linux only. MPI-free: MpiCommunicator exchanges
// the (pid, fd) pairs and agrees on success (allocate_array).
#include <cstddef>
#include <string>

namespace dtrain::comm {

class SharedSegment {
 public:
  // `bytes` of zeroed memory (pages are allocated on first touch). On failure ok() is false
  // and error() says why; nothing throws.
  static SharedSegment create(std::size_t bytes);
  // Maps the segment that process `pid` created as descriptor `fd`.
  static SharedSegment map_peer(long pid, int fd, std::size_t bytes);

  SharedSegment() = default;
  ~SharedSegment();
  SharedSegment(SharedSegment&& other) noexcept;
  SharedSegment& operator=(SharedSegment&& other) noexcept;
  SharedSegment(const SharedSegment&) = delete;
  SharedSegment& operator=(const SharedSegment&) = delete;

  bool ok() const { return data_ != nullptr; }
  const std::string& error() const { return error_; }
  std::byte* data() const { return data_; }
  std::size_t size() const { return bytes_; }
  int fd() const { return fd_; }
  // Closes the descriptor once every peer has mapped the segment; the mapping stays.
  void close_fd();

 private:
  void release();
  std::byte* data_ = nullptr;
  std::size_t bytes_ = 0;
  int fd_ = -1;
  std::string error_;
};

}  // namespace dtrain::comm
