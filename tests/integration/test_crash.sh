#!/bin/bash
# kill -9 at the worst moments: a shim dies under a running container, a
# berth up is killed midway; the next commands finish or undo what was
# half done, and down leaves nothing.
. "$(dirname "$0")/lib.sh"
export COMPOSE_PROJECT_NAME=berthcrash$$
proj=$COMPOSE_PROJECT_NAME
cleanup_hooks+=("cd '$WORK/app' 2>/dev/null && '$BERTH' down -t 1 >/dev/null 2>&1")
load_busybox -t busybox:latest || not_ok "the busybox image loads"
mkdir -p "$WORK/app" && cd "$WORK/app"
{
	echo "services:"
	for i in 1 2 3 4 5 6; do printf '  s%d: {image: busybox, init: true, command: sleep 300, stop_grace_period: 1s}\n' "$i"; done
} >compose.yaml

expect "up -d" 0 Started "$BERTH" up -d
shim=$(pgrep -f "berth-shi[m] $BERTH_ROOT/containers/$proj-s1-1 ")
ctr=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$BERTH_ROOT/containers/$proj-s1-1/state.json")
kill -9 "$shim"
check "the container outlives its killed shim" kill -0 "$ctr"
expect "ps reports it as exited, not running" 0 "$proj-s1-1 .*Exited" "$BERTH" ps -a
expect "up starts it again" 0 "$proj-s1-1  Started" "$BERTH" up -d
check "and the orphan was killed through its cgroup" wait_until 5 sh -c "! kill -0 $ctr 2>/dev/null"
expect "down" 0 Removed "$BERTH" down -t 1
check_no_leaks "after a shim was killed"

# killed DELAY CMD...: runs the berth command CMD, kill -9 after DELAY seconds
killed() {
	local delay=$1
	shift
	"$BERTH" "$@" >/dev/null 2>&1 &
	local pid=$!
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# kill -9 of berth up at several points, then down
for delay in 0.005 0.02 0.05 0.1; do
	killed "$delay" up -d
	"$BERTH" up -d >/dev/null 2>&1
	check "after up was killed at ${delay}s, the next up brings all six up" \
		test "$("$BERTH" ps | grep -c "$proj-s.-1 .*Up")" -eq 6
	"$BERTH" down -t 1 >/dev/null 2>&1
	check_no_leaks "after up was killed at ${delay}s and down"
done

# kill -9 of berth down at several points, then down again; and of up, then down alone
for delay in 0.005 0.02 0.05 0.1; do
	"$BERTH" up -d >/dev/null 2>&1
	killed "$delay" down -t 0
	"$BERTH" down -t 0 >/dev/null 2>&1
	check_no_leaks "after down was killed at ${delay}s and down again"
	killed "$delay" up -d
	"$BERTH" down -t 0 >/dev/null 2>&1
	check_no_leaks "after up was killed at ${delay}s and down alone"
done

# what a power cut can leave of files written without fsync: empty ones
"$BERTH" up -d >/dev/null 2>&1
"$BERTH" stop -t 1 s2 s3 >/dev/null 2>&1
: >"$BERTH_ROOT/containers/$proj-s2-1/state.json"
expect "an emptied state reads as a container that has not run" 0 "$proj-s2-1 .*Created" "$BERTH" ps -a
expect "and up starts it" 0 "$proj-s2-1  Started" "$BERTH" up -d
: >"$BERTH_ROOT/containers/$proj-s3-1/compose.json"
expect "down with an emptied container record" 0 "Removed" "$BERTH" down -t 1
check "takes that container's directory too" test ! -e "$BERTH_ROOT/containers/$proj-s3-1"
check_no_leaks "after down with emptied records"
