# Site environment for Slurm jobs on the multi-node local cluster (cluster/local-slurm.sh
# --nodes N), whose nodes are emulated network hosts: like a real Ethernet cluster, ranks on
# different nodes use TCP over the hosts' links, restricted to the emulated subnet.
#   sbatch --export=ALL,DTRAIN_SITE_ENV=$PWD/cluster/site-env/emulated-hosts.sh --nodes=2 \
#     --ntasks-per-node=1 slurm/train.sbatch ...
# srun --mpi=pmix tells each rank which ranks share its node, so Open MPI already never uses
# shared memory between nodes; these lines keep it off lo and name the network, as a real
# site file would (cluster/site-env/ethernet-cluster.sh).
export DTRAIN_SRUN_MPI=pmix
export OMPI_MCA_btl="tcp,vader,self"
export OMPI_MCA_btl_tcp_if_include="198.18.0.0/15"
export OMPI_MCA_oob_tcp_if_include="198.18.0.0/15"
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
