# Sourced by the scripts: Open MPI refuses to run as root unless told it is intended
# (containers and CI run as root), and more ranks than cores need oversubscription.
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_rmaps_base_oversubscribe=1
# One BLAS thread per rank unless asked otherwise: OpenBLAS's idle threads spin and would
# starve the other ranks on the node.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
