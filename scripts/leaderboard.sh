#!/usr/bin/env bash
# The complete leaderboard (docs/leaderboard/README.md): every registered model at its defaults (possible-worlds
# told nothing, and its oracle apart), every view it reads, seeds 1000-1004.
# - offline and offline-explore: budgets 16-16384 (--full);
# - on-policy, on-policy-random and live: budgets 16-1024;
# - the generalist protocols for the models that have them.
# Each part writes to a folder of its own under $OUT.
#
# Resumable: rerun the same command. Each part skips the jobs its folder already holds, and a part that is
# complete plans nothing. Each invocation of each part appends its wall seconds to $OUT/wall-times.tsv (also when
# stopped by Ctrl-C or kill); a model's wall time is the sum of its lines.
#
#   scripts/leaderboard.sh                    # every part, in the order below
#   scripts/leaderboard.sh linear jepa        # some parts
#   WORKERS=1 OUT=results/lb scripts/leaderboard.sh persistence
#   scripts/leaderboard.sh --dry-run          # what each part would run, and its estimate
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-results/leaderboard}
WORKERS=${WORKERS:-2}
SEEDS=1000-1004
VIEWS=frame,state
ONLINE_BUDGETS=16,64,256,1024
PARTS_ALL=(persistence linear possible-worlds possible-worlds-oracle jepa spatial generalist)

DRY=()
PARTS=()
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY=(--dry-run) ;;
    -h | --help) sed -n '2,16p' "$0" | cut -c3-; exit 0 ;;
    *)
      if [[ " ${PARTS_ALL[*]} " != *" $arg "* ]]; then
        echo "leaderboard.sh: unknown part '$arg'; the parts are: ${PARTS_ALL[*]}" >&2
        exit 2
      fi
      PARTS+=("$arg") ;;
  esac
done
[[ ${#PARTS[@]} -eq 0 ]] && PARTS=("${PARTS_ALL[@]}")

STATUS=0
TIMES="$OUT/wall-times.tsv"
if [[ ${#DRY[@]} -eq 0 ]]; then
  mkdir -p "$OUT"
  [[ -f "$TIMES" ]] || printf 'part\tfolder\tcommit\tstarted\tseconds\n' > "$TIMES"
fi

# the invocation under way, so that a stopped sweep (Ctrl-C, kill) still records the seconds it ran
CURRENT=()
record() {
  if [[ ${#DRY[@]} -eq 0 && ${#CURRENT[@]} -eq 5 ]]; then
    printf '%s\t%s\t%s\t%s\t%s\n' "${CURRENT[0]}" "${CURRENT[1]}" "${CURRENT[2]}" "${CURRENT[3]}" \
      $((SECONDS - CURRENT[4])) >> "$TIMES"
  fi
  CURRENT=()
}
trap 'record; exit 130' INT TERM

# runs one bench command into $OUT/$folder and records its wall time (not on a dry run)
run() {
  local part=$1 folder=$2
  shift 2
  local rc=0
  # the commit the invocation started at (HEAD may move while it runs)
  CURRENT=("$part" "$folder" "$(git rev-parse --short HEAD)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$SECONDS")
  pnpm --silent bench "$@" --workers "$WORKERS" --out "$OUT/$folder" "${DRY[@]}" || rc=$?
  record
  # a user error (exit 2) stops everything; failed jobs do not stop the other parts (a rerun retries them)
  if [[ $rc -eq 2 ]]; then exit 2; fi
  if [[ $rc -ne 0 ]]; then STATUS=$rc; fi
}

# a model's two grids: offline at every budget, the protocols that act or stream at the small ones. Every view
# is asked for, so that a view the model does not read is recorded unsupported with its reason (free: such a job
# loads nothing) and the table says why the model has no row there.
specialist() {
  local part=$1 model=$2
  run "$part" "$part-offline" --model "$model" --view "$VIEWS" --protocol offline,offline-explore --full \
    --seeds "$SEEDS"
  run "$part" "$part-online" --model "$model" --view "$VIEWS" --protocol on-policy,on-policy-random,live \
    --budgets "$ONLINE_BUDGETS" --seeds "$SEEDS"
}

for part in "${PARTS[@]}"; do
  case "$part" in
    possible-worlds-oracle) specialist "$part" 'possible-worlds[library=scenario]' ;;
    generalist)
      # one fit on every scenario's state view, told and not told which world each episode is from
      for model in persistence possible-worlds jepa; do
        run generalist "generalist-$model" --model "$model" --view state --protocol generalist,generalist-equal \
          --budgets "$ONLINE_BUDGETS" --seeds "$SEEDS"
        run generalist "generalist-$model-told" --model "$model" --view state \
          --protocol generalist,generalist-equal --tell-world --budgets "$ONLINE_BUDGETS" --seeds "$SEEDS"
      done ;;
    *) specialist "$part" "$part" ;;
  esac
done
exit "$STATUS"
