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
mkdir -p stamps
{
	echo "services:"
	# s1 notes the stop signal it gets, and exits on it
	echo "  s1:"
	echo "    image: busybox"
	echo "    restart: always"
	echo "    stop_grace_period: 5s"
	echo "    volumes: [./stamps:/stamps]"
	echo "    command: sh -c 'trap \"echo term >>/stamps/s1; exit 0\" TERM; while :; do sleep 0.1; done'"
	for i in 2 3 4 5 6; do printf '  s%d: {image: busybox, init: true, command: sleep 300, stop_grace_period: 1s}\n' "$i"; done
} >compose.yaml

expect "up -d" 0 Started "$BERTH" up -d
shim_of() { pgrep -f "berth-shi[m] $BERTH_ROOT/containers/$proj-$1-1 "; }
init_of() { sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$BERTH_ROOT/containers/$proj-$1-1/state.json"; }
# gone: no such process, or a zombie its new parent has not reaped yet
gone() { ! [ -d "/proc/$1" ] || grep -q '^State:.Z' "/proc/$1/status" 2>/dev/null; }
ctr=$(init_of s1)
kill -9 "$(shim_of s1)"
check "the container outlives its killed shim" kill -0 "$ctr"
expect "ps says it runs unmonitored" 0 "$proj-s1-1 .*Up .*\(unmonitored: its shim died\)" "$BERTH" ps
expect "stop stops it" 0 "$proj-s1-1  Stopped" "$BERTH" stop s1
check "with its stop signal, as its shim would have" grep -qx term stamps/s1
check "and it is gone" gone "$ctr"
expect "ps then says it exited, and that nobody saw how" 0 "$proj-s1-1 .*Exited \(unknown\)" "$BERTH" ps -a
expect "the record says why" 0 'its shim had died' cat "$BERTH_ROOT/containers/$proj-s1-1/state.json"
expect "up starts it again" 0 "$proj-s1-1  Started" "$BERTH" up -d
check "under a shim of its own" test -n "$(shim_of s1)"
rm -f stamps/s1
ctr=$(init_of s1)
kill -9 "$(shim_of s1)"
expect "up takes over a container whose shim died" 0 "$proj-s1-1  Started" "$BERTH" up -d
check "stopping the old one with its stop signal first" grep -qx term stamps/s1
check "the old one is gone" gone "$ctr"
check "a new shim watches the new one" test -n "$(shim_of s1)"
expect "whose restart policy works again" 0 "$proj-s1-1 .*Up" "$BERTH" ps
ctr=$(init_of s1)
kill -9 "$(shim_of s1)" "$ctr"
wait_until 5 gone "$ctr"
expect "a container that died with its shim reads as exited, status unknown" 0 "$proj-s1-1 .*Exited \(unknown\)" "$BERTH" ps -a
expect "... and when it ended is not made up (no time, the zero one in inspect)" 0 \
	"$proj-s1-1 .*Exited \(unknown\) *\$" "$BERTH" ps -a s1
expect "... not the time an earlier run of it ended, nor now" 0 '"FinishedAt": "0001-01-01T00:00:00Z"' \
	"$BERTH" inspect "$proj-s1-1"

# A healthy container whose shim died: exec still reaches it; its health,
# which nobody checks any more, reads unknown, not the last healthy.
cat >health.yaml <<'YAML'
services:
  hc:
    image: busybox
    command: sleep 300
    healthcheck: {test: "true", interval: 200ms}
YAML
hcp=(-p "${proj}hc" -f health.yaml)
expect "up --wait of a service with a healthcheck" 0 Started "$BERTH" "${hcp[@]}" up -d --wait
expect "... healthy" 0 "\(healthy\)" "$BERTH" "${hcp[@]}" ps
hc=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$BERTH_ROOT/containers/${proj}hc-hc-1/state.json")
kill -9 "$(pgrep -f "berth-shi[m] $BERTH_ROOT/containers/${proj}hc-hc-1 ")"
expect "exec works in a container whose shim died" 0 '^inside$' "$BERTH" "${hcp[@]}" exec -T hc echo inside
expect "ps says its health is unknown, not healthy" 0 "${proj}hc-hc-1 .*Up .*unmonitored.*\(health: unknown\)" \
	"$BERTH" "${hcp[@]}" ps
expect "inspect says so too" 0 '"Status": "unknown"' "$BERTH" inspect "${proj}hc-hc-1"
kill -9 "$hc"
wait_until 5 gone "$hc"
expect "once it ended, exec says it is not running" 1 'is not running' "$BERTH" "${hcp[@]}" exec -T hc true
"$BERTH" "${hcp[@]}" down -t 0 >/dev/null 2>&1
expect "down" 0 Removed "$BERTH" down -t 1
check_no_leaks "after a shim was killed"
pgrep -af "berth-shi[m] $BERTH_ROOT/" >&2

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

# a removal that a killed down had begun (its directory renamed out of
# sight, half deleted) is finished by the next down, even with nothing else
# left to remove
sleep 0 &
dead=$!
wait "$dead"
mkdir -p "$BERTH_ROOT/containers/.removing-$dead-$proj-s1-1/rootfs/etc"
expect "down with only a begun removal left" 0 "" "$BERTH" down -t 0
check "finishes that removal" sh -c "! ls -A '$BERTH_ROOT/containers' | grep -q removing"

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
