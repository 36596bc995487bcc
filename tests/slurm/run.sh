#!/usr/bin/env bash
# make test-slurm: a real one-node Slurm (Debian's slurm-wlm and munge, no systemd) brought up in
# a temporary directory, a 2-shard --quick run submitted through deploy/slurm/submit.sh (build job,
# exclusive array, dependent merge), the merged report checked (every point of the plan present,
# each ran by one shard, the shards one after the other on the one node), and everything torn
# down: no daemon, job step or file is left behind, and nothing is written to /etc.
#
# TEST_SLURM_KEEP=DIR keeps a copy of the run (shards, merged report, job logs) in DIR.
# Needs root (the daemons and apt-get). Exits 77 when it cannot run here (not root, no Slurm and
# no apt-get), after saying why; 0 when it passed; 1 when it failed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SCENARIOS=${SCENARIOS:-"scenarios/seed.yaml scenarios/learning-rate.yaml"}
LIMIT_SECONDS=${LIMIT_SECONDS:-110}
started=$SECONDS

say() { echo "test-slurm: $*"; }
skip() { say "SKIPPED: $*"; exit 77; }
fail() {
    say "FAILED: $*"
    for log in "$tmp"/*.log "$tmp"/run/logs/*.out; do
        [[ -f $log ]] && { echo "--- $log"; tail -n 30 "$log"; }
    done
    exit 1
}

[[ $(id -u) -eq 0 ]] || skip "needs root to start munged, slurmctld and slurmd"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
    command -v apt-get >/dev/null || skip "Slurm is not installed and there is no apt-get to install it"
    say "installing slurm-wlm and munge (apt-get)…"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge; } >/dev/null 2>&1 \
        || skip "apt-get could not install slurm-wlm and munge (offline?)"
fi
[[ -x $root/target/release/orchestrator ]] || fail "no release build: run make build first (make test-slurm does)"

tmp=$(mktemp -d /tmp/linreg-slurm.XXXXXX)
chmod 700 "$tmp"
pids=()
jobs_submitted=()

# Every daemon this test starts, and every job step and job they start, carries
# LINREG_SLURM_TEST=$tmp in its environment (this shell does not): that, not a process name, is how
# leftovers are found.
marker="LINREG_SLURM_TEST=$tmp"
ours() {
    local p
    for p in /proc/[0-9]*; do
        { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qxF "$marker" && echo "${p#/proc/}"
    done
    return 0
}

teardown() {
    local status=$?
    set +e
    ((${#jobs_submitted[@]})) && scancel "${jobs_submitted[@]}" 2>/dev/null
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for _ in $(seq 50); do
        local alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "${pids[@]}" $(ours); do kill -KILL "$pid" 2>/dev/null; done
    wait 2>/dev/null
    local left
    left=$(ours)
    if [[ -n $left ]]; then
        say "FAILED: processes left behind: $left"
        status=1
    else
        say "torn down: munged, slurmctld and slurmd stopped, no job step left"
    fi
    if [[ -n ${TEST_SLURM_KEEP:-} && -d $tmp/run ]]; then
        mkdir -p "$TEST_SLURM_KEEP" && cp -a "$tmp/run/." "$TEST_SLURM_KEEP/" && say "kept the run in $TEST_SLURM_KEEP"
    fi
    rm -rf "$tmp"
    exit "$status"
}
trap teardown EXIT
trap 'exit 130' INT TERM

# munge: its own key, socket, pid and log in the temporary directory.
mkdir -m 700 "$tmp/munge"
head -c 1024 /dev/urandom >"$tmp/munge/munge.key"
chmod 400 "$tmp/munge/munge.key"
socket=$tmp/munge/munge.socket
export SLURM_CONF=$tmp/slurm.conf
env "$marker" munged --foreground --force --key-file="$tmp/munge/munge.key" --socket="$socket" --pid-file="$tmp/munge/munged.pid" \
    --log-file="$tmp/munged.log" --seed-file="$tmp/munge/munged.seed" >>"$tmp/munged.log" 2>&1 &
pids+=($!)

# Slurm: the node is this machine under its short host name, with the CPUs and memory slurmd sees.
node=$(hostname -s)
node_line=$(slurmd -C | head -n 1)
[[ $node_line == NodeName=$node\ * ]] || fail "slurmd -C does not describe this host ($node): $node_line"
port=$((20000 + RANDOM % 20000))
mkdir -p "$tmp/state" "$tmp/spool"
cat >"$SLURM_CONF" <<CONF
ClusterName=linregtest
SlurmctldHost=$node
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
# proctrack/cgroup fails silently on this kind of machine: jobs "complete" with no output and the node drains.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MinJobAge=600
$node_line State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
sed -i 's/ UpTime=[^ ]*//' "$SLURM_CONF"

for _ in $(seq 50); do [[ -S $socket ]] && break; sleep 0.1; done
[[ -S $socket ]] || fail "munged did not start"
env "$marker" slurmctld -D -i >>"$tmp/slurmctld.log" 2>&1 &
pids+=($!)
env "$marker" slurmd -D >>"$tmp/slurmd.log" 2>&1 &
pids+=($!)

# slurmctld exits 0 even when misconfigured: readiness is the node reported idle.
state=""
for _ in $(seq 100); do
    state=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
    [[ $state == idle ]] && break
    sleep 0.2
done
[[ $state == idle ]] || fail "the node did not become idle (sinfo says '${state:-nothing}')"
say "one-node Slurm up on $node in $((SECONDS - started)) s ($(sinfo -V))"

# submit.sh with ARGS (then `--`, the run's arguments), its jobs waited for: each must have
# COMPLETED (a job can complete and have done nothing: the outputs are checked after), and the
# merge must have left a report of 2 shards.
read -r -a scenarios <<<"$SCENARIOS"
submit_and_wait() {
    local submitted word id states f
    submitted=$(cd "$root" && env "$marker" deploy/slurm/submit.sh -n 2 -d "$tmp/run" "$@" -- --quick --probe-array-mib 32 "${scenarios[@]}")
    say "submitted: $submitted"
    local ids=()
    for word in $submitted; do
        case $word in build=none) ;; build=*|array=*|merge=*) ids+=("${word#*=}"); jobs_submitted+=("${word#*=}") ;; esac
    done
    while squeue -h -o %i 2>/dev/null | grep -q .; do
        ((SECONDS - started < LIMIT_SECONDS)) || fail "jobs still queued after $LIMIT_SECONDS s: $(squeue -h -o '%i %j %T %r' | tr '\n' ';')"
        sleep 0.5
    done
    for id in "${ids[@]}"; do
        states=$(scontrol -o show job "$id" | grep -o 'JobState=[A-Z_]*' | sort -u | tr '\n' ' ')
        [[ $states == "JobState=COMPLETED " ]] || fail "job $id ended as: $states"
    done
    for f in plan.json environment.json raw.csv report.md summary.json; do
        [[ -s $merged/$f ]] || fail "the merge job left no $f in $merged"
    done
    grep -q "Merged from 2 of 2 shard(s)" "$merged/report.md" || fail "the merged report does not say it merged 2 shards"
}

# The run: two exclusive shards of a --quick run, then the merge.
merged=$tmp/run/merged
submit_and_wait

python3 - "$tmp/run" <<'PY' || fail "the merged run does not match the plan"
import csv, json, sys, pathlib
run = pathlib.Path(sys.argv[1])
shards = sorted((run / "shards").glob("task-*"))
assert len(shards) == 2, f"expected 2 shard directories, found {[s.name for s in shards]}"
blocks = [json.loads((s / "plan.json").read_text())["shard"] for s in shards]
assert sorted(b["index"] for b in blocks) == [1, 2], blocks
assert blocks[0]["partition"] == blocks[1]["partition"] and blocks[0]["fingerprint"] == blocks[1]["fingerprint"]
whole = {(p["scenario"], p["point"]) for p in blocks[0]["partition"]}
held = [{(p["scenario"], p["point"]) for p in b["points"]} for b in blocks]
assert held[0] and held[1] and not (held[0] & held[1]) and held[0] | held[1] == whole, held
plan = json.loads((run / "merged" / "plan.json").read_text())
merged = {(s["name"], p["index"]) for s in plan["scenarios"] for p in s["points"]}
assert merged == whole, (merged, whole)
rows = list(csv.DictReader(open(run / "merged" / "raw.csv")))
measured = {(r["scenario"], int(r["point"])) for r in rows if r["status"] in ("ok", "diverged")}
assert measured == whole, f"points without a measurement: {whole - measured}"
env = json.loads((run / "merged" / "environment.json").read_text())
machines = env["merged"]["machines"]
assert len(machines) == 2 and all(m["environment"] for m in machines)
# --exclusive: on one node the two shards ran one after the other, never together.
spans = sorted((m["environment"]["started_utc"], m["environment"]["ended_utc"]) for m in machines)
assert spans[0][1] <= spans[1][0], f"the shards overlapped: {spans}"
report = (run / "merged" / "report.md").read_text()
for scenario, point in whole:
    assert f"{scenario}#{point}" in report, f"{scenario}#{point} is not in the report's Machines table"
print(f"test-slurm: {len(whole)} points, {len(rows)} rows, shards held {sorted(len(h) for h in held)} points; runs {spans}")
PY

# A failed shard run again (submit.sh --rerun): the second shard taken as failed and the merge as
# not made. An array of that one index would read as a one-shard plan under `--shard auto`; the
# rerun names its shard, moves the failed folder aside, and the merge takes the new one.
mv "$merged" "$tmp/merged-first"
submit_and_wait --rerun 1
[[ -d $(echo "$tmp"/run/failed/task-1-*) ]] || fail "the rerun did not move the failed shard's folder to failed/"
python3 - "$tmp/run/shards/task-1/plan.json" <<'PY' || fail "the rerun did not run shard 2 of 2"
import json, sys
shard = json.load(open(sys.argv[1]))["shard"]
assert (shard["index"], shard["count"]) == (2, 2), shard
PY
say "a failed shard run again (--rerun 1) and merged"
say "passed in $((SECONDS - started)) s"
