#!/usr/bin/env bash
# What a pause before a run does to the run that follows: PROGRAM (default /bin/true) started by a
# minimal spawner (idle_before_run.c) back to back, after an idle pause (sleep), after the same time
# spent busy (spin), and after writing 2 MiB (evicting the caches), in interleaved rounds of RUNS
# runs each, everything pinned to one CPU. Prints each mode's median interval against the
# back-to-back runs of the same round (median [min-max] of the round ratios).
# Why it matters: the orchestrator used to sleep 2 ms after starting every run, so each run of a
# short program came after an idle pause (crates/orchestrator/src/measure/mod.rs, QUIET_START).
# A benchmark, not a test.   Usage: tests/benchmarks/idle_before_run.sh [PROGRAM ARGS...]
#   ROUNDS (default 8), RUNS (default 60), CPU (default the first this process may use)
set -euo pipefail
cd "$(dirname "$0")"
ROUNDS=${ROUNDS:-8}
RUNS=${RUNS:-60}
CPU=${CPU:-$(python3 -c 'import os; print(min(os.sched_getaffinity(0)))')}
[ $# -gt 0 ] || set -- /bin/true
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/idle_before_run" idle_before_run.c
cpu() { grep -m1 "^$1" /proc/cpuinfo | cut -d: -f2 | xargs; }
echo "machine: $(cpu 'model name') (vendor $(cpu vendor_id), family $(cpu 'cpu family'), model $(cpu model), stepping $(cpu stepping)); CPU $CPU; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "program: $*; $ROUNDS rounds of $RUNS runs a mode"
modes=("none 0" "sleep 100" "sleep 1000" "sleep 2000" "spin 1000" "touch 2048")
for r in $(seq "$ROUNDS"); do
  # Turned by one mode each round, so that no mode always comes first.
  k=$(( (r - 1) % ${#modes[@]} ))
  for m in "${modes[@]:$k}" "${modes[@]:0:$k}"; do
    # shellcheck disable=SC2086
    echo "$r $m $(taskset -c "$CPU" "$work/idle_before_run" "$RUNS" $m "$@")"
  done
done > "$work/rounds"
python3 - "$work/rounds" <<'EOF'
import statistics, sys
rounds = {}
for line in open(sys.argv[1]):
    r, mode, amount, us = line.split()
    rounds.setdefault(int(r), {})[f"{mode} {amount}"] = float(us)
base = [v["none 0"] for v in rounds.values()]
print(f"back to back: median {statistics.median(base):.1f} us [{min(base):.1f}-{max(base):.1f}] over rounds")
labels = {"sleep": "idle {} us before", "spin": "busy {} us before", "touch": "{} KiB written before"}
for key in ["sleep 100", "sleep 1000", "sleep 2000", "spin 1000", "touch 2048"]:
    mode, amount = key.split()
    ratios = [v[key] / v["none 0"] for v in rounds.values()]
    slower = sum(q > 1 for q in ratios)
    print(f"{labels[mode].format(amount):>24}: {statistics.median(ratios):.3f} [{min(ratios):.3f}-{max(ratios):.3f}]"
          f" of back to back, slower in {slower} of {len(ratios)} rounds")
EOF
