# Shared by the integration tests: run the real berth, record results as
# "ok DESC" / "not ok DESC" lines (read by tests/run-all), clean up on exit.
set -u
: "${BERTH:?set BERTH to the berth binary}"
RESULTS=${BERTH_RESULTS:-/dev/null}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Real-world compose files (shared/ beside the repository). A user's clone
# has none: the one test that reads them (test_corpus.sh) says skip and passes.
CORPUS=${BERTH_CORPUS:-$(cd "$REPO/../shared/corpus" 2>/dev/null && pwd || echo "$REPO/../shared/corpus")}
WORK=$(mktemp -d /tmp/berth-it-XXXXXX)
# No test reaches past this host: berth's pulls from any registry not on
# 127.0.0.0/8 (Docker Hub, for a name without a domain) go through a
# "proxy" on a closed loopback port, so they fail here without even a DNS
# lookup. Only berth's configuration says so: wget and curl in the tests
# still reach containers directly.
export BERTH_CONFIG=$WORK/berth-config.json
printf '{"proxies": {"http-proxy": "http://127.0.0.1:9", "https-proxy": "http://127.0.0.1:9", "no-proxy": "127.0.0.1,localhost"}}\n' >"$BERTH_CONFIG"
export BERTH_ROOT=$WORK/root
cleanup_hooks=()
on_exit() {
	# KEEP=1: the test's work directory (logs of its registries, proxies, …) is kept in /tmp/kept-work
	[ -n "${KEEP:-}" ] && cp -r "$WORK" /tmp/kept-work
	for h in "${cleanup_hooks[@]}"; do eval "$h"; done
	rm -rf "$WORK"
}
trap on_exit EXIT

ok() { echo "ok $*" | tee -a "$RESULTS"; }
not_ok() { echo "not ok $*" | tee -a "$RESULTS"; }

# check DESC CMD...: passes when CMD exits 0.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# run CMD...: runs it, keeping stdout in $OUT, stderr in $ERR, status in $RC.
run() {
	"$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
}

# expect DESC RC PATTERN CMD...: status must be RC and stdout+stderr match the ERE.
expect() {
	local desc=$1 want_rc=$2 pattern=$3
	shift 3
	run "$@"
	if [ "$RC" -eq "$want_rc" ] && printf '%s\n%s\n' "$OUT" "$ERR" | grep -Eq -- "$pattern"; then
		ok "$desc"
	else
		not_ok "$desc (exit $RC, wanted $want_rc; output: $(printf '%s %s' "$OUT" "$ERR" | head -c 400))"
	fi
}

# expect_quiet DESC RC CMD...: status must be RC and nothing printed on stdout.
expect_quiet() {
	local desc=$1 want_rc=$2
	shift 2
	run "$@"
	if [ "$RC" -eq "$want_rc" ] && [ -z "$OUT" ]; then
		ok "$desc"
	else
		not_ok "$desc (exit $RC, wanted $want_rc; stdout: $(printf '%s' "$OUT" | head -c 300))"
	fi
}

# none_match DESC ERE CMD...: CMD succeeds and no line of its output
# matches ERE (a listing that must not show something: a command that
# failed shows nothing, and proves nothing).
none_match() {
	local desc=$1 pattern=$2
	shift 2
	run "$@"
	if [ "$RC" -eq 0 ] && ! printf '%s\n' "$OUT" | grep -Eq -- "$pattern"; then
		ok "$desc"
	else
		not_ok "$desc (exit $RC; output: $(printf '%s %s' "$OUT" "$ERR" | head -c 300))"
	fi
}

# expect_log DESC SERVICE ERE [ARGS...]: SERVICE's log (berth ARGS logs)
# comes to match ERE within 20 s; what it had is shown when it does not.
expect_log() {
	local desc=$1 svc=$2 pattern=$3
	shift 3
	if wait_until 20 sh -c "'$BERTH' $* logs --no-log-prefix $svc 2>/dev/null | grep -Eq -- \"\$0\"" "$pattern"; then
		ok "$desc"
	else
		not_ok "$desc (the log of $svc: $("$BERTH" "$@" logs --no-log-prefix "$svc" 2>&1 | head -c 300))"
	fi
}

# attached NAME: a client (attach) is connected to container NAME's shim.
attached() { ss -Hx | grep -qF "$BERTH_ROOT/containers/$1/attach.sock"; }

# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_until() {
	local limit=$(($1 * 10))
	shift
	for _ in $(seq 1 "$limit"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# The nftables table of this state root (see network/nat.c).
nft_table() {
	local s=$BERTH_ROOT h=2166136261 i o
	for ((i = 0; i < ${#s}; i++)); do
		printf -v o '%d' "'${s:i:1}"
		h=$((((h ^ o) * 16777619) & 0xffffffff))
	done
	printf 'berth_%08x' "$h"
}
# Tests never let berth's DNS responder forward to the host's resolvers.
export BERTH_DNS_UPSTREAM=${BERTH_DNS_UPSTREAM:-127.0.0.1:9}

# What of berth this state root has on the host, and nothing of any
# other's (a user's own stacks, another test): its links (bridges and
# veths carry "berth TABLE …" as their kernel alias), its cgroups (marked
# with their container's directory), its mounts and processes.
root_links() { ip -o link show | grep -F " alias berth $(nft_table) " | awk -F': ' '{print $2}' | cut -d@ -f1 | sort; }
root_cgroups() {
	local d
	for d in /sys/fs/cgroup/*/berth/* /sys/fs/cgroup/berth/* ${LEAK_CGROUPS:-}; do
		[ -d "$d" ] || continue
		case $(getfattr --only-values -n trusted.berth.dir "$d" 2>/dev/null) in "$BERTH_ROOT"/*) echo "$d" ;; esac
	done
}

# Nothing of berth may be left on the host for this state root.
check_no_leaks() {
	local what=$1
	check "$what: no container state left" sh -c "[ -z \"\$(ls -A '$BERTH_ROOT/containers' 2>/dev/null)\" ]"
	check "$what: no overlay mount left" sh -c "! grep -q '$BERTH_ROOT' /proc/mounts"
	local cgs
	cgs=$(root_cgroups)
	check "$what: no berth cgroup left${cgs:+ (left: $(echo $cgs))}" test -z "$cgs"
	check "$what: no shim left" sh -c "! pgrep -f 'berth-shi[m] $BERTH_ROOT/' >/dev/null"
	# the kernel tears a network namespace down (and its veth) asynchronously
	local _ links
	for _ in $(seq 50); do
		links=$(root_links)
		[ -z "$links" ] && break
		sleep 0.1
	done
	check "$what: no berth link left${links:+ (left: $(echo $links))}" test -z "$links"
	check "$what: no nftables table left" sh -c "! nft list tables 2>/dev/null | grep -qxE 'table (ip|bridge) $(nft_table)'"
	check "$what: no DNS responder left" sh -c "! pgrep -f 'berth-shi[m] dns $BERTH_ROOT ' >/dev/null"
	check "$what: no network state left" sh -c "[ -z \"\$(ls -A '$BERTH_ROOT/net/networks' '$BERTH_ROOT/net/endpoints' '$BERTH_ROOT/net/netns' 2>/dev/null | grep -v ':\$' | grep .)\" ]"
}

# A free port on the host for this run (a test never assumes one).
free_port() {
	local p
	for p in $(shuf -i 20000-29999 -n 50); do
		if ! ss -Hltnu "sport = :$p" | grep -q .; then
			echo "$p"
			return
		fi
	done
}

# Load the busybox test image (built once per test file).
load_busybox() {
	"$REPO/examples/images/build-image.sh" "$@" "$WORK/busybox.tar" >/dev/null &&
		"$BERTH" image load -i "$WORK/busybox.tar" >/dev/null
}

# build_host_image TAG OUT.tar BINARY:DEST...: the busybox image with the
# host's binaries (from Debian's packages) at DEST, each with the shared
# libraries ldd names at their own paths: a real server as an image, offline.
build_host_image() {
	local tag=$1 out=$2 adds=() spec bin lib
	shift 2
	for spec in "$@"; do
		bin=${spec%%:*}
		adds+=(--add "$(realpath "$bin"):${spec#*:}")
		for lib in $(ldd "$bin" | grep -oE '/[^ ]+\.so[^ ]*' | sort -u); do
			adds+=(--add "$(realpath "$lib"):$lib")
		done
	done
	"$REPO/examples/images/build-image.sh" -t "$tag" "${adds[@]}" "$out" >/dev/null
}
