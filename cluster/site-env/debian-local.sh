# Site environment for this project's own machines (Debian 12, packages from apt, the local
# cluster of cluster/local-slurm.sh). Nothing to load: Debian's Open MPI 4.1, OpenBLAS and
# Slurm 22.05 are on the default paths. Kept as the reference for what a site file sets.
#   sbatch --export=ALL,DTRAIN_SITE_ENV=$PWD/cluster/site-env/debian-local.sh slurm/train.sbatch ...

# Debian's Open MPI uses the same external PMIx as Slurm's mpi/pmix plugin; pmi2 and none
# do not start its ranks (measured).
export DTRAIN_SRUN_MPI=pmix
# Running as root (containers, CI): Open MPI's mpirun refuses unless told it is intended.
# Only DTRAIN_LAUNCHER=mpirun needs it; train.sbatch sets these itself when run as root.
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
# The local cluster advertises 4 CPUs on 2 cores so 4-rank jobs run (oversubscribed); let
# mpirun place more ranks than it sees cores, too.
export OMPI_MCA_rmaps_base_oversubscribe=1
