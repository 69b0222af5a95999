#include "comm/mpi/mpi_runtime.h"

#include <cstdlib>

#include "comm/mpi/mpi_c.h"
#include "comm/mpi/mpi_check.h"

namespace dtrain::comm {

MpiRuntime::MpiRuntime(int* argc, char*** argv) {
  int initialized = 0;
  check_mpi(MPI_Initialized(&initialized), "MPI_Initialized");
  if (initialized) {
    return;
  }
  int provided = 0;
  const int code = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  if (code != MPI_SUCCESS) {
    // MPI_Error_string is usable after a failed init in practice; the code is what matters.
    throw CommError("MPI_Init_thread failed: " + mpi_error_string(code));
  }
  initialized_here_ = true;
}

MpiRuntime::~MpiRuntime() {
  if (!initialized_here_) {
    return;
  }
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) {
    MPI_Finalize();
  }
}

std::string MpiRuntime::library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  if (MPI_Get_library_version(text, &length) != MPI_SUCCESS) {
    return "unknown MPI library";
  }
  std::string version(text, static_cast<std::size_t>(length));
  version = version.substr(0, version.find('\n'));
  while (!version.empty() && (version.back() == ' ' || version.back() == '\0' ||
                              version.back() == '\r' || version.back() == '\t')) {
    version.pop_back();
  }
  return version;
}

bool MpiRuntime::launched_under_mpi() {
  // Open MPI's mpirun, MPICH/Intel hydra (PMI), and PMIx launchers such as srun --mpi=pmix.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"}) {
    if (std::getenv(name) != nullptr) {
      return true;
    }
  }
  return false;
}

}  // namespace dtrain::comm
