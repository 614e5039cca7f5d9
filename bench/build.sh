#!/bin/bash
# Building, berth against docker build (the classic builder, as Docker
# 20.10 has it) and podman build, on one context and one 5-stage
# Dockerfile FROM the same busybox bytes: a cold build (no cache) and a
# rebuild of the unchanged context. Prints Markdown table rows (workload |
# tool | median | min | max | berth ÷ tool), as bench/run.sh prints its own.
#   bench/build.sh [ROUNDS]   (default 3; the tools that are installed and running)
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
. bench/common.sh
ROUNDS=${1:-${ROUNDS:-3}}
BERTH=$REPO/build/berth
WORK=$(mktemp -d /tmp/berth-buildbench-XXXXXX)
export BERTH_ROOT=$WORK/broot
export BERTH_CONFIG=$WORK/berth-config.json # no pull reaches past this host
printf '{"proxies": {"http-proxy": "http://127.0.0.1:9", "https-proxy": "http://127.0.0.1:9"}}\n' >"$BERTH_CONFIG"
cleanup() {
	docker info >/dev/null 2>&1 && docker rmi -f benchbuild:1 benchbase:1 >/dev/null 2>&1
	command -v podman >/dev/null && podman rmi -f benchbuild:1 benchbase:1 >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT
[ -x /usr/bin/docker ] && docker() { /usr/bin/docker "$@"; }
TOOLS=(berth)
docker info >/dev/null 2>&1 && TOOLS+=(docker)
command -v podman >/dev/null && TOOLS+=(podman)

"$REPO/examples/images/build-image.sh" -t benchbase:1 "$WORK/base.tar" >/dev/null
"$BERTH" image load -i "$WORK/base.tar" >/dev/null
for t in "${TOOLS[@]}"; do
	case $t in
	docker) docker load -i "$WORK/base.tar" >/dev/null 2>&1 ;;
	podman) podman load -i "$WORK/base.tar" >/dev/null 2>&1 ;;
	esac
done

# The context: sources, a dependency list, files a .dockerignore leaves out.
ctx=$WORK/ctx
mkdir -p "$ctx/src" "$ctx/node_modules"
for i in $(seq 1 200); do printf 'source file %d\n%s\n' "$i" "$(head -c 2000 /dev/urandom | base64)" >"$ctx/src/f$i.txt"; done
head -c $((20 << 20)) /dev/urandom >"$ctx/node_modules/big.bin"
printf 'dep-a 1.0\ndep-b 2.1\n' >"$ctx/deps.txt"
printf 'node_modules\n' >"$ctx/.dockerignore"
cat >"$ctx/Dockerfile" <<'DF'
FROM benchbase:1 AS base
RUN mkdir -p /opt/app && echo base >/opt/app/stage
ENV APP_HOME=/opt/app

FROM base AS deps
COPY deps.txt /opt/app/
RUN cd /opt/app && while read name v; do mkdir -p lib/$name && head -c 2000000 /dev/urandom >lib/$name/blob; done <deps.txt

FROM deps AS build
COPY src/ /opt/app/src/
RUN cd /opt/app && cat src/*.txt | sha256sum >build.sum && tar -cf app.tar src lib

FROM build AS test
RUN cd /opt/app && test -s build.sum && tar -tf app.tar >/dev/null

FROM benchbase:1
COPY --from=build /opt/app/app.tar /opt/app/build.sum /srv/
COPY --from=test /opt/app/stage /srv/tested
WORKDIR /srv
CMD ["cat", "build.sum"]
DF

build() { # TOOL [--no-cache]
	local t=$1
	shift
	case $t in
	berth) "$BERTH" image build -q "$@" -t benchbuild:1 "$ctx" ;;
	docker) DOCKER_BUILDKIT=0 docker build -q "$@" -t benchbuild:1 "$ctx" ;;
	podman) podman build -q --layers "$@" -t benchbuild:1 "$ctx" ;;
	esac
}
forget() { # TOOL: no cache of earlier rounds
	case $1 in
	berth) "$BERTH" builder prune -f >/dev/null ;;
	docker) docker rmi -f benchbuild:1 >/dev/null 2>&1; docker image prune -f >/dev/null 2>&1 ;;
	podman) podman rmi -f benchbuild:1 >/dev/null 2>&1; podman image prune -f >/dev/null 2>&1 ;;
	esac
}
declare -A samples
for round in $(seq 0 "$ROUNDS"); do
	for t in "${TOOLS[@]}"; do
		forget "$t"
		sync
		a=$(ms_now)
		if ! build "$t" --no-cache >/dev/null 2>"$WORK/err"; then
			echo "bench: the cold build failed for $t: $(head -c 300 "$WORK/err")" >&2
			continue
		fi
		cold=$(($(ms_now) - a))
		a=$(ms_now)
		build "$t" >/dev/null 2>"$WORK/err" || echo "bench: the rebuild failed for $t: $(head -c 300 "$WORK/err")" >&2
		again=$(($(ms_now) - a))
		[ "$round" = 0 ] && continue # the warm-up
		samples[cold|$t]+="$cold "
		samples[again|$t]+="$again "
	done
done
for w in cold again; do
	case $w in
	cold) name="build a 5-stage Dockerfile, no cache (context 400 kB + 20 MB ignored)" ;;
	again) name="build it again, nothing changed" ;;
	esac
	rows "$w" "$name"
done
