#pragma once
// PeerTransport over MPI nonblocking point-to-point messages. Internal to src/comm/mpi
// (it needs <mpi.h> for MPI_Comm); the rest of the program sees MpiCommunicator.
#include <vector>

#include "comm/mpi/mpi_c.h"
#include "comm/peer_transport.h"

namespace dtrain::comm {

class MpiTransport final : public PeerTransport {
 public:
  // Uses comm (which must outlive this object) and sets MPI_ERRORS_RETURN on it, so a
  // failed message becomes a CommError naming the MPI error instead of a silent abort.
  explicit MpiTransport(MPI_Comm comm);

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void start_send(std::span<const float> data, int to) override;
  void start_recv(std::span<float> data, int from) override;
  void wait_recv(std::size_t index) override;
  void wait_all() override;

 private:
  // All ring traffic on this communicator uses one tag; MPI's non-overtaking rule then
  // matches chunks in the order they were started.
  static constexpr int kTag = 0x7269;

  // MPI_Waitall over requests; returns the first real error code, not MPI_ERR_IN_STATUS.
  int wait_every(std::vector<MPI_Request>& requests);

  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  // Cleared, never shrunk: after the first allreduce no call allocates.
  std::vector<MPI_Request> sends_;
  std::vector<MPI_Request> recvs_;
  std::vector<int> sources_;  // of each receive, so a wait can say whom it waits for
  std::vector<MPI_Status> statuses_;
};

}  // namespace dtrain::comm
