#!/usr/bin/env bash
# Submits a sharded benchmark to Slurm: one build job, then an array of SHARDS exclusive shard
# jobs (one machine each, `orchestrator run --shard auto`), then one merge job that runs only if
# every shard succeeded (--dependency=afterok). Run it from the project's checkout on a filesystem
# every node sees (the binaries are built once, into target/release).
#
# usage: deploy/slurm/submit.sh -n SHARDS [-d RUN_DIR] [-p PARTITION] [--no-build] [-- RUN_ARGS...]
#        deploy/slurm/submit.sh -n SHARDS -d RUN_DIR --rerun INDEX [-p PARTITION] [-- RUN_ARGS...]
#   RUN_ARGS go to `orchestrator run` (scenario files, --quick, --repetitions N, ...).
#   -d RUN_DIR: where shards/, merged/ and logs/ go [default: results/slurm-<UTC time>].
#   --no-build: the binaries in target/release are up to date; submit no build job (--build: do).
#   --rerun INDEX: run again the shard of array index INDEX (shard INDEX+1 of SHARDS) of the run in
#     RUN_DIR, with the same SHARDS and RUN_ARGS as first given (the shards' plans must agree), after
#     moving its failed folder to RUN_DIR/failed/; then the merge. No build job unless asked: the
#     binaries must be the ones the other shards ran.
# Prints one line: build=JOBID array=JOBID merge=JOBID run_dir=DIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
shards="" run_dir="" partition="" build="" rerun=""
while (($#)); do
    case $1 in
        -n) shards=${2:?-n needs a number}; shift 2 ;;
        -d) run_dir=${2:?-d needs a directory}; shift 2 ;;
        -p) partition=${2:?-p needs a partition}; shift 2 ;;
        --no-build) build=0; shift ;;
        --rerun) rerun=${2:?--rerun needs an array index}; shift 2 ;;
        --build) build=1; shift ;;
        --) shift; break ;;
        -h|--help) sed -n '2,/^# Prints/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "submit.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[[ $shards =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: -n SHARDS is required (a whole number ≥ 1)" >&2; exit 2; }
# A rerun builds nothing unless asked (--build): the other shards ran the binaries as they are.
[[ -n $build ]] || { [[ -n $rerun ]] && build=0 || build=1; }
array="0-$((shards - 1))"
shard_env=()
if [[ -n $rerun ]]; then
    [[ $rerun =~ ^(0|[1-9][0-9]*)$ ]] && ((rerun < shards)) \
        || { echo "submit.sh: --rerun INDEX must be an array index from 0 to $((shards - 1)), got '$rerun'" >&2; exit 2; }
    [[ -n $run_dir && -d $run_dir/shards ]] \
        || { echo "submit.sh: --rerun needs -d RUN_DIR, the directory of the run whose shard failed (it holds shards/)" >&2; exit 2; }
    failed=$run_dir/shards/task-$rerun
    if [[ -e $failed ]]; then
        mkdir -p "$run_dir/failed"
        moved=$run_dir/failed/task-$rerun-$(date -u +%Y%m%dT%H%M%SZ)
        mv "$failed" "$moved"
        echo "submit.sh: the failed shard's folder is now $moved" >&2
    fi
    # One array index alone would make `--shard auto` read a one-shard array: name the shard.
    array=$rerun
    shard_env=(--export="ALL,SHARD=$((rerun + 1))/$shards")
fi
run_dir=${run_dir:-$root/results/slurm-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$run_dir/logs"
run_dir=$(cd "$run_dir" && pwd)

common=(--parsable --chdir="$root")
[[ -n $partition ]] && common+=(--partition="$partition")

dependency=()
build_id=none
if ((build)); then
    build_id=$(sbatch "${common[@]}" --output="$run_dir/logs/build-%j.out" "$here/build.sbatch")
    build_id=${build_id%%;*}
    dependency=(--dependency="afterok:$build_id")
fi
array_id=$(sbatch "${common[@]}" "${dependency[@]}" "${shard_env[@]}" --array="$array" \
    --output="$run_dir/logs/shard-%A_%a.out" "$here/shard.sbatch" "$run_dir" "$@")
array_id=${array_id%%;*}
merge_id=$(sbatch "${common[@]}" --dependency="afterok:$array_id" --output="$run_dir/logs/merge-%j.out" \
    "$here/merge.sbatch" "$run_dir")
merge_id=${merge_id%%;*}
echo "build=$build_id array=$array_id merge=$merge_id run_dir=$run_dir"
