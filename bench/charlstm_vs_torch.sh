#!/usr/bin/env bash
# charlstm on a plain-text Debian corpus: dtrain under mpirun -np P against its PyTorch twin
# (bench/charlstm_torch_twin.py: the same split, network, initialization, loss, optimizer,
# global batch and number of steps), run one after the other on this machine. Prints each
# side's bits per character by epoch, the test bpc of both and their ratio, and a sample of
# dtrain's generated text.
#   bench/charlstm_vs_torch.sh [epochs=5] [batch=32] [ranks=2] [out=charlstm-run]
# Needs: a Release build in build/, apt-get install fortunes python3-torch.
# The corpus is every fortune file of Debian's `fortunes` package, concatenated in name order
# (43 files, 2,576,674 bytes in fortunes 1:1.99.1-7.3): 22,961 training sequences of 101 bytes,
# 1,275 validation, 1,275 test.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-5}"
batch="${2:-32}"
ranks="${3:-2}"
out="${4:-charlstm-run}"
source scripts/mpi-env.sh
mkdir -p "$out"
corpus="$out/fortunes.txt"
if [ ! -d /usr/share/games/fortunes ]; then
  echo "charlstm_vs_torch: /usr/share/games/fortunes is missing (apt-get install fortunes)" >&2
  exit 2
fi
# -type f: the package's *.u8 names are symlinks to the same files.
find /usr/share/games/fortunes -maxdepth 1 -type f ! -name '*.dat' -print0 | sort -z |
  xargs -0 cat > "$corpus"
echo "corpus: $corpus, $(wc -c < "$corpus") bytes"

rm -rf "$out/ck" "$out/dtrain.jsonl"
start=$(date +%s)
mpirun -np "$ranks" --oversubscribe build/src/dtrain --model charlstm --data "text:$corpus" \
  --epochs "$epochs" --batch-size "$batch" --progress never --checkpoint-dir "$out/ck" \
  --metrics "$out/dtrain.jsonl" > "$out/dtrain.log"
echo "dtrain: $(( $(date +%s) - start )) s wall at np=$ranks (load average $(cut -d' ' -f1-3 /proc/loadavg))"

start=$(date +%s)
/usr/bin/python3 bench/charlstm_torch_twin.py --data "$corpus" --epochs "$epochs" \
  --batch-size "$batch" --threads "$ranks" > "$out/torch.jsonl"
echo "pytorch: $(( $(date +%s) - start )) s wall, $ranks threads (load average $(cut -d' ' -f1-3 /proc/loadavg))"

/usr/bin/python3 - "$out/dtrain.jsonl" "$out/torch.jsonl" <<'EOF'
import json, sys
def lines(path):
    return [json.loads(l) for l in open(path) if l.strip().startswith("{")]
d, t = lines(sys.argv[1]), lines(sys.argv[2])
de = [r for r in d if r.get("event") == "epoch"]
te = [r for r in t if r.get("event") == "epoch"]
print(f"{'epoch':>5} {'dtrain train':>13} {'dtrain val':>11} {'torch train':>12} {'torch val':>10}")
for a, b in zip(de, te):
    print(f"{a['epoch']:>5} {a['train_bpc']:>13.4f} {a['val_bpc']:>11.4f} "
          f"{b['train_bpc']:>12.4f} {b['val_bpc']:>10.4f}")
dt = next(r["test_bpc"] for r in d if "test_bpc" in r)
tt = next(r["test_bpc"] for r in t if r.get("event") == "final")
print(f"test bpc: dtrain {dt:.4f}, pytorch {tt:.4f}, dtrain/pytorch {dt / tt:.4f} "
      f"({100 * (dt / tt - 1):+.2f}%)")
EOF

last=$(ls "$out"/ck/ckpt-*.pb | sort -V | tail -1)
echo "sample (dtrain sample --checkpoint $last --length 500 --temperature 0.8 --seed 1):"
build/src/dtrain sample --checkpoint "$last" --length 500 --temperature 0.8 --seed 1
