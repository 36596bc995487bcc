#!/usr/bin/env bash
# The measurement engine against the reference tools, on the same commands, interleaved:
#   wall time   against `hyperfine -N`: rounds alternate (hyperfine, then the orchestrator, on the
#               same commands); each round gives one ratio of medians, and the figure is the median
#               of the round ratios with its 95% confidence interval (distribution-free, from order
#               statistics). Rounds go on, MIN_ROUNDS at least and MAX_ROUNDS at most, until the
#               interval of /bin/true and of linreg is within ±3% of its median.
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
MIN_ROUNDS=${MIN_ROUNDS:-8}
MAX_ROUNDS=${MAX_ROUNDS:-30}
HALF_WIDTH=${HALF_WIDTH:-0.03}
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

cpu() { grep -m1 "^$1" /proc/cpuinfo | cut -d: -f2 | xargs; }
echo "machine: $(cpu 'model name') (vendor $(cpu vendor_id), family $(cpu 'cpu family'), model $(cpu model), stepping $(cpu stepping)), $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
ROUNDS=0
while :; do
  ROUNDS=$((ROUNDS + 1))
  hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$work/hf-$ROUNDS.json" /bin/true "$LINREG" "$NUMPY" >/dev/null 2>&1
  "$ORCH" run --results "$work/results" --out "$work/orch-$ROUNDS" "$work/engine.yaml" >/dev/null
  echo "round $ROUNDS done (load $(cut -d' ' -f1 /proc/loadavg))"
  [ "$ROUNDS" -lt "$MIN_ROUNDS" ] && continue
  [ "$ROUNDS" -ge "$MAX_ROUNDS" ] && break
  python3 tests/benchmarks/engine_ratios.py "$work" "$ROUNDS" --converged "$HALF_WIDTH" && break
done
"$ORCH" run --no-probes --results "$work/results" --out "$work/big" "$work/big.yaml" >/dev/null
for i in $(seq 20); do
  for name in linreg numpy; do
    cmd=$LINREG; [ $name = numpy ] && cmd=$NUMPY
    /usr/bin/time -f "%M" -o "$work/time-$name-$i" $cmd >/dev/null
  done
done

python3 tests/benchmarks/engine_ratios.py "$work" "$ROUNDS"
