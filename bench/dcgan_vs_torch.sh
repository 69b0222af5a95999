#!/usr/bin/env bash
# dtrain's DCGAN against its PyTorch twin (bench/dcgan_torch_twin.py), judged by one classifier:
# the share of 1,000 samples the classifier calls with softmax confidence >= 0.9 and the classes
# they fall in, per epoch, next to the same classifier's share on real test images. It tells
# the recipe's ceiling (the twin) apart from dtrain's implementation (issue 14).
#
#   bench/dcgan_vs_torch.sh [--epochs E] [--batch B] [--width 1|2] [--classifier CKPT] [--out DIR]
#
# width 1 is models/gan.pbtxt; width 2 doubles every channel count (generator 7x7x128 -> 64,
# discriminator 64 -> 128, the PyTorch/TensorFlow tutorials' channels). Without --classifier the
# main job's cnn is trained first (np=2, 5 epochs, about a minute). dtrain trains at np=2 and
# the twin on one thread, one after the other. Cost at width 2, batch 64, 10 epochs, measured
# with the two sharing the 2 cores (bench/results/dcgan-vs-torch-20261204): 22 minutes for
# dtrain, 34 for the twin; each alone takes less.
# Environment: DTRAIN [build/src/dtrain], PYTHON [/usr/bin/python3].
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
epochs=10 batch=64 width=2 classifier="" out="bench/results/dcgan-vs-torch-$(date +%Y%m%d-%H%M%S)"
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs="${2:?}"; shift 2 ;;
    --batch) batch="${2:?}"; shift 2 ;;
    --width) width="${2:?}"; shift 2 ;;
    --classifier) classifier="${2:?}"; shift 2 ;;
    --out) out="${2:?}"; shift 2 ;;
    *) echo "dcgan_vs_torch: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$width" in 1 | 2) ;; *) echo "dcgan_vs_torch: --width: expected 1 or 2, got $width" >&2; exit 2 ;; esac
DTRAIN="${DTRAIN:-$root/build/src/dtrain}"
PYTHON="${PYTHON:-/usr/bin/python3}"
source "$root/scripts/mpi-env.sh"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
mkdir -p "$out"

if [ -z "$classifier" ]; then
  echo "dcgan_vs_torch: training the judging cnn" >&2
  mpirun -np 2 "$DTRAIN" --progress never --checkpoint-dir "$out/cnn" > "$out/cnn.log" 2>&1
  classifier="$out/cnn"
fi

# The dtrain network: models/gan.pbtxt, every channel count times `width`.
model="$out/gan-width$width.pbtxt"
if [ "$width" = 1 ]; then
  cp models/gan.pbtxt "$model"
else
  sed -e 's/units: 3136/units: 6272/' -e 's/shape: \[7, 7, 64\]/shape: [7, 7, 128]/' \
      -e 's/"g_up1" filters: 32/"g_up1" filters: 64/' -e 's/"d_conv1" filters: 32/"d_conv1" filters: 64/' \
      -e 's/"d_conv2" filters: 64/"d_conv2" filters: 128/' -e 's/^name: "gan"/name: "gan-width2"/' \
      models/gan.pbtxt > "$model"
  grep -q 'units: 6272' "$model" || { echo "dcgan_vs_torch: could not widen models/gan.pbtxt" >&2; exit 1; }
fi

echo "dcgan_vs_torch: dtrain, $epochs epochs" >&2
mpirun -np 2 "$DTRAIN" --progress never --model "$model" --batch-size "$batch" --epochs "$epochs" \
  --checkpoint-dir "$out/dtrain" --keep "$epochs" --metrics "$out/dtrain.jsonl" > "$out/dtrain.log" 2>&1
for ck in "$out"/dtrain/ckpt-*.pb; do
  "$DTRAIN" eval --checkpoint "$ck" --classifier "$classifier" --json > "${ck%.pb}.eval.json"
done

echo "dcgan_vs_torch: the PyTorch twin, $epochs epochs" >&2
"$PYTHON" bench/dcgan_torch_twin.py --epochs "$epochs" --batch-size "$batch" --width "$width" \
  --sample-epochs "$(seq -s, 1 "$epochs")" --samples-dir "$out/torch" > "$out/torch.jsonl"
for e in $(seq 1 "$epochs"); do  # by epoch: a glob would also match the .probs.npy outputs
  npy="$out/torch/samples-epoch-$e.npy"
  "$DTRAIN" predict --checkpoint "$classifier" --input "$npy" --output "${npy%.npy}.probs.npy" > /dev/null
done

"$PYTHON" - "$out" <<'EOF' | tee "$out/summary.txt"
import glob, json, re, sys
import numpy as np
out = sys.argv[1]
def step(path):
    return int(re.search(r"ckpt-(\d+)", path).group(1))
dtrain = [json.load(open(p)) for p in sorted(glob.glob(f"{out}/dtrain/ckpt-*.eval.json"), key=step)]
print(f"judge: {dtrain[0]['real_confident_share']:.3f} of real test images confident (>= 0.9)")
print("epoch  dtrain_confident  dtrain_classes  dtrain_FD  torch_confident  torch_classes")
for e, j in enumerate(dtrain, 1):
    try:
        p = np.load(f"{out}/torch/samples-epoch-{e}.probs.npy")
        conf, classes = (p.max(1) >= 0.9).mean(), len(set(p.argmax(1)))
        torch = f"{conf:15.3f}  {classes:13d}"
    except FileNotFoundError:
        torch = "              -              -"
    print(f"{e:5d}  {j['confident_share']:16.3f}  {j['classes_present']:14d}  "
          f"{j.get('frechet_distance', float('nan')):9.2f}  {torch}")
EOF
echo "dcgan_vs_torch: $out/summary.txt" >&2
