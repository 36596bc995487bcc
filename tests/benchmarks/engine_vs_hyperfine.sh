#!/usr/bin/env bash
# The measurement engine against the reference tools, on the same commands, interleaved:
#   wall time   against `hyperfine -N` (median of medians over ROUNDS rounds, A B A B …)
#   peak memory against `/usr/bin/time -v` (median of RUNS runs each)
#   CPU time    against hyperfine's user + system
# and /bin/true measured after the orchestrator generated a 10^7-point dataset (its own RSS is
# then ~200 MB: a parent's high-water mark must not leak into the child's peak).
# Runs are grouped (each command back to back), as hyperfine runs them.
# A benchmark, not a test: it prints the figures and the ratios; the README records them.
# Each round's orchestrator run also runs the probes, whose spawn floor is set against hyperfine's /bin/true.
# Usage: make bench-engine   (needs hyperfine: apt-get install hyperfine)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-5}
RUNS=${RUNS:-100}
ORCH=./target/release/orchestrator
PY=python_impl/.venv/bin/python
command -v hyperfine >/dev/null || { echo "bench-engine: hyperfine is not installed (apt-get install hyperfine)"; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'x,y\n1,2\n2,4\n3,6\n4,8\n5,10\n' > "$work/seed.csv"
LINREG="$PWD/target/release/linreg-static --data $work/seed.csv --epochs 1000 --learning-rate 0.01 --kernel scalar"
NUMPY="$PWD/$PY $PWD/python_impl/linreg_numpy.py --data $work/seed.csv --epochs 1000 --learning-rate 0.01"

cat > "$work/engine.yaml" <<YAML
name: engine
dataset: {csv: {path: $work/seed.csv}}
training: {epochs: 1000, learning_rate: 0.01}
implementations: [bin-true, linreg, numpy]
baseline: bin-true
define:
  bin-true: {command: ["/bin/true"], protocol: none}
  linreg: {command: [$(printf '"%s", ' $LINREG | sed 's/, $//')], protocol: none}
  numpy: {command: [$(printf '"%s", ' $NUMPY | sed 's/, $//')], protocol: none}
measure: {warmup: 5, repetitions: $RUNS, sample_interval_ms: 1, order: grouped}
YAML
cat > "$work/big.yaml" <<YAML
name: big-parent
dataset: {generate: {n: 10000000, slope: 2, intercept: 0.5, noise: 0.1, seed: 1}}
training: {epochs: 1, learning_rate: 0.01}
implementations: [bin-true]
baseline: bin-true
define:
  bin-true: {command: ["/bin/true"], protocol: none}
measure: {warmup: 3, repetitions: 30}
YAML

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
  hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$work/hf-$round.json" /bin/true "$LINREG" "$NUMPY" >/dev/null 2>&1
  "$ORCH" run --results "$work/results" --out "$work/orch-$round" "$work/engine.yaml" >/dev/null
  echo "round $round done (load $(cut -d' ' -f1 /proc/loadavg))"
done
"$ORCH" run --no-probes --results "$work/results" --out "$work/big" "$work/big.yaml" >/dev/null
for i in $(seq 20); do
  for name in linreg numpy; do
    cmd=$LINREG; [ $name = numpy ] && cmd=$NUMPY
    /usr/bin/time -f "%M" -o "$work/time-$name-$i" $cmd >/dev/null
  done
done

python3 - "$work" "$ROUNDS" <<'PY'
import json, statistics, sys, glob, csv
work, rounds = sys.argv[1], int(sys.argv[2])
names = {"/bin/true": "bin-true", "linreg": "linreg", "numpy": "numpy"}
def hf_key(command):
    return "bin-true" if command == "/bin/true" else ("linreg" if "linreg-static" in command else "numpy")
def orch_rows(directory, implementation):
    with open(f"{directory}/raw.csv") as f:
        return [r for r in csv.DictReader(f) if r["implementation"] == implementation and r["status"] == "ok"]
hf_wall, hf_cpu, or_wall, or_cpu, or_peak = {}, {}, {}, {}, {}
for r in range(1, rounds + 1):
    for result in json.load(open(f"{work}/hf-{r}.json"))["results"]:
        k = hf_key(result["command"])
        hf_wall.setdefault(k, []).append(result["median"])
        hf_cpu.setdefault(k, []).append(result["user"] + result["system"])
    for k in ("bin-true", "linreg", "numpy"):
        rows = orch_rows(f"{work}/orch-{r}", k)
        or_wall.setdefault(k, []).append(statistics.median(float(x["wall_seconds"]) for x in rows))
        or_cpu.setdefault(k, []).append(statistics.mean(float(x["user_seconds"]) + float(x["system_seconds"]) for x in rows))
        or_peak.setdefault(k, []).extend(int(x["peak_rss_bytes"]) for x in rows)
med = statistics.median
print(f"\nwall time, median of {rounds} round medians (spread: min–max of the round medians)")
print(f"{'command':10} {'hyperfine -N':>22} {'orchestrator':>22} {'ratio':>7}")
for k in ("bin-true", "linreg", "numpy"):
    h, o = hf_wall[k], or_wall[k]
    print(f"{k:10} {med(h)*1e3:8.3f} ms [{min(h)*1e3:.3f}–{max(h)*1e3:.3f}] {med(o)*1e3:8.3f} ms [{min(o)*1e3:.3f}–{max(o)*1e3:.3f}] {med(o)/med(h):7.3f}")
print("\nCPU user+system (mean per run), orchestrator / hyperfine")
for k in ("bin-true", "linreg", "numpy"):
    print(f"{k:10} {med(hf_cpu[k])*1e3:8.3f} ms {med(or_cpu[k])*1e3:8.3f} ms {med(or_cpu[k])/med(hf_cpu[k]):7.3f}")
print("\npeak RSS, median: orchestrator against /usr/bin/time -v (20 runs)")
for k in ("linreg", "numpy"):
    t = med(int(open(p).read().split()[-1]) * 1024 for p in glob.glob(f"{work}/time-{k}-*"))
    o = med(or_peak[k])
    print(f"{k:10} {o/2**20:8.3f} MiB {t/2**20:8.3f} MiB {o/t:7.3f}")
print(f"{'bin-true':10} {med(or_peak['bin-true'])/2**20:8.3f} MiB (no dataset in the parent)")
big = [int(x["peak_rss_bytes"]) for x in orch_rows(f"{work}/big", "bin-true")]
exact = [x["peak_rss_exact"] for x in orch_rows(f"{work}/big", "bin-true")]
print(f"{'bin-true':10} {med(big)/2**20:8.3f} MiB after generating 10^7 points (max {max(big)/2**20:.3f}; exact in {exact.count('true')}/{len(exact)} runs)")
floors = [json.load(open(f"{work}/orch-{r}/environment.json"))["spawn_floor_seconds"] for r in range(1, rounds + 1)]
h = med(hf_wall["bin-true"])
print(f"\nspawn floor (environment.json, the probes of each round): median {med(floors)*1e3:.3f} ms [{min(floors)*1e3:.3f}–{max(floors)*1e3:.3f}]"
      f" against hyperfine's /bin/true {h*1e3:.3f} ms: {med(floors)/h:.3f}")
PY
