# Site environment for a cluster whose nodes talk over plain Ethernet (TCP), no InfiniBand:
# what Open MPI must be told there, as measured on the emulated hosts of
# cluster/emulated-hosts.sh (see cluster/README.md). Copy it, set the subnet, and pass it:
#   sbatch --export=ALL,DTRAIN_SITE_ENV=$PWD/cluster/site-env/ethernet-cluster.sh slurm/train.sbatch ...
# or source it before a plain `mpirun --hostfile ...`.

# The cluster's data network, in CIDR form (an interface name such as eth0 works too, when it
# is the same on every node). Without it Open MPI may try every interface, including docker
# bridges or a management network, and stall or crawl on an unroutable one.
DTRAIN_SITE_SUBNET="${DTRAIN_SITE_SUBNET:-10.0.0.0/16}"
# TCP between nodes, shared memory (vader) inside a node, self for a rank's own messages.
export OMPI_MCA_btl="tcp,vader,self"
export OMPI_MCA_btl_tcp_if_include="$DTRAIN_SITE_SUBNET"
# mpirun's own out-of-band channel to its daemons on the other nodes: the same network.
export OMPI_MCA_oob_tcp_if_include="$DTRAIN_SITE_SUBNET"
# Binding: one rank per core, each rank's BLAS threads on the cores it was given; mpirun's
# default (bind to core for <= 2 ranks, to socket above) is right on real nodes. Use
# `--map-by slot:PE=T --bind-to core` with `--threads T` for T threads per rank.
# Never `--bind-to none` on a real cluster unless ranks are fewer than cores.
export DTRAIN_SRUN_MPI=pmix
# A host that drops off the network: dtrain's ranks end themselves after --comm-timeout
# (exit 4), but a plain mpirun waits for its unreachable daemon until TCP gives up, after
# net.ipv4.tcp_retries2 retransmissions (default 15: ~15 minutes). Sites that want mpirun
# back quickly set it lower on the compute nodes (root): sysctl -w net.ipv4.tcp_retries2=5
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
