#!/bin/bash
# make bench [PEERS=1] [ROUNDS=N]: berth side by side with docker-compose and
# podman-compose on the same workloads, interleaved round by round, the
# same busybox bytes imported into every tool. Prints one Markdown table
# (median, min, max per tool; berth's ratio to each peer) and writes it to
# bench/RESULTS.md with the date and the machine.
#
# With PEERS=1 it installs docker.io, docker-compose, podman, podman-compose
# runc and catatonit (podman's --init) from Debian, configures podman for this host (runc, no default
# ulimits: crun and podman's defaults refuse it) and starts dockerd itself
# when none runs. Without, it measures the peers that are installed and
# running, and berth alone otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
. bench/common.sh
ROUNDS=${ROUNDS:-7}
PEERS=${PEERS:-0}
BERTH=$REPO/build/berth
export BERTH_ROOT=${BENCH_ROOT:-/tmp/berth-bench-root}
export BERTH_DNS_UPSTREAM=127.0.0.1:9 # the stacks never look up outside names
WORK=$(mktemp -d /tmp/berth-bench-XXXXXX)
started_dockerd=
cleanup() {
	for t in "${TOOLS[@]:-}"; do
		for s in 10 50; do timeout 300 bash -c '"$@"' cleanup down "$t" "$s" >/dev/null 2>&1; done
		timeout 300 bash -c '"$@"' cleanup down_health "$t" >/dev/null 2>&1
	done
	# what a podman-compose stopped by the time limit may have left
	if [[ " ${TOOLS[*]:-} " == *" podman "* ]]; then
		for s in 10 50; do
			podman ps -aq --filter "label=io.podman.compose.project=bench$s" | xargs -r podman rm -f >/dev/null 2>&1
			podman network rm -f "bench${s}_default" >/dev/null 2>&1
			podman volume rm -f "bench${s}_data" >/dev/null 2>&1
		done
	fi
	"$BERTH" -f "$WORK/one.yaml" -p benchone down -t 0 >/dev/null 2>&1
	[ -n "$started_dockerd" ] && kill "$started_dockerd" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

if [ "$PEERS" = 1 ]; then
	missing=$(for p in docker.io docker-compose podman podman-compose runc catatonit; do dpkg -s $p >/dev/null 2>&1 || echo $p; done)
	if [ -n "$missing" ]; then
		echo "installing:" $missing
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
	fi
	mkdir -p /etc/containers
	if ! grep -q 'runtime = "runc"' /etc/containers/containers.conf 2>/dev/null; then
		printf '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\n' >>/etc/containers/containers.conf
	fi
fi
# Debian's client, which matches Debian's daemon, before any other on PATH
[ -x /usr/bin/docker ] && docker() { /usr/bin/docker "$@"; }
if command -v dockerd >/dev/null && ! docker info >/dev/null 2>&1; then
	dockerd >"$WORK/dockerd.log" 2>&1 &
	started_dockerd=$!
	for _ in $(seq 1 100); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
fi
TOOLS=(berth)
docker info >/dev/null 2>&1 && command -v docker-compose >/dev/null && TOOLS+=(docker)
command -v podman >/dev/null && command -v podman-compose >/dev/null && TOOLS+=(podman)

# one image, the same bytes everywhere
mkdir -p "$WORK/www" && echo "berth bench" >"$WORK/www/index.html"
examples/images/build-image.sh -t busybox:latest --add "$WORK/www/index.html:/www/index.html" "$WORK/bb.tar" >/dev/null
"$BERTH" image load -i "$WORK/bb.tar" >/dev/null
[[ " ${TOOLS[*]} " == *" docker "* ]] && docker load -i "$WORK/bb.tar" >/dev/null
[[ " ${TOOLS[*]} " == *" podman "* ]] && podman load -i "$WORK/bb.tar" >/dev/null 2>&1

# stacks: N services in a depends_on chain on one network, three published
# ports, a named volume used by two services, init: true everywhere
stack() {
	local n=$1 f=$WORK/stack$1/compose.yaml
	mkdir -p "$WORK/stack$n"
	{
		echo "services:"
		for i in $(seq 1 "$n"); do
			echo "  s$i:"
			echo "    image: busybox:latest"
			echo "    init: true"
			echo "    command: httpd -f -p 80 -h /www"
			[ "$i" -gt 1 ] && echo "    depends_on: [s$((i - 1))]"
			case $i in 1) echo "    ports: [\"127.0.0.1:18101:80\"]" ;; 2) echo "    ports: [\"127.0.0.1:18102:80\"]" ;;
			3) echo "    ports: [\"127.0.0.1:18103:80\"]" ;; esac
			[ "$i" -le 2 ] && echo "    volumes: [\"data:/data\"]"
		done
		echo "volumes:"
		echo "  data: {}"
	} >"$f"
}
stack 10
stack 50
# 10 services, each gated on the previous one being healthy (a check every 100 ms)
mkdir -p "$WORK/health10"
{
	echo "services:"
	for i in $(seq 1 10); do
		echo "  h$i:"
		echo "    image: busybox:latest"
		echo "    command: sleep 3600"
		echo "    healthcheck: {test: [\"CMD\", \"true\"], interval: 100ms, retries: 30}"
		[ "$i" -gt 1 ] && echo "    depends_on: {h$((i - 1)): {condition: service_healthy}}"
	done
} >"$WORK/health10/compose.yaml"
printf 'services:\n  one:\n    image: busybox:latest\n  none:\n    image: busybox:latest\n    network_mode: none\n' >"$WORK/one.yaml"
bash bench/gen-services.sh 200 >"$WORK/big.yaml" 2>/dev/null || true

up() { (cd "$WORK/stack$2" && compose "$1" -p bench$2 up -d); }
down() { (cd "$WORK/stack$2" && compose "$1" -p bench$2 down -t 1 -v); }
# berth up --wait (every service healthy); docker-compose 1.29 has no --wait, its up -d waits for each gate
up_health() { (cd "$WORK/health10" && if [ "$1" = berth ]; then compose berth -p benchh up -d --wait; else compose "$1" -p benchh up -d; fi); }
down_health() { (cd "$WORK/health10" && compose "$1" -p benchh down -t 1); }
answers() { # PORT: an HTTP answer on 127.0.0.1
	# (braces: a redirection on exec itself would stay for the whole script)
	{ exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
	printf 'GET / HTTP/1.0\r\n\r\n' >&3
	local line
	read -r -t 1 line <&3
	exec 3<&-
	[[ $line == HTTP/* ]]
}
ports_up() { for _ in $(seq 1 2000); do answers 18101 && answers 18102 && answers 18103 && return 0; sleep 0.005; done; return 1; }
run_one() { # TOOL network|none
	local t=$1 mode=$2
	case $t in
	berth) if [ "$mode" = none ]; then "$BERTH" -f "$WORK/one.yaml" -p benchone run --rm none true; else "$BERTH" -f "$WORK/one.yaml" -p benchone run --rm one true; fi ;;
	docker) if [ "$mode" = none ]; then docker run --rm --network none busybox:latest true; else docker run --rm busybox:latest true; fi ;;
	podman) if [ "$mode" = none ]; then podman run --rm --network none busybox:latest true; else podman run --rm busybox:latest true; fi ;;
	esac
}
config_big() {
	case $1 in
	berth) "$BERTH" -f "$WORK/big.yaml" config -q ;;
	docker) docker-compose -f "$WORK/big.yaml" config -q ;;
	podman) podman-compose -f "$WORK/big.yaml" config >/dev/null ;;
	esac
}

# A command that takes longer than LIMIT seconds is stopped and its workload
# reported as not finished for that tool, and not tried again.
LIMIT=${LIMIT:-120}
declare -A samples unfinished
record() { samples[$1|$2]+="$3 "; } # WORKLOAD TOOL MS
timed() { # WORKLOAD TOOL CMD...
	local w=$1 t=$2
	shift 2
	[ -z "${unfinished[$w|$t]:-}" ] || return 1
	local a rc
	a=$(ms_now)
	timeout "$LIMIT" bash -c '"$@"' timed "$@" >/dev/null 2>&1
	rc=$?
	if [ $rc = 124 ]; then
		echo "bench: $w did not finish within $LIMIT s for $t" >&2
		unfinished[$w|$t]=1
		return 1
	fi
	[ $rc = 0 ] || { echo "bench: $w failed for $t" >&2; return 1; }
	record "$w" "$t" $(($(ms_now) - a))
}
export WORK BERTH
export -f compose up down up_health down_health run_one config_big
[ -x /usr/bin/docker ] && export -f docker
pss_kib() { for p in "$@"; do awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null; done | awk '{s += $1} END {print s + 0}'; }

for round in $(seq 0 "$ROUNDS"); do
	for t in "${TOOLS[@]}"; do
		# round 0 warms caches up and is not counted
		if [ "$round" -eq 0 ]; then
			run_one "$t" network >/dev/null 2>&1
			up "$t" 10 >/dev/null 2>&1
			down "$t" 10 >/dev/null 2>&1
			continue
		fi
		timed "run --rm true (bridge)" "$t" run_one "$t" network
		timed "run --rm true (no network)" "$t" run_one "$t" none
		a=$(ms_now)
		up "$t" 10 >/dev/null 2>&1
		b=$(ms_now)
		if ports_up; then
			record "10 services: up -d until 3 ports answer" "$t" $(($(ms_now) - a))
		else
			echo "bench: the 10-service stack of $t never answered on its ports" >&2
		fi
		record "10 services: up -d" "$t" $((b - a))
		timed "10 services: second up -d" "$t" up "$t" 10
		if [ "$round" -eq 1 ]; then
			case $t in
			berth) pids=$(pgrep -f "berth-shi[m] (dns )?$BERTH_ROOT") ;;
			docker) pids=$(pgrep -x 'dockerd|containerd|containerd-shim-runc-v2|docker-proxy') ;;
			podman) pids=$(pgrep -x conmon) ;;
			esac
			record "memory per container, KiB PSS" "$t" $(($(pss_kib $pids) / 10))
		fi
		timed "10 services: down" "$t" down "$t" 10
		if [ "$round" -le 3 ]; then
			timed "50 services: up -d" "$t" up "$t" 50 &&
				timed "50 services: down" "$t" down "$t" 50
		fi
		[ -s "$WORK/big.yaml" ] && timed "config of 200 services" "$t" config_big "$t"
		if [ "$round" -le 3 ]; then
			timed "10 services gated on health: up (berth: --wait)" "$t" up_health "$t"
			down_health "$t" >/dev/null 2>&1
		fi
	done
done

# the table
workloads=("run --rm true (bridge)" "run --rm true (no network)" "10 services: up -d" "10 services: up -d until 3 ports answer"
	"10 services: second up -d" "10 services: down" "50 services: up -d" "50 services: down" "config of 200 services"
	"10 services gated on health: up (berth: --wait)"
	"memory per container, KiB PSS")
{
	echo "| workload | tool | median | min | max | berth ÷ tool |"
	echo "|---|---|---|---|---|---|"
	for w in "${workloads[@]}"; do
		read -r bmed _ _ <<<"$(echo "${samples[$w|berth]:-}" | stats)"
		for t in "${TOOLS[@]}"; do
			s=${samples[$w|$t]:-}
			if [ -z "$s" ] && [ -n "${unfinished[$w|$t]:-}" ]; then
				echo "| $w | $t | did not finish within $LIMIT s | | | — |"
				continue
			fi
			[ -n "$s" ] || continue
			read -r med min max <<<"$(echo "$s" | stats)"
			unit=ms
			[[ $w == memory* ]] && unit=KiB
			ratio=—
			[ "$t" != berth ] && [ -n "${bmed:-}" ] && [ "$med" -gt 0 ] && ratio=$(awk -v a="$bmed" -v b="$med" 'BEGIN {printf "%.3f", a / b}')
			echo "| $w | $t | $med $unit | $min | $max | $ratio |"
		done
	done
	# pulling, measured by bench/pull.sh against docker pull and podman pull
	bench/pull.sh "${PULL_ROUNDS:-3}" 2>"$WORK/pull.err" || echo "| pulling | — | bench/pull.sh failed: $(head -c 200 "$WORK/pull.err") | | | |"
	# building, measured by bench/build.sh against docker build (classic) and podman build
	bench/build.sh "${BUILD_ROUNDS:-5}" 2>"$WORK/build.err" || echo "| building | — | bench/build.sh failed: $(head -c 200 "$WORK/build.err") | | | |"
} >"$WORK/table.md"
cat "$WORK/table.md"
{
	echo "# Benchmark results"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)."
	versions=$( (docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /'; podman --version 2>/dev/null) | paste -sd, -)
	echo "Tools: ${TOOLS[*]}${versions:+ ($versions)}. $ROUNDS rounds after a warm-up, interleaved; times in ms (median, min, max)."
	echo
	cat "$WORK/table.md"
} >bench/RESULTS.md
