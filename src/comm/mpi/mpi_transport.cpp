#include "comm/mpi/mpi_transport.h"

#include <climits>
#include <string>

#include "comm/liveness/progress_state.h"
#include "comm/mpi/mpi_check.h"

namespace dtrain::comm {
namespace {

int message_count(std::size_t n) {
  if (n > static_cast<std::size_t>(INT_MAX)) {
    throw CommError("MPI message of " + std::to_string(n) +
                    " floats exceeds INT_MAX; use a smaller ring chunk size");
  }
  return static_cast<int>(n);
}

}  // namespace

MpiTransport::MpiTransport(MPI_Comm comm) : comm_(comm) {
  check_mpi(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check_mpi(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

void MpiTransport::start_send(std::span<const float> data, int to) {
  MPI_Request request = MPI_REQUEST_NULL;
  check_mpi(
      MPI_Isend(data.data(), message_count(data.size()), MPI_FLOAT, to, kTag, comm_, &request),
      "MPI_Isend");
  sends_.push_back(request);
}

void MpiTransport::start_recv(std::span<float> data, int from) {
  MPI_Request request = MPI_REQUEST_NULL;
  check_mpi(
      MPI_Irecv(data.data(), message_count(data.size()), MPI_FLOAT, from, kTag, comm_, &request),
      "MPI_Irecv");
  recvs_.push_back(request);
  sources_.push_back(from);
}

void MpiTransport::wait_recv(std::size_t index) {
  if (index >= recvs_.size()) {
    throw CommError("wait_recv(" + std::to_string(index) + ") but only " +
                    std::to_string(recvs_.size()) + " receives were started");
  }
  liveness::ProgressState::instance().set_peer(sources_[index]);
  // A completed request becomes MPI_REQUEST_NULL, which wait_all() then skips.
  check_mpi(MPI_Wait(&recvs_[index], MPI_STATUS_IGNORE), "MPI_Wait (receive)");
}

void MpiTransport::wait_all() {
  for (std::size_t i = 0; i < recvs_.size(); ++i) {
    if (recvs_[i] != MPI_REQUEST_NULL) {
      liveness::ProgressState::instance().set_peer(sources_[i]);
      break;
    }
  }
  const int recv_code = wait_every(recvs_);
  const int send_code = wait_every(sends_);
  recvs_.clear();
  sources_.clear();
  sends_.clear();
  check_mpi(recv_code, "MPI_Waitall (receives)");
  check_mpi(send_code, "MPI_Waitall (sends)");
}

int MpiTransport::wait_every(std::vector<MPI_Request>& requests) {
  statuses_.resize(requests.size());
  const int code =
      MPI_Waitall(static_cast<int>(requests.size()), requests.data(), statuses_.data());
  if (code != MPI_ERR_IN_STATUS) {
    return code;
  }
  // MPI_ERR_IN_STATUS only says "some request failed"; report the request's own error.
  for (const MPI_Status& status : statuses_) {
    if (status.MPI_ERROR != MPI_SUCCESS && status.MPI_ERROR != MPI_ERR_PENDING) {
      return status.MPI_ERROR;
    }
  }
  return code;
}

}  // namespace dtrain::comm
