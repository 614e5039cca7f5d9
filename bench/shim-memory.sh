#!/bin/bash
# Memory berth leaves running per container: bring up N busybox containers
# (init: true), sum the proportional set size (PSS) of every berth process
# (the shims and the DNS responder), divide by N. Usage: bench/shim-memory.sh [N]
# HEALTH=1: each container has a healthcheck every second, measured while
# they run (the shim forks one per check and keeps nothing between).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10}
export BERTH_ROOT=$(mktemp -d /tmp/berth-bench-XXXXXX)
dir=$BERTH_ROOT/project
mkdir -p "$dir"
trap 'build/berth -f "$dir/compose.yaml" -p membench down -t 1 >/dev/null 2>&1; rm -rf "$BERTH_ROOT"' EXIT
examples/images/build-image.sh -t busybox:latest "$BERTH_ROOT/bb.tar" >/dev/null
build/berth image load -i "$BERTH_ROOT/bb.tar" >/dev/null
{
	echo "services:"
	for i in $(seq 1 "$n"); do
		if [ "${HEALTH:-0}" = 1 ]; then
			printf '  s%d: {image: busybox, init: true, command: sleep 3600, healthcheck: {test: "true", interval: 1s}}\n' "$i"
		else
			printf '  s%d: {image: busybox, init: true, command: sleep 3600}\n' "$i"
		fi
	done
} >"$dir/compose.yaml"
build/berth -f "$dir/compose.yaml" -p membench up -d 2>/dev/null
sleep "${SETTLE:-1}"
total=0 private=0 count=0
for pid in $(pgrep -f "berth-shi[m] (dns )?$BERTH_ROOT/?"); do
	pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
	prv=$(awk '/^Private_(Clean|Dirty):/ {s += $2} END {print s}' "/proc/$pid/smaps_rollup")
	total=$((total + pss)) private=$((private + prv)) count=$((count + 1))
done
echo "| containers | berth processes | PSS per container | private per shim |"
echo "|---|---|---|---|"
echo "| $n | $count | $((total / n)) KiB | $((private / (count > 0 ? count : 1))) KiB |"
build/berth -f "$dir/compose.yaml" -p membench down -t 1 >/dev/null 2>&1
