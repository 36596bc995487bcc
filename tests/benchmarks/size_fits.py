"""Sizes a scenario's `fits:` (K per implementation and point) from measurements on this machine.

For every point of every scenario with `fits:` in a run directory's plan.json, runs each planned
implementation once with a small K (after one untimed run, so the page cache is warm), reads the
warm median from its result line and prints the K that makes a run's fits last about `--seconds`
(default 1), as YAML lines to paste into the scenario's sweep. It prints what it measured, so a
reader sees where each K came from; it changes no file.

    python tests/benchmarks/size_fits.py RUN_DIR [--seconds 1.0] [--probe-fits 5]

Use a plan that includes every point (a full run, or `orchestrator run --repetitions 1 --warmup 0`
stopped after the plan is written: plan.json is written before the first run).
"""

import argparse
import json
import math
import subprocess
import sys
import time


def fill(template, values):
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def round_two_digits(k):
    """K to two significant digits, at least 3 (a first fit and two warm ones)."""
    if k < 3:
        return 3
    digits = int(math.floor(math.log10(k))) - 1
    step = 10 ** max(digits, 0)
    return int(round(k / step) * step)


def warm_median(argv, fits, timeout):
    """(warm median seconds, whole process seconds) of one run with --fits `fits`."""
    started = time.perf_counter()
    proc = subprocess.run(argv + ["--fits", str(fits)], capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {proc.stderr.strip()[:300]}")
    line = json.loads(proc.stdout.strip().splitlines()[-1])
    return line["fit_warm_median_seconds"], wall


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir")
    parser.add_argument("--seconds", type=float, default=1.0, help="the time a run's fits should take (default 1)")
    parser.add_argument("--probe-fits", type=int, default=5, help="K of the measuring run (default 5)")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    with open(f"{args.run_dir}/plan.json", encoding="utf-8") as f:
        plan = json.load(f)
    for scenario in plan["scenarios"]:
        points = [p for p in scenario["points"] if p.get("fits")]
        if not points:
            continue
        print(f"# {scenario['name']}: K for about {args.seconds:g} s of fits a run")
        for point in points:
            values = {
                "data": point["data_path"],
                "epochs": str(point["epochs"]),
                "learning_rate": repr(float(point["learning_rate"])),
                "n": str(point["n"]),
            }
            sized = {}
            for implementation in scenario["implementations"]:
                name = implementation["name"]
                if name not in point["fits"] or implementation.get("unavailable"):
                    continue
                argv = [fill(a, values) for a in implementation["command"]]
                try:
                    warm_median(argv, 2, args.timeout)  # untimed: the page cache, the JIT's disk cache
                    median, wall = warm_median(argv, args.probe_fits, args.timeout)
                except (RuntimeError, subprocess.TimeoutExpired, KeyError, ValueError) as error:
                    print(f"#   {name}: not sized ({error})", file=sys.stderr)
                    continue
                sized[name] = round_two_digits(args.seconds / median)
                print(f"#   n={point['n']} {name}: warm median {median * 1e6:.1f} µs (process {wall:.2f} s) -> K = {sized[name]}")
            listed = ", ".join(f"{name}: {k}" for name, k in sized.items())
            print(f"  - n: {point['n']}\n    fits: {{{listed}}}")


if __name__ == "__main__":
    main()
