#!/usr/bin/env bash
# Timings of the importers and of `seed --demo --scale large`, end to end (process start,
# fleetdeck's own server start, parsing, database writes, commit), on a fresh throwaway cluster.
#
#   bash benches/data.sh [DATA_DIR]     DATA_DIR: the full data set (default ../shared/data;
#                                        falls back to the subsets in assets/)
# Prints one markdown row per measurement: what, runs, best, median.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=$PWD/target/release/fleetdeck
data=${1:-../shared/data}
[[ -d $data/helm ]] || { echo "note: $data not found; timing the subsets in assets/" >&2; data=assets; }

work=$(mktemp -d /tmp/fleetdeck-bench-XXXXXX)
chmod 755 "$work"
export FLEETDECK_DATABASE__DATA_DIR=$work/pg XDG_STATE_HOME=$work/state XDG_CONFIG_HOME=$work/config
unset DATABASE_URL
trap 'rm -rf "$work"' EXIT
"$bin" migrate >/dev/null

time_runs() { # label runs command...
  local label=$1 runs=$2; shift 2
  local times=()
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v label="$label" -v runs="$runs" '
    { t[NR] = $1 } END { printf "| %s | %d | %.2f s | %.2f s |\n", label, runs, t[1], t[int((NR + 1) / 2)] }'
}

echo "| what | runs | best | median |"
echo "|---|---|---|---|"
for repo in bitnami prometheus-community grafana argoproj open-telemetry; do
  readmes=()
  [[ -f $data/helm/$repo.readmes.jsonl ]] && readmes=(--readmes "$data/helm/$repo.readmes.jsonl")
  versions=$(grep -c '^  - ' "$data/helm/$repo.index.yaml" || true)
  time_runs "import helm-index $repo ($versions versions, $(du -h "$data/helm/$repo.index.yaml" | cut -f1))" 3 \
    "$bin" import helm-index "$data/helm/$repo.index.yaml" --repo "$repo" "${readmes[@]}"
done
time_runs "import instances ($(grep -c '' "$data/cloud/instances.jsonl") lines)" 3 "$bin" import instances "$data/cloud/instances.jsonl"

# The large demo needs an empty database: a second fresh cluster.
export FLEETDECK_DATABASE__DATA_DIR=$work/pg-large
"$bin" migrate >/dev/null
time_runs "seed --demo --scale large (100,000 hosts, 20,000 agents, 1,000,000 executions)" 1 \
  "$bin" seed --demo --scale large
export FLEETDECK_DATABASE__DATA_DIR=$work/pg-small
time_runs "seed --demo --scale small" 1 "$bin" seed --demo --scale small
