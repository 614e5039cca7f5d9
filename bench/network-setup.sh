#!/bin/bash
# What networking adds to up and down: N containers (init: true) with
# network_mode: none against the same N on the project's bridge network
# (netns, veth pair, address, route, nftables, DNS records), median of R
# runs each. Usage: bench/network-setup.sh [N] [R]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10} runs=${2:-7}
export BERTH_ROOT=$(mktemp -d /tmp/berth-bench-XXXXXX)
export BERTH_DNS_UPSTREAM=127.0.0.1:9
trap 'for m in none bridge; do build/berth -f "$BERTH_ROOT/$m.yaml" -p netbench down -t 0 >/dev/null 2>&1 || true; done; rm -rf "$BERTH_ROOT"' EXIT
examples/images/build-image.sh -t busybox:latest "$BERTH_ROOT/bb.tar" >/dev/null
build/berth image load -i "$BERTH_ROOT/bb.tar" >/dev/null
for mode in none bridge; do
	{
		echo "services:"
		for i in $(seq 1 "$n"); do
			if [ "$mode" = none ]; then
				printf '  s%d: {image: busybox, init: true, command: sleep 3600, network_mode: none}\n' "$i"
			else
				printf '  s%d: {image: busybox, init: true, command: sleep 3600}\n' "$i"
			fi
		done
	} >"$BERTH_ROOT/$mode.yaml"
done
ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
declare -A up down
for mode in none bridge; do
	ups=() downs=()
	for r in $(seq 0 "$runs"); do
		t0=$(ms)
		build/berth -f "$BERTH_ROOT/$mode.yaml" -p netbench up -d >/dev/null 2>&1
		t1=$(ms)
		build/berth -f "$BERTH_ROOT/$mode.yaml" -p netbench down -t 0 >/dev/null 2>&1
		t2=$(ms)
		[ "$r" -eq 0 ] && continue # warm-up
		ups+=($((t1 - t0)))
		downs+=($((t2 - t1)))
	done
	up[$mode]=$(printf '%s\n' "${ups[@]}" | median)
	down[$mode]=$(printf '%s\n' "${downs[@]}" | median)
done
echo "| $n containers | up -d (median ms) | down (median ms) |"
echo "|---|---|---|"
echo "| network_mode: none | ${up[none]} | ${down[none]} |"
echo "| bridge network | ${up[bridge]} | ${down[bridge]} |"
echo "| added per container | $(((up[bridge] - up[none]) * 1000 / n)) µs | $(((down[bridge] - down[none]) * 1000 / n)) µs |"
