#!/usr/bin/env python3
"""Predicts allreduce time and data-parallel efficiency from 1 to 1024 ranks.

Reads the alpha-beta-gamma fit that `dtrain bench allreduce --fit --fit-json FILE` writes and
applies the same cost coefficients (Thakur, Rabenseifner & Gropp 2005; src/comm/allreduce_model.cpp)
at other rank counts:  time = a(P) alpha + b(P) n beta + c(P) n gamma.

Link parameters: this machine's fit per algorithm (--link fit), or alpha/beta of a network
(--link 10gbe|25gbe|100gbe|hdr, or --alpha-us/--beta-ns-per-byte). The network presets are
nominal figures (latency of a small MPI message, payload bandwidth), NOT measured here.
gamma (the addition) always comes from the fit.

Model: every rank computes one step in --step-ms (its share of a fixed per-rank batch: weak
scaling), then the gradients (4 bytes per parameter) are allreduced in 4 MiB buckets as
dtrain's GradientSynchronizer does, without overlap:  efficiency = step / (step + allreduce).
The hierarchical algorithm puts --ranks-per-host ranks on each host: shared memory inside
(this machine's hierarchical fit), the ring between host leaders over the link.

--validate FIT.json ...: predict the measured points of fits taken at other P (e.g. np=3, 4)
from the parameters fitted at the first file's P, and print predicted vs measured.

Writes a table to stdout, and with --out PREFIX also PREFIX.txt and PREFIX.png (gnuplot).
"""
import argparse
import json
import math
import shutil
import subprocess
import sys

LINKS = {  # alpha seconds, beta seconds per byte: nominal, not measured
    "10gbe": (20e-6, 1 / 1.25e9),
    "25gbe": (10e-6, 1 / 3.125e9),
    "100gbe": (5e-6, 1 / 12.5e9),
    "hdr": (1.5e-6, 1 / 25e9),
}
BUCKET = 4 << 20
PIECE = (1 << 15) * 4  # HierarchicalAllreduce::kDefaultPieceFloats * 4 bytes
SMALL = 1024 * 4       # HierarchicalAllreduce::kSmallFloats * 4 bytes
IN_PLACE_MIN = 256 * 4  # HierarchicalAllreduce::kInPlaceMinFloats * 4 bytes


def floor_pow2(p):
    v = 1
    while v * 2 <= p:
        v *= 2
    return v


def coefficients(algo, p, n, in_place=True):
    """(a, b, c) of time = a alpha + b beta + c gamma for n bytes on p ranks.

    in_place: the buffer is a communicator array (the trainer's gradients; the bench's default
    buffer), which the hierarchical algorithm sums in place from IN_PLACE_MIN bytes."""
    if p == 1:
        return 0.0, 0.0, 0.0
    pof2 = floor_pow2(p)
    lg = math.log2(pof2)
    fold = 1.0 if pof2 != p else 0.0
    part = (pof2 - 1) / pof2
    if algo == "ring":
        return 2 * (p - 1), 2 * (p - 1) / p * n, (p - 1) / p * n
    if algo == "rd":
        return lg + 2 * fold, (lg + 2 * fold) * n, (lg + fold) * n
    if algo in ("rabenseifner", "mpi"):
        return 2 * lg + 2 * fold, (2 * part + 2 * fold) * n, (part + fold) * n
    if algo == "hierarchical" and in_place and n >= IN_PLACE_MIN:  # one host of p ranks
        return 2.0, 2 * (p - 1) / p * n, (p - 1) / p * n
    if algo == "hierarchical":  # one host of p ranks, staged through copies
        pieces = math.ceil(n / PIECE)
        return (1.0 if n <= SMALL else 2.0 * pieces), (3 * (p - 1) + 1) / p * n, (p - 1) / p * n
    raise SystemExit(f"no cost model for {algo}")


def model_time(algo, p, n, alpha, beta, gamma, in_place=True):
    a, b, c = coefficients(algo, p, n, in_place)
    return a * alpha + b * beta + c * gamma


def in_place(fit):
    """Whether a fit was measured on a communicator array (older files: staged)."""
    return fit.get("buffer", "private") == "shared"


def allreduce_time(algo, p, total_bytes, fits, link, ranks_per_host):
    gamma = fits[algo]["gamma_s_per_byte"] if algo in fits else next(iter(fits.values()))["gamma_s_per_byte"]
    t = 0.0
    left = total_bytes
    while left > 0:
        n = min(BUCKET, left)
        left -= n
        if algo == "hierarchical":
            shm = fits["hierarchical"]
            local = min(p, ranks_per_host)
            hosts = math.ceil(p / ranks_per_host)
            t += model_time("hierarchical", local, n, shm["alpha_s"], shm["beta_s_per_byte"], gamma,
                            in_place(shm))
            if hosts > 1:
                alpha, beta = link if link else (fits["ring"]["alpha_s"], fits["ring"]["beta_s_per_byte"])
                leader = "rd" if n <= 4096 * 4 else "ring"
                # Then two more barriers on the host, and the others copy the leader's result.
                t += model_time(leader, hosts, n, alpha, beta, gamma) + 2 * shm["alpha_s"]
                if in_place(shm) and local > 1:
                    t += n * shm["beta_s_per_byte"]
        else:
            alpha, beta = link if link else (fits[algo]["alpha_s"], fits[algo]["beta_s_per_byte"])
            t += model_time(algo, p, n, alpha, beta, gamma)
    return t


def load_fits(path):
    with open(path) as f:
        doc = json.load(f)
    return {fit["algo"]: fit for fit in doc["fits"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fit", required=True, help="JSON from dtrain bench allreduce --fit-json")
    ap.add_argument("--params", type=float, required=True, help="model parameters (e.g. 693962 for the cnn)")
    ap.add_argument("--step-ms", type=float, required=True, help="measured compute time of one step, ms")
    ap.add_argument("--link", default="fit", help="fit | " + " | ".join(LINKS))
    ap.add_argument("--alpha-us", type=float, help="link latency (overrides --link)")
    ap.add_argument("--beta-ns-per-byte", type=float, help="link time per byte (overrides --link)")
    ap.add_argument("--ranks-per-host", type=int, default=8)
    ap.add_argument("--algos", default="ring,rd,rabenseifner,hierarchical")
    ap.add_argument("--name", default="model")
    ap.add_argument("--out", help="write PREFIX.txt and PREFIX.png")
    ap.add_argument("--validate", nargs="*", default=[], help="fit JSONs measured at other P")
    args = ap.parse_args()

    fits = load_fits(args.fit)
    if args.alpha_us is not None or args.beta_ns_per_byte is not None:
        if args.alpha_us is None or args.beta_ns_per_byte is None:
            ap.error("--alpha-us and --beta-ns-per-byte go together")
        link, link_name = (args.alpha_us * 1e-6, args.beta_ns_per_byte * 1e-9), "custom"
    elif args.link == "fit":
        link, link_name = None, "this machine's fit"
    elif args.link in LINKS:
        link, link_name = LINKS[args.link], args.link
    else:
        ap.error(f"--link {args.link}: expected fit or one of {', '.join(LINKS)}")
    algos = [a for a in args.algos.split(",") if a]
    for a in algos:
        if a not in fits:
            ap.error(f"--algos: {a} is not in {args.fit} (fitted: {', '.join(fits)})")

    if args.validate:
        base_p = next(iter(fits.values()))["ranks"]
        print(f"# validation: parameters fitted at P={base_p} ({args.fit}) predict other P")
        print(f"{'algo':<13} {'P':>3} {'bytes':>10} {'measured_us':>12} {'predicted_us':>13} {'error':>7}")
        for path in args.validate:
            for algo, other in load_fits(path).items():
                if algo not in fits:
                    continue
                f = fits[algo]
                for n, measured in zip((pt["bytes"] for pt in other["points"]),
                                       (pt["measured_us"] for pt in other["points"])):
                    pred = model_time(algo, other["ranks"], n, f["alpha_s"], f["beta_s_per_byte"],
                                      f["gamma_s_per_byte"], in_place(other)) * 1e6
                    print(f"{algo:<13} {other['ranks']:>3} {n:>10} {measured:>12.2f} {pred:>13.2f} "
                          f"{100 * (pred - measured) / measured:>6.0f}%")
        print()

    bytes_total = int(args.params) * 4
    ranks = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
    step = args.step_ms * 1e-3
    lines = [f"# {args.name}: {int(args.params)} parameters ({bytes_total / 2**20:.2f} MiB of gradients), "
             f"step {args.step_ms} ms, link: {link_name}, {args.ranks_per_host} ranks per host for hierarchical",
             "# allreduce ms (efficiency = step / (step + allreduce), no overlap)",
             f"{'P':>5} " + " ".join(f"{a + '_ms':>16} {'eff':>5}" for a in algos)]
    rows = []
    for p in ranks:
        row = [p]
        cells = []
        for a in algos:
            t = allreduce_time(a, p, bytes_total, fits, link, args.ranks_per_host)
            eff = step / (step + t)
            row += [t * 1e3, eff]
            cells.append(f"{t * 1e3:>16.3f} {eff:>5.2f}")
        rows.append(row)
        lines.append(f"{p:>5} " + " ".join(cells))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out + ".txt", "w") as f:
            f.write(text)
        with open(args.out + ".dat", "w") as f:
            for row in rows:
                f.write(" ".join(f"{v:.6g}" for v in row) + "\n")
        if shutil.which("gnuplot") is None:
            print("gnuplot not found: no PNG", file=sys.stderr)
            return
        plots = ", ".join(f"'{args.out}.dat' using 1:{3 + 2 * i} with linespoints title '{a}'"
                          for i, a in enumerate(algos))
        script = f"""set terminal png size 900,540
set output '{args.out}.png'
set title "{args.name}: predicted data-parallel efficiency ({link_name})"
set logscale x 2
set xlabel 'ranks'
set ylabel 'efficiency = step / (step + allreduce)'
set yrange [0:1.05]
set key bottom left
set grid
plot {plots}
"""
        subprocess.run(["gnuplot"], input=script.encode(), check=True)


if __name__ == "__main__":
    main()
