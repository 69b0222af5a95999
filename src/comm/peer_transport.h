#pragma once
// Point-to-point float messages between ranks: all the ring allreduce needs. The ring is
// written against this interface so it can be tested exactly in one process (threads) and
// run over MPI in production.
#include <cstddef>
#include <span>

namespace dtrain::comm {

class PeerTransport {
 public:
  virtual ~PeerTransport() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;

  // Start a send or a receive. Buffers must stay valid until wait_all(). Messages between
  // one pair of ranks arrive in the order they were started (MPI's non-overtaking rule).
  virtual void start_send(std::span<const float> data, int to) = 0;
  virtual void start_recv(std::span<float> data, int from) = 0;
  // Blocks until the index-th receive started since the last wait_all() has completed,
  // so the caller can reduce one chunk while later chunks are still in flight.
  virtual void wait_recv(std::size_t index) = 0;
  // Blocks until every started send and receive has completed; then indices restart at 0.
  virtual void wait_all() = 0;
};

}  // namespace dtrain::comm
