#!/usr/bin/env python3
"""Markdown tables of bench/sim_allreduce_sweep.sh's results.jsonl: simulated p50 time in us
per platform, P and size, for our algorithms (auto with the one it chose) and MPI_Allreduce
under the ompi and mpich selectors. Usage: sim_allreduce_table.py results.jsonl"""
import json
import sys

SIZES = [8, 1024, 65536, 1048576, 16777216]
COLUMNS = [("auto", "ompi"), ("ring", "ompi"), ("rd", "ompi"), ("rabenseifner", "ompi"),
           ("hierarchical", "ompi"), ("mpi", "ompi"), ("mpi", "mpich")]


def size_name(b):
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= scale:
            return f"{b // scale} {unit}"
    return f"{b} B"


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    by = {}
    for r in rows:
        by[(r["platform"], r["ranks"], r["bytes"], r["algo"], r["selector"])] = r
    for platform in dict.fromkeys(r["platform"] for r in rows):
        k = next(r["ranks_per_host"] for r in rows if r["platform"] == platform)
        print(f"\n### {platform} ({k} rank{'s' if k > 1 else ''} a host), simulated us (p50)\n")
        head = ["P", "size"] + [f"{a}" if a != "mpi" else f"MPI ({s})" for a, s in COLUMNS]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        ranks = sorted({r["ranks"] for r in rows if r["platform"] == platform})
        for p in ranks:
            for b in SIZES:
                cells = []
                for algo, sel in COLUMNS:
                    r = by.get((platform, p, b, algo, sel))
                    if r is None:
                        cells.append("-")
                        continue
                    cell = f"{r['time_us_p50']:.1f}"
                    if r["wrong"]:
                        cell += f" (wrong {r['wrong']})"
                    if algo == "auto" and "chosen" in r:
                        cell += f" ({r['chosen']})"
                    cells.append(cell)
                if all(c == "-" for c in cells):
                    continue
                print(f"| {p} | {size_name(b)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
