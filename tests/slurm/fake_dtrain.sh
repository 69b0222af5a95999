#!/usr/bin/env bash
# A stand-in for dtrain that keeps the parts of its contract slurm/train.sbatch relies on:
# `train --help` lists --checkpoint-dir; one metrics line per epoch (rank 0); a checkpoint
# per epoch and a `latest` file; --resume continues from it; SIGUSR1/SIGTERM/SIGINT stop it
# after writing a checkpoint with exit code 75. An epoch is a sleep of FAKE_EPOCH_SECONDS [1],
# so train.sbatch's signal, requeue and resume logic is tested in seconds and without CPU.
# Each start is logged to FAKE_LOG (rank, restart count, epoch it starts from).
# FAKE_MASKED_STOP=1: at the first stop, rank 0 exits 75 at once and the other ranks wait to
# be ended by srun (143), as dtrain's ranks can race on their way out.
set -euo pipefail

[ "${1:-}" = train ] && shift
epochs=5 ckpt="" metrics="" resume=0
takes_value() { [ $# -gt 0 ] && [[ "$1" != --* ]]; }
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) echo "  --checkpoint-dir arg   (fake dtrain for tests)"; exit 0 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --checkpoint-dir) ckpt="$2"; shift 2 ;;
    --metrics) metrics="$2"; shift 2 ;;
    --resume) resume=1; shift; if takes_value "$@"; then shift; fi ;;
    --*) shift; if takes_value "$@"; then shift; fi ;;
    *) echo "fake dtrain: unexpected argument '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$ckpt" ] || { echo "fake dtrain: --checkpoint-dir missing" >&2; exit 2; }
rank="${PMIX_RANK:-${OMPI_COMM_WORLD_RANK:-${SLURM_PROCID:-0}}}"
size="${OMPI_COMM_WORLD_SIZE:-${SLURM_NTASKS:-1}}"

stop=0
trap 'stop=1' USR1 TERM INT

save() {  # rank 0 writes the number of finished epochs, then points `latest` at it
  [ "$rank" = 0 ] || return 0
  mkdir -p "$ckpt"
  echo "$1" > "$ckpt/ckpt-$1.tmp" && mv "$ckpt/ckpt-$1.tmp" "$ckpt/ckpt-$1"
  echo "ckpt-$1" > "$ckpt/latest"
}

epoch=0
if [ "$resume" = 1 ] && [ -f "$ckpt/latest" ]; then epoch="$(cat "$ckpt/$(cat "$ckpt/latest")")"; fi
echo "rank $rank of $size: restart ${SLURM_RESTART_COUNT:-0} resume $resume from epoch $epoch" >> "${FAKE_LOG:-/dev/null}"
ticks=$(awk -v s="${FAKE_EPOCH_SECONDS:-1}" 'BEGIN { print int(s * 10 + 0.5) }')
while [ "$epoch" -lt "$epochs" ]; do
  for _ in $(seq "$ticks"); do
    sleep 0.1 || true  # srun signals every process of the step, this sleep too
    if [ "$stop" = 1 ]; then
      # Like dtrain, no rank exits before rank 0 has written the checkpoint: srun
      # --kill-on-bad-exit (and mpirun) end the whole step at the first non-zero exit.
      done_file="$ckpt/.stopped-restart-${SLURM_RESTART_COUNT:-0}"
      if [ "$rank" = 0 ]; then save "$epoch"; touch "$done_file"; fi
      if [ "${FAKE_MASKED_STOP:-0}" = 1 ] && [ "${SLURM_RESTART_COUNT:-0}" = 0 ]; then
        # dtrain's exit race: rank 0 records the checkpointed stop and exits 75 first, and
        # srun --kill-on-bad-exit ends the others (SIGTERM, 143) before they exit 75.
        if [ "$rank" = 0 ]; then
          [ -z "${DTRAIN_EXIT_REASON_FILE:-}" ] ||
            echo "stopped-with-checkpoint step $((epoch * 10))" >> "$DTRAIN_EXIT_REASON_FILE"
          echo "fake dtrain rank 0: stopped by a signal at epoch $epoch, checkpoint written" >&2
          exit 75
        fi
        trap 'exit 143' TERM
        while true; do sleep 0.1 || true; done
      fi
      for _ in $(seq 100); do [ -e "$done_file" ] && break; sleep 0.1 || true; done
      echo "fake dtrain rank $rank: stopped by a signal at epoch $epoch, checkpoint written" >&2
      exit 75
    fi
  done
  epoch=$((epoch + 1))
  if [ "$rank" = 0 ] && [ -n "$metrics" ]; then
    echo "{\"event\":\"epoch\",\"epoch\":$epoch,\"step\":$((epoch * 10))}" >> "$metrics"
  fi
  save "$epoch"
done
if [ "$rank" = 0 ] && [ -n "$metrics" ]; then
  echo "{\"event\":\"final\",\"world_size\":$size}" >> "$metrics"
fi
