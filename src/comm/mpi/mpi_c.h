#pragma once
// The one way dtrain includes <mpi.h>. Open MPI and MPICH pull in their deprecated C++
// bindings when <mpi.h> is compiled as C++, and those need libmpi_cxx, which MPI::MPI_C does
// not link; dtrain uses the C API only, so switch the bindings off.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>
