#pragma once
// Owns MPI's lifetime for main() and the MPI test binaries (RAII). Initializes MPI only if
// nobody has yet and finalizes only what it initialized, so it composes with code that
// manages MPI itself. The header does not include <mpi.h>.
#include <string>

namespace dtrain::comm {

// The MPI thread support a program needs. FUNNELED: only the main thread calls MPI.
// SERIALIZED: several threads call it, never at the same time; what dtrain's communication
// thread needs (the main thread calls MPI before and after training, the communication
// thread during it, handing over through a mutex). Never MULTIPLE: no two threads of ours
// are inside MPI at once, and Open MPI's MULTIPLE mode adds locking to every call.
enum class ThreadLevel { kFunneled, kSerialized };

class MpiRuntime {
 public:
  // Initializes MPI with at least `needed` thread support. Throws CommError if
  // initialization fails or the library provides less (the message says which level it
  // has and what to do), or if MPI was initialized elsewhere with less.
  MpiRuntime(int* argc, char*** argv, ThreadLevel needed = ThreadLevel::kSerialized);
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
