#!/bin/bash
# Submits a whole sweep: SHARDS array tasks, then the merge once they have all ended (docs/scaling.md).
#   SHARDS=8 BENCH_ARGS='--full' OUT=results/sweep deploy/slurm/sweep.sh
set -euo pipefail
SHARDS=${SHARDS:-8}
export SHARDS BENCH_ARGS="${BENCH_ARGS:---full}" OUT="${OUT:-results/sweep}"
here=$(dirname "$0")
array=$(sbatch --parsable --array="0-$((SHARDS - 1))" --export=ALL "$here/shard.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterany:$array" --export=ALL "$here/merge.sbatch")
echo "shards: job $array (array 0-$((SHARDS - 1))), merge: job $merge -> ${MERGED:-$OUT/merged}/results.jsonl"
