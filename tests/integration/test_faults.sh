#!/bin/bash
# Faults a running stack must survive, and waits that must not add up:
# stops that run side by side, a shim or the DNS responder killed with
# kill -9, a damaged network record, a huge log read with --tail.
. "$(dirname "$0")/lib.sh"
export COMPOSE_PROJECT_NAME=berthflt$$
cleanup_hooks+=("cd '$WORK/app' 2>/dev/null && '$BERTH' down -t 1 >/dev/null 2>&1")
load_busybox -t busybox:latest || not_ok "the busybox image loads"
mkdir -p "$WORK/app/stamps" && cd "$WORK/app"

# Containers that ignore SIGTERM, each noting (in host uptime seconds) when
# it got it: b and c depend on nothing that depends on them, a is what c
# depends on.
ignore_term() { printf "sh -c 'trap \"cut -d\\\\\" \\\\\" -f1 /proc/uptime >/stamps/%s\" TERM; while :; do sleep 0.1; done'" "$1"; }
cat >compose.yaml <<YAML
services:
  a:
    image: busybox
    stop_grace_period: 3s
    command: $(ignore_term a)
    volumes: ["./stamps:/stamps"]
  b:
    image: busybox
    stop_grace_period: 3s
    command: $(ignore_term b)
    volumes: ["./stamps:/stamps"]
  c:
    image: busybox
    stop_grace_period: 3s
    depends_on: [a]
    command: $(ignore_term c)
    volumes: ["./stamps:/stamps"]
YAML
expect "up -d" 0 Started "$BERTH" up -d
stamp() { cat "stamps/$1" 2>/dev/null || echo 0; }
apart() { awk -v x="$(stamp "$1")" -v y="$(stamp "$2")" 'BEGIN {d = x - y; if (d < 0) d = -d; print d}'; }
expect "stop stops them all" 0 "Container $COMPOSE_PROJECT_NAME-a-1  Stopped" "$BERTH" stop
check "each noted its SIGTERM" test -s stamps/a -a -s stamps/b -a -s stamps/c
# the time is the feature: one after the other, b's and c's signals would
# be a grace period (3 s) apart; together, they are well under half of it
check "containers of one level get SIGTERM together (b and c, $(apart b c) s apart)" awk -v d="$(apart b c)" 'BEGIN {exit !(d < 1.5)}'
check "what others depend on gets it once they are gone (a after c's 3 s grace)" \
	awk -v a="$(stamp a)" -v c="$(stamp c)" 'BEGIN {exit !(a - c >= 2.5)}'
rm -f stamps/*
expect "up again" 0 Started "$BERTH" up -d
# logs --tail reads a log from its end: a 100 MB log, the last lines, within 64 MiB
PLAIN=${BERTH_PLAIN:-$REPO/build/berth}
log=$BERTH_ROOT/containers/$COMPOSE_PROJECT_NAME-b-1/$COMPOSE_PROJECT_NAME-b-1-json.log
yes '{"log":"an old line of a long-running service, many times over, to make the file large\n","stream":"stdout","time":"2026-01-01T00:00:00.000000000Z"}' |
	head -c 100000000 >"$log.1"
printf '{"log":"newest %d\\n","stream":"stdout","time":"2026-01-02T00:00:00.00000000%dZ"}\n' 1 1 2 2 3 3 >"$log"
expect "logs --tail 3 of a 100 MB log stays within 64 MiB of address space" 0 '^newest 1$' \
	sh -c "ulimit -v 65536; '$PLAIN' logs --no-log-prefix --tail 3 b"
expect "and gives exactly the last lines" 0 '^3$' sh -c "'$PLAIN' logs --no-log-prefix --tail 3 b | wc -l"
expect "reaching into the rotated file when the newest has too few" 0 '^an old line.*newest 3$' \
	sh -c "'$PLAIN' logs --no-log-prefix --tail 5 b | tr '\n' ' ' | sed 's/ $//'"
rm -f "$log.1"
expect "down removes them" 0 "Container $COMPOSE_PROJECT_NAME-a-1  Removed" "$BERTH" down
check "each noted its SIGTERM again" test -s stamps/a -a -s stamps/b -a -s stamps/c
check "down, too, stops a level at once ($(apart b c) s apart)" awk -v d="$(apart b c)" 'BEGIN {exit !(d < 1.5)}'
check "and a after c" awk -v a="$(stamp a)" -v c="$(stamp c)" 'BEGIN {exit !(a - c >= 2.5)}'
check_no_leaks "after down"

# The DNS responder killed: the next up (of an unchanged stack) starts it
# again, and without any berth command a shim does within seconds.
cat >dns.yaml <<'YAML'
services:
  web:
    image: busybox
    command: sleep 1000
  client:
    image: busybox
    command: sleep 1000
YAML
export COMPOSE_FILE=dns.yaml
expect "up -d of a stack on a network" 0 Started "$BERTH" up -d
responder() { pgrep -f "berth-shi[m] dns $BERTH_ROOT "; }
expect "names resolve" 0 "Address: " "$BERTH" exec -T client nslookup web
kill -9 "$(responder)"
wait_until 5 sh -c "! pgrep -f 'berth-shi[m] dns $BERTH_ROOT ' >/dev/null"
expect "with the responder killed, names do not" 1 "" "$BERTH" exec -T client nslookup -timeout=1 web
expect "up of the unchanged stack" 0 Running "$BERTH" up -d
check "starts the responder again" test -n "$(responder)"
expect "and names resolve again" 0 "Address: " "$BERTH" exec -T client nslookup web
kill -9 "$(responder)"
check "killed again, a shim starts it within 15 seconds, no berth command needed" wait_until 15 responder
expect "and names resolve" 0 "Address: " "$BERTH" exec -T client nslookup web
expect "down" 0 Removed "$BERTH" down -t 0
check_no_leaks "after the responder was killed twice"

# A damaged network record: down still finds the bridge (the kernel keeps,
# with each, which root and network it is for), removes it and says so.
expect "up -d again" 0 Started "$BERTH" up -d
netrec=$BERTH_ROOT/net/networks/${COMPOSE_PROJECT_NAME}_default.json
bridge=$(sed -n 's/.*"bridge": "\([^"]*\)".*/\1/p' "$netrec")
check "the network has its bridge" sh -c "ip link show '$bridge' >/dev/null"
printf '{"name": "%s_def' "$COMPOSE_PROJECT_NAME" >"$netrec" # cut short
expect "down with a damaged network record" 0 "had no readable record; its bridge $bridge is removed" "$BERTH" down -t 0
check "the bridge is gone" sh -c "! ip link show '$bridge' 2>/dev/null"
check_no_leaks "after down with a damaged network record"
unset COMPOSE_FILE
expect "network create" 0 "^lostnet$$\$" "$BERTH" network create lostnet$$
bridge=$(sed -n 's/.*"bridge": "\([^"]*\)".*/\1/p' "$BERTH_ROOT/net/networks/lostnet$$.json")
rm "$BERTH_ROOT/net/networks/lostnet$$.json"
expect "network rm of a network whose record is gone removes its bridge" 0 "had no readable record; its bridge $bridge is removed" \
	"$BERTH" network rm lostnet$$
check "which is gone" sh -c "! ip link show '$bridge' 2>/dev/null"
check_no_leaks "after network rm without a record"

# A container's end read while its shim writes it: berth reads the record
# (running), the shim records the exit and ends, berth then sees the shim
# gone. That is not a shim that died unseen: the record read again says
# how it ended. strace slows each of berth's opens by 20 ms (the shim is
# not traced), which makes that order certain instead of rare.
mkdir -p "$WORK/race" && cd "$WORK/race" || exit 1
printf 'services:\n  s:\n    image: busybox\n' >compose.yaml
printf 'FROM busybox\nRUN echo $RANDOM >/x\n' >Dockerfile
slowed() { ASAN_OPTIONS=detect_leaks=0 strace -o /dev/null -e trace=openat -e inject=openat:delay_exit=20000 "$BERTH" "$@"; }
for i in 1 2 3; do
	expect "run --rm, berth slowed: the container's own exit status ($i)" 3 '' slowed run --rm -T s sh -c 'exit 3'
done
for i in 1 2; do
	expect "a RUN step, berth slowed, succeeds ($i)" 0 'naming to docker.io/library/racy:latest done' \
		slowed image build --no-cache -t racy .
done
expect "down" 0 '' "$BERTH" down -t 0
check_no_leaks "after the slowed runs"

# The ruleset changing under berth (another program's rules, another state
# root's berth): the kernel marks berth's dump of the chains interrupted,
# and berth reads it again instead of failing. A table of the test's own,
# with many chains (a long dump), changed by three loops meanwhile.
churn=berthchurn$$
cleanup_hooks+=("nft delete table ip $churn 2>/dev/null")
nft add table ip "$churn" && (for i in $(seq 1 3000); do echo "add chain ip $churn big$i"; done) | nft -f -
churners=()
for k in 1 2 3; do
	(for i in $(seq 1 100000); do nft add chain ip "$churn" "c$k$i" 2>/dev/null; nft delete chain ip "$churn" "c$k$i" 2>/dev/null; done) &
	churners+=($!)
done
cleanup_hooks+=("kill ${churners[*]} 2>/dev/null")
failures=0
for i in $(seq 1 30); do
	"$BERTH" network create "churn$$-$i" >/dev/null 2>>"$WORK/churn.err" || failures=$((failures + 1))
	"$BERTH" network rm "churn$$-$i" >/dev/null 2>>"$WORK/churn.err" || failures=$((failures + 1))
done
check "the churners ran all the while (the control)" kill -0 "${churners[@]}"
kill "${churners[@]}" 2>/dev/null
wait "${churners[@]}" 2>/dev/null
check "30 network create and rm while the ruleset changes: none fails ($failures did$(head -1 "$WORK/churn.err" | sed 's/^/: /'))" test "$failures" -eq 0
nft delete table ip "$churn"
check_no_leaks "after the ruleset changed under berth"

# $ROOT/net/dying names the veths a detach let go of, for the next berth
# to delete. Written there by anyone who could (a damaged disk, a hand),
# a link berth did not make is not deleted: a link of the test's own,
# named in the file, outlives the berth command that reads it.
decoy=berthdy$$
cleanup_hooks+=("ip link del $decoy 2>/dev/null")
ip link add "$decoy" type veth peer name "berthdz$$"
check "the test has its own link, made outside berth (the decoy)" ip link show "$decoy"
mkdir -p "$BERTH_ROOT/net" && printf '%s\nlo\n' "$decoy" >>"$BERTH_ROOT/net/dying"
expect "network create, which reads the dying list" 0 "^decoy$$\$" "$BERTH" network create "decoy$$"
check "the list was read and let go (the control)" test ! -e "$BERTH_ROOT/net/dying"
check "a link berth did not make, named in it, is still there" ip link show "$decoy"
expect "network rm" 0 "^decoy$$\$" "$BERTH" network rm "decoy$$"
ip link del "$decoy"
check_no_leaks "after the dying list named a link of another's"
