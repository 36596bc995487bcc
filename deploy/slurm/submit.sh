#!/usr/bin/env bash
# Submits a sharded benchmark to Slurm: one build job, then an array of SHARDS exclusive shard
# jobs (one machine each, `orchestrator run --shard auto`), then one merge job that runs only if
# every shard succeeded (--dependency=afterok). Run it from the project's checkout on a filesystem
# every node sees (the binaries are built once, into target/release).
#
# usage: deploy/slurm/submit.sh -n SHARDS [-d RUN_DIR] [-p PARTITION] [--no-build] [-- RUN_ARGS...]
#   RUN_ARGS go to `orchestrator run` (scenario files, --quick, --repetitions N, ...).
# Prints one line: build=JOBID array=JOBID merge=JOBID run_dir=DIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
shards="" run_dir="" partition="" build=1
while (($#)); do
    case $1 in
        -n) shards=${2:?-n needs a number}; shift 2 ;;
        -d) run_dir=${2:?-d needs a directory}; shift 2 ;;
        -p) partition=${2:?-p needs a partition}; shift 2 ;;
        --no-build) build=0; shift ;;
        --) shift; break ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "submit.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[[ $shards =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: -n SHARDS is required (a whole number ≥ 1)" >&2; exit 2; }
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
array_id=$(sbatch "${common[@]}" "${dependency[@]}" --array="0-$((shards - 1))" \
    --output="$run_dir/logs/shard-%A_%a.out" "$here/shard.sbatch" "$run_dir" "$@")
array_id=${array_id%%;*}
merge_id=$(sbatch "${common[@]}" --dependency="afterok:$array_id" --output="$run_dir/logs/merge-%j.out" \
    "$here/merge.sbatch" "$run_dir")
merge_id=${merge_id%%;*}
echo "build=$build_id array=$array_id merge=$merge_id run_dir=$run_dir"
