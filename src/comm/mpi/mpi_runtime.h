#pragma once
// Owns MPI's lifetime for main() and the MPI test binaries (RAII). Initializes MPI only if
// nobody has yet and finalizes only what it initialized, so it composes with code that
// manages MPI itself. The header does not include <mpi.h>.
#include <string>

namespace dtrain::comm {

class MpiRuntime {
 public:
  // Requests MPI_THREAD_FUNNELED: only the main thread calls MPI, BLAS may run threads.
  // Throws CommError if initialization fails.
  MpiRuntime(int* argc, char*** argv);
  ~MpiRuntime();
  MpiRuntime(const MpiRuntime&) = delete;
  MpiRuntime& operator=(const MpiRuntime&) = delete;

  bool initialized_here() const { return initialized_here_; }

  // First line of MPI_Get_library_version (callable before MPI_Init), for --version.
  static std::string library_version();
  // True when a launcher (mpirun/mpiexec, srun with PMI/PMIx) started this process.
  static bool launched_under_mpi();

 private:
  bool initialized_here_ = false;
};

}  // namespace dtrain::comm
