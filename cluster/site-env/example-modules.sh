# Site environment for slurm/train.sbatch and slurm/scaling.sbatch on an HPC cluster that
# provides software through environment modules (Lmod or Tcl modules). Copy it, adapt the
# names to `module avail`, and point the scripts at it:
#   sbatch --export=ALL,DTRAIN_SITE_ENV=$PWD/cluster/site-env/mysite.sh slurm/train.sbatch ...
# The batch scripts source it before anything else (under bash with set -euo pipefail).

# Batch shells are not login shells: make the `module` command available first.
if ! command -v module >/dev/null 2>&1; then
  for init in /etc/profile.d/lmod.sh /usr/share/lmod/lmod/init/bash /etc/profile.d/modules.sh; do
    # shellcheck disable=SC1090
    if [ -r "$init" ]; then source "$init"; break; fi
  done
fi
# The same compiler, MPI and BLAS dtrain was built with, so its shared libraries resolve on
# the compute nodes. (Module scripts may use unset variables: relax -u around them.)
set +u
module purge
module load gcc/12 openmpi/4.1 openblas/0.3 protobuf boost
set -u

# srun's MPI plugin must match the MPI library: `srun --mpi=list` shows what the site has.
# Open MPI 4.x/5.x built with PMIx: pmix (or a versioned pmix_v3/pmix_v4); MPICH/Intel MPI:
# often pmi2. When srun cannot start the ranks, DTRAIN_LAUNCHER=mpirun uses Open MPI's own
# launcher inside the allocation instead.
export DTRAIN_SRUN_MPI=pmix

# BLAS threads: train.sbatch sets OPENBLAS_NUM_THREADS and OMP_NUM_THREADS (and dtrain's
# --threads) to SLURM_CPUS_PER_TASK. A BLAS from MKL also reads MKL_NUM_THREADS:
export MKL_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"

# Where runs go (checkpoints, metrics): a parallel filesystem rather than $HOME.
# export DTRAIN_JOB_DIR="/scratch/$USER/dtrain/$SLURM_JOB_NAME-$SLURM_JOB_ID"
