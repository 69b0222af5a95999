#pragma once
// Turns MPI return codes into CommError. Every MPI communicator dtrain uses has
// MPI_ERRORS_RETURN set, so failures come back here instead of aborting without a message.
#include <string>

#include "core/errors.h"
#include "comm/mpi/mpi_c.h"

namespace dtrain::comm {

inline std::string mpi_error_string(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) {
    return "MPI error code " + std::to_string(code);
  }
  return std::string(text, static_cast<std::size_t>(length));
}

inline void check_mpi(int code, const char* call) {
  if (code != MPI_SUCCESS) {
    throw CommError(std::string(call) + " failed: " + mpi_error_string(code));
  }
}

}  // namespace dtrain::comm
