#!/bin/bash
# Time `berth config -q` on generated files of 1 and 200 services, with
# `berth version` as the floor (exec and dynamic linking). Means of N runs.
# Usage: bench/config-load.sh [BERTH] [N]
set -eu
cd "$(dirname "$0")/.."
berth=${1:-build/berth}
n=${2:-30}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bench/gen-services.sh 1 >"$tmp/s1.yaml"
bench/gen-services.sh 200 >"$tmp/s200.yaml"

# Mean over n runs, timed around the whole loop so that the timer's own
# processes are not counted; a warm-up run first.
mean_ms() {
	"$@" >/dev/null
	local t0 t1
	t0=$(date +%s%N)
	for _ in $(seq 1 "$n"); do "$@" >/dev/null; done
	t1=$(date +%s%N)
	awk -v ns=$((t1 - t0)) -v n="$n" 'BEGIN {printf "%.1f", ns / n / 1e6}'
}

floor=$(mean_ms "$berth" version)
one=$(mean_ms "$berth" -f "$tmp/s1.yaml" config -q)
two=$(mean_ms "$berth" -f "$tmp/s200.yaml" config -q)
echo "| what | mean ms |"
echo "|---|---|"
echo "| berth version (process floor) | $floor |"
echo "| config -q, 1 service | $one |"
echo "| config -q, 200 services | $two |"
