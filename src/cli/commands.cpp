#include "cli/commands.h"

#include <google/protobuf/stubs/common.h>

#include <cstdio>
#include <cstdlib>

#include "comm/mpi/mpi_runtime.h"
#include "dtrain_version.h"
#include "tensor/blas.h"

namespace dtrain::cli {

std::string version_text() {
  const int pb = GOOGLE_PROTOBUF_VERSION;
  return std::string("dtrain ") + DTRAIN_VERSION + "\n" +
         "  MPI:      " + comm::MpiRuntime::library_version() + "\n" +
         "  OpenBLAS: " + tensor::blas_version() + "\n" +
         "  protobuf: " + std::to_string(pb / 1000000) + "." + std::to_string(pb / 1000 % 1000) +
         "." + std::to_string(pb % 1000) + "\n";
}

}  // namespace dtrain::cli
