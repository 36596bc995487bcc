#!/usr/bin/env bash
# The measurement engine against the reference tools, on the same commands:
#   wall time   against `hyperfine -N`: for each command, rounds of RUNS runs by hyperfine and RUNS
#               by the orchestrator back to back (the order alternating from round to round, so a
#               drift of the machine's speed counts against each tool alike); each round gives one
#               ratio of medians, and the figure is the median of the round ratios with its 95%
#               confidence interval (distribution-free, from order statistics). A round lasts under
#               a second for /bin/true and linreg: the two tools measure the machine in the same
#               state, which rounds of several commands, seconds apart, did not (their ratios
#               ranged 0.76–1.34 on a 2-vCPU Zen 3). Rounds go on, MIN_ROUNDS at least and
#               MAX_ROUNDS at most, until the intervals of /bin/true and of linreg are within ±3%
#               of their medians; python-numpy gets NUMPY_ROUNDS rounds.
#               Each round runs on one CPU, two rounds on each in turn (PIN=1, the default): the
#               child of either tool, and the tool's own waiting process (hyperfine; the
#               orchestrator's launcher), pinned there (`taskset`, the scenario's `cpus:`). The
#               vCPUs of a shared guest need not run at one speed: on a 2-vCPU Emerald Rapids
#               guest (family 6 model 207, 300 MiB L3) /bin/true took 258-285 µs from exec to exit
#               on one vCPU and 279-436 µs on the other in the same minute (scheduler tracepoints,
#               `perf record -e sched:*`), and unpinned, the orchestrator's children had run on
#               both (21 and 34 of 55) and hyperfine's on one (55 of 55): the ratio then says
#               where the scheduler put the children as much as what the tool costs. PIN=0 leaves
#               the placement to the scheduler, as before.
#   peak memory against `/usr/bin/time -v` (median of TIME_RUNS = 20 runs each with the default
#               rounds, taken among the rounds, a run or two a round, each pinned to its round's
#               CPU (PIN=1) as the orchestrator's runs are, so that both tools see the machine in
#               the same state and their children fault on one CPU alike. Both read the same
#               counter, and two things move it (README, "What is measured, and how"): the page
#               cache, as it holds the binary's file (the kernel maps the cached pages around
#               each fault: three copies of the same `linreg` read 1 204 to 1 332 KiB on a Zen 4),
#               and since Linux 6.2 the per-CPU counts `ru_maxrss` sums, which lag the pages held
#               by up to 31 a CPU in each of three counts, by how the child's faults fell on the
#               CPUs. With the 20 runs after all the rounds `/usr/bin/time` once read `linreg` at
#               1.227 MiB against the rounds' 1.234; among them but unpinned, once 1.117 against
#               1.215 (pinned), and 1.203 against 1.203 in the runs before and after)
#   CPU time    against hyperfine's user + system
#   spawn floor the probes' (one orchestrator run with probes) against hyperfine's /bin/true
#               measured right after it
# and /bin/true measured after the orchestrator generated a 10^7-point dataset (its own RSS is
# then ~200 MB: a parent's high-water mark must not leak into the child's peak).
# A benchmark, not a test: it prints the figures and the ratios; the README records them.
# Usage: make bench-engine   (needs hyperfine: apt-get install hyperfine)
set -euo pipefail
cd "$(dirname "$0")/../.."
MIN_ROUNDS=${MIN_ROUNDS:-20}
MAX_ROUNDS=${MAX_ROUNDS:-300}
NUMPY_ROUNDS=${NUMPY_ROUNDS:-10}
HALF_WIDTH=${HALF_WIDTH:-0.03}
RUNS=${RUNS:-50}
TIME_RUNS=20
PIN=${PIN:-1}
CPUS=($(python3 -c 'import os; print(*sorted(os.sched_getaffinity(0)))'))
ORCH=./target/release/orchestrator
PY=python_impl/.venv/bin/python
command -v hyperfine >/dev/null || { echo "bench-engine: hyperfine is not installed (apt-get install hyperfine)"; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'x,y\n1,2\n2,4\n3,6\n4,8\n5,10\n' > "$work/seed.csv"
LINREG="$PWD/target/release/linreg-static --data $work/seed.csv --epochs 1000 --learning-rate 0.01 --kernel scalar"
NUMPY="$PWD/$PY $PWD/python_impl/linreg_numpy.py --data $work/seed.csv --epochs 1000 --learning-rate 0.01"

# One scenario per command (and per CPU when pinned): a round measures one command with both
# tools, back to back.
scenario() {  # scenario NAME CMD [CPU]
  cat <<YAML
name: engine-$1
dataset: {csv: {path: $work/seed.csv}}
training: {epochs: 1000, learning_rate: 0.01}
implementations: [$1]
baseline: $1
define:
  $1: {command: [$(printf '"%s", ' $2 | sed 's/, $//')], protocol: none}
measure: {warmup: 5, repetitions: $RUNS, sample_interval_ms: 1, order: grouped${3:+, cpus: [$3]}}
YAML
}
for name in bin-true linreg numpy; do
  case $name in bin-true) cmd=/bin/true ;; linreg) cmd=$LINREG ;; numpy) cmd=$NUMPY ;; esac
  scenario "$name" "$cmd" > "$work/$name.yaml"
  for c in "${CPUS[@]}"; do scenario "$name" "$cmd" "$c" > "$work/$name-cpu$c.yaml"; done
done
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
[ "$PIN" = 1 ] && echo "rounds pinned to CPUs ${CPUS[*]} in turn (PIN=0: unpinned)"
# round_cpu R: the CPU round R runs on when pinned.
round_cpu() { echo "${CPUS[$(( ($1 - 1) / 2 % ${#CPUS[@]} ))]}"; }
# round NAME R CMD: hyperfine and the orchestrator on one command, in the order R's parity says,
# when pinned on the CPUs in turn, two rounds each, so that each CPU sees both orders (kept in
# round-cpus for engine_ratios.py).
round() {
  local name=$1 r=$2 cmd=$3 pin=() scenario=$work/$1.yaml
  if [ "$PIN" = 1 ]; then
    local cpu
    cpu=$(round_cpu "$r")
    pin=(taskset -c "$cpu") scenario=$work/$name-cpu$cpu.yaml
    echo "$name $r $cpu" >> "$work/round-cpus"
  fi
  local hf=("${pin[@]}" hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$work/hf-$name-$r.json" "$cmd")
  local or=("$ORCH" run --no-probes --results "$work/results" --out "$work/orch-$name-$r" "$scenario")
  if [ $((r % 2)) -eq 1 ]; then "${hf[@]}" >/dev/null 2>&1; "${or[@]}" >/dev/null 2>&1
  else "${or[@]}" >/dev/null 2>&1; "${hf[@]}" >/dev/null 2>&1; fi
}
"$ORCH" run --results "$work/results" --out "$work/probes" "$work/bin-true.yaml" >/dev/null 2>&1
hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$work/hf-probes.json" /bin/true >/dev/null 2>&1
# time_v NAME TAG R CMD: one run of CMD under /usr/bin/time, its peak kept for engine_ratios.py;
# pinned as round R's runs are (PIN=1), so that both tools' children fault on one CPU alike.
time_v() {
  local pin=()
  [ "$PIN" = 1 ] && pin=(taskset -c "$(round_cpu "$3")")
  "${pin[@]}" /usr/bin/time -f "%M" -o "$work/time-$1-$2" $4 >/dev/null
}
ROUNDS=0
while :; do
  ROUNDS=$((ROUNDS + 1))
  round bin-true "$ROUNDS" /bin/true
  round linreg "$ROUNDS" "$LINREG"
  [ "$ROUNDS" -le "$TIME_RUNS" ] && time_v linreg "$ROUNDS" "$ROUNDS" "$LINREG"
  if [ "$ROUNDS" -le "$NUMPY_ROUNDS" ]; then
    round numpy "$ROUNDS" "$NUMPY"
    for k in $(seq "$(( (TIME_RUNS + NUMPY_ROUNDS - 1) / NUMPY_ROUNDS ))"); do time_v numpy "$ROUNDS-$k" "$ROUNDS" "$NUMPY"; done
  fi
  [ $((ROUNDS % 10)) -eq 0 ] && echo "round $ROUNDS done (load $(cut -d' ' -f1 /proc/loadavg))"
  [ "$ROUNDS" -lt "$MIN_ROUNDS" ] && continue
  [ "$ROUNDS" -lt "$NUMPY_ROUNDS" ] && continue
  [ "$ROUNDS" -ge "$MAX_ROUNDS" ] && break
  python3 tests/benchmarks/engine_ratios.py "$work" "$ROUNDS" --converged "$HALF_WIDTH" && break
done
"$ORCH" run --no-probes --results "$work/results" --out "$work/big" "$work/big.yaml" >/dev/null

python3 tests/benchmarks/engine_ratios.py "$work" "$ROUNDS"
