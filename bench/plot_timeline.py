#!/usr/bin/env python3
"""Renders a few training steps of a dtrain --timeline trace as a PNG (gnuplot), one lane per
rank and thread: forward, backward, bucket reductions, waits and the optimizer in their own
colours, so what overlaps with what is visible without a browser.

    bench/plot_timeline.py TRACE.json OUT.png [--first-step S] [--steps K]
"""
import argparse
import json
import subprocess
import tempfile

COLOURS = {"forward": "#4e79a7", "backward": "#f28e2b", "reduce": "#59a14f", "wait": "#e15759",
           "optimizer": "#b07aa1", "data": "#9c755f"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("png")
    ap.add_argument("--first-step", type=int, default=10)
    ap.add_argument("--steps", type=int, default=2)
    a = ap.parse_args()
    events = json.load(open(a.trace))["traceEvents"]
    steps = [e for e in events if e.get("cat") == "step" and e["pid"] == 0]
    chosen = [e for e in steps if a.first_step <= e["args"]["step"] < a.first_step + a.steps]
    if not chosen:
        raise SystemExit(f"no steps {a.first_step}..{a.first_step + a.steps - 1} in {a.trace}")
    t0 = chosen[0]["ts"]
    t1 = chosen[-1]["ts"] + chosen[-1]["dur"]
    ranks = sorted({e["pid"] for e in events if "pid" in e})
    lane = {}
    for r in ranks:
        lane[(r, 0)] = len(lane)
        lane[(r, 1)] = len(lane)
    with tempfile.NamedTemporaryFile("w", suffix=".dat", delete=False) as data:
        for cat, colour in COLOURS.items():
            data.write(f"# {cat}\n")
            n = 0
            for e in events:
                if e.get("ph") != "X" or e.get("cat") != cat:
                    continue
                b, d = e["ts"], e["dur"]
                if b + d < t0 or b > t1:
                    continue
                y = lane[(e["pid"], e["tid"])]
                data.write(f"{(b - t0) / 1000:.4f} {(b + d - t0) / 1000:.4f} {y - 0.35} {y + 0.35}\n")
                n += 1
            if n == 0:
                data.write("nan nan nan nan\n")
            data.write("\n\n")
    labels = ", ".join(f'"rank {r} {"main" if t == 0 else "comm"}" {y}' for (r, t), y in lane.items())
    plots = ", ".join(
        f"'{data.name}' index {i} using 1:3:1:2:3:4 with boxxyerror fs solid 0.9 noborder "
        f"lc rgb '{c}' title '{cat}'" for i, (cat, c) in enumerate(COLOURS.items()))
    script = f"""
set terminal pngcairo size 1400,{120 + 60 * len(lane)} font ",10"
set output '{a.png}'
set title 'dtrain timeline, steps {a.first_step}-{a.first_step + a.steps - 1}'
set xlabel 'milliseconds'
set ytics ({labels})
set yrange [-0.7:{len(lane) - 0.3}]
set xrange [0:{(t1 - t0) / 1000:.3f}]
set key outside right
plot {plots}
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


if __name__ == "__main__":
    main()
