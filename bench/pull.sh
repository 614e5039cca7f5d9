#!/bin/bash
# Pulling, berth against docker pull and podman pull, from one local
# registry (Debian's docker-registry on 127.0.0.1): a ~200 MB image of 5
# gzip layers, pulled and unpacked into a cold store each round; and up -d
# of a 3-service stack whose images are not in the store yet. Prints
# Markdown table rows (workload | tool | median | min | max | berth ÷ tool),
# as bench/run.sh prints its own; run.sh adds them to its table.
#   bench/pull.sh [ROUNDS]   (default 3; the tools that are installed and running)
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
. bench/common.sh
ROUNDS=${1:-${ROUNDS:-3}}
BERTH=$REPO/build/berth
WORK=$(mktemp -d /tmp/berth-pullbench-XXXXXX)
registry_pid=
PODMAN_CONF=/etc/containers/registries.conf.d/berth-pull-bench.conf
cleanup() {
	[ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null
	rm -f "$PODMAN_CONF"
	for t in "${TOOLS[@]:-}"; do (cd "$WORK/stack" && compose "$t" -p benchpull down -t 0 >/dev/null 2>&1); done
	rm -rf "$WORK"
}
trap cleanup EXIT
[ -x /usr/bin/docker ] && docker() { /usr/bin/docker "$@"; }
TOOLS=(berth)
docker info >/dev/null 2>&1 && TOOLS+=(docker)
command -v podman >/dev/null && TOOLS+=(podman)

port=$(for p in $(shuf -i 30000-39999 -n 50); do ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; break; }; done)
R=127.0.0.1:$port
printf 'version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\nstorage: {filesystem: {rootdirectory: %s/reg}}\nhttp: {addr: %s}\n' \
	"$WORK" "$R" >"$WORK/reg.yml"
docker-registry serve "$WORK/reg.yml" >"$WORK/reg.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://$R/v2/" && break; sleep 0.1; done
# podman speaks plain HTTP to it only when told so (docker does to 127.0.0.0/8 by itself)
if [[ " ${TOOLS[*]} " == *" podman "* ]]; then
	mkdir -p "$(dirname "$PODMAN_CONF")"
	printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$R" >"$PODMAN_CONF"
fi

# A docker-archive of 5 layers, each ~40 MB: half incompressible, half text,
# as binaries and their data are.
mkimage() { # OUT.tar TAG LAYERS MB_PER_LAYER
	local out=$1 tag=$2 n=$3 mb=$4 d=$WORK/img-$2 i diff_ids=() layers=()
	mkdir -p "$d"
	for i in $(seq 1 "$n"); do
		mkdir -p "$d/root$i/data$i"
		# the first layer has busybox, so that containers of it can run
		[ "$i" = 1 ] && mkdir -p "$d/root1/bin" && cp "$(command -v busybox)" "$d/root1/bin/busybox"
		head -c $((mb * 512 * 1024)) /dev/urandom >"$d/root$i/data$i/random"
		yes "layer $i of $tag: some text that compresses as text does, $RANDOM" | head -c $((mb * 512 * 1024)) \
			>"$d/root$i/data$i/text"
		tar -C "$d/root$i" --numeric-owner -cf "$d/layer$i.tar" .
		local sum
		sum=$(sha256sum "$d/layer$i.tar" | cut -d' ' -f1)
		mkdir -p "$d/archive/$sum" && mv "$d/layer$i.tar" "$d/archive/$sum/layer.tar"
		diff_ids+=("\"sha256:$sum\"") layers+=("\"$sum/layer.tar\"")
	done
	local ids lys cfg
	ids=$(IFS=,; echo "${diff_ids[*]}") lys=$(IFS=,; echo "${layers[*]}")
	printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/data1/random"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
		"$ids" >"$d/config.json"
	cfg=$(sha256sum "$d/config.json" | cut -d' ' -f1)
	mv "$d/config.json" "$d/archive/$cfg.json"
	printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":[%s]}]' "$cfg" "$tag" "$lys" >"$d/archive/manifest.json"
	tar -C "$d/archive" -cf "$out" .
	rm -rf "$d"
}
mkimage "$WORK/big.tar" big:1 5 40
skopeo copy -q --dest-tls-verify=false docker-archive:"$WORK/big.tar" "docker://$R/bench/big:1" >/dev/null
rm -f "$WORK/big.tar"
for i in 1 2 3; do
	mkimage "$WORK/s$i.tar" "s$i:1" 2 8
	skopeo copy -q --dest-tls-verify=false docker-archive:"$WORK/s$i.tar" "docker://$R/bench/s$i:1" >/dev/null
	rm -f "$WORK/s$i.tar"
done
mkdir -p "$WORK/stack"
{
	echo "services:"
	for i in 1 2 3; do printf '  s%d:\n    image: %s/bench/s%d:1\n    command: ["/bin/busybox", "sleep", "3600"]\n' "$i" "$R" "$i"; done
} >"$WORK/stack/compose.yaml"

forget() { # TOOL: a cold store
	case $1 in
	berth) rm -rf "$WORK/broot" ;;
	docker) docker rmi -f "$R/bench/big:1" "$R/bench/s1:1" "$R/bench/s2:1" "$R/bench/s3:1" >/dev/null 2>&1 ;;
	podman) podman rmi -f "$R/bench/big:1" "$R/bench/s1:1" "$R/bench/s2:1" "$R/bench/s3:1" >/dev/null 2>&1 ;;
	esac
}
pull() {
	case $1 in
	berth) BERTH_ROOT=$WORK/broot "$BERTH" image pull -q "$R/bench/big:1" ;;
	docker) docker pull -q "$R/bench/big:1" ;;
	podman) podman pull -q "$R/bench/big:1" ;;
	esac
}
up_cold() {
	case $1 in
	berth) (cd "$WORK/stack" && BERTH_ROOT=$WORK/broot "$BERTH" -p benchpull up -d --quiet-pull) ;;
	docker) (cd "$WORK/stack" && docker-compose -p benchpull up -d) ;;
	podman) (cd "$WORK/stack" && podman-compose -p benchpull up -d) ;;
	esac
}
down_cold() {
	case $1 in
	berth) (cd "$WORK/stack" && BERTH_ROOT=$WORK/broot "$BERTH" -p benchpull down -t 0) ;;
	*) (cd "$WORK/stack" && compose "$1" -p benchpull down -t 0) ;;
	esac
}
declare -A samples
for round in $(seq 1 "$ROUNDS"); do
	for t in "${TOOLS[@]}"; do
		forget "$t"
		sync
		a=$(ms_now)
		if pull "$t" >/dev/null 2>"$WORK/err"; then
			samples[pull|$t]+="$(($(ms_now) - a)) "
		else
			echo "bench: pull failed for $t: $(head -c 300 "$WORK/err")" >&2
		fi
		forget "$t"
		a=$(ms_now)
		if up_cold "$t" >/dev/null 2>"$WORK/err"; then
			samples[up|$t]+="$(($(ms_now) - a)) "
		else
			echo "bench: up of missing images failed for $t: $(head -c 300 "$WORK/err")" >&2
		fi
		down_cold "$t" >/dev/null 2>&1
		forget "$t"
	done
done
for w in pull up; do
	case $w in
	pull) name="pull and unpack a 200 MB, 5-layer image from a local registry (cold store)" ;;
	up) name="up -d of 3 services whose images (2 layers, 16 MB each) are not in the store" ;;
	esac
	rows "$w" "$name"
done
