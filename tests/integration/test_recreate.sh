#!/bin/bash
# A container up replaces is stopped as stop stops it: its pre_stop hooks,
# its stop signal, its grace period, then SIGKILL, and only then removed.
# Whatever made up replace it — a changed service, --force-recreate, a new
# image under the same tag, a scale down — what it wrote on its way out is
# there afterwards; and a real Redis keeps every write it acknowledged.
. "$(dirname "$0")/lib.sh"
export COMPOSE_PROJECT_NAME=berthrc$$
proj=$COMPOSE_PROJECT_NAME
cleanup_hooks+=("cd '$WORK/app' 2>/dev/null && '$BERTH' down -v -t 0 >/dev/null 2>&1")
load_busybox -t busybox:latest || not_ok "the busybox image loads"
mkdir -p "$WORK/app" && cd "$WORK/app" || exit 1

# On SIGTERM it takes a second to flush (as a database does), then writes
# down that it stopped cleanly, in its volume. A pre_stop hook marks too.
stack() {
	cat <<YAML
services:
  db:
    image: ${IMAGE:-busybox}
    environment: {GEN: "${GEN:-1}"}
    stop_grace_period: 5s
    command:
      - sh
      - -c
      - |
        trap 'sleep 1; echo "flushed \$\$GEN" >>/v/log; exit 0' TERM
        echo "started \$\$GEN" >>/v/log
        while :; do sleep 0.1; done
    pre_stop:
      - command: sh -c 'echo "hook \$\$GEN" >>/v/log'
    volumes: [data:/v]
    deploy: {replicas: ${REPLICAS:-1}}
volumes: {data: {}}
YAML
}
log() { "$BERTH" run --rm -T --no-deps --entrypoint cat db /v/log 2>/dev/null; }
stack >compose.yaml
expect "up" 0 Started "$BERTH" up -d

# 1. a changed service
GEN=2 stack >compose.yaml
expect "a changed service is recreated" 0 "$proj-db-1  Recreate" "$BERTH" up -d
expect "the old container ran its pre_stop hook, got its stop signal and had its grace period" 0 \
	'hook 1.*flushed 1.*started 2' sh -c "$(declare -f log); BERTH='$BERTH' log | tr '\n' ' '"
check "before the new one started" sh -c \
	"$(declare -f log); BERTH='$BERTH' log | awk '/flushed 1/ {f = NR} /started 2/ {s = NR} END {exit !(f && s && f < s)}'"

# 2. --force-recreate
expect "--force-recreate" 0 "$proj-db-1  Recreate" "$BERTH" up -d --force-recreate
expect "stops the old one gracefully too" 0 '^hook 2 flushed 2 started 2 $' \
	sh -c "$(declare -f log); BERTH='$BERTH' log | tail -3 | tr '\n' ' '"

# 3. up -t 0: the user asked for no grace period (docker compose's --timeout)
GEN=3 stack >compose.yaml
expect "up -t 0 recreates" 0 Recreate "$BERTH" up -d -t 0
check "with -t 0 the hook runs but no grace period is given" sh -c \
	"$(declare -f log); BERTH='$BERTH' log | tail -2 | tr '\n' ' ' | grep -qx 'hook 2 started 3 '"

# 4. the same tag loaded again with other content: a new image
"$REPO/examples/images/build-image.sh" -t busybox:latest --env NEWIMAGE=1 "$WORK/busybox2.tar" >/dev/null &&
	"$BERTH" image load -i "$WORK/busybox2.tar" >/dev/null
expect "a new image under the same tag recreates" 0 "$proj-db-1  Recreate" "$BERTH" up -d
expect "after a graceful stop" 0 '^hook 3 flushed 3 started 3 $' \
	sh -c "$(declare -f log); BERTH='$BERTH' log | tail -3 | tr '\n' ' '"

# 5. scale down: the replica that goes is stopped as stop does
REPLICAS=2 GEN=3 stack >compose.yaml
expect "scale up to two" 0 "$proj-db-2  Started" "$BERTH" up -d
REPLICAS=1 GEN=3 stack >compose.yaml
expect "scale down to one" 0 "$proj-db-2  Removed" "$BERTH" up -d
check "the removed replica flushed first" sh -c \
	"$(declare -f log); BERTH='$BERTH' log | tail -2 | tr '\n' ' ' | grep -qx 'hook 3 flushed 3 '"

# A scale down that cannot finish fails up: the replica's directory is
# made a mount point, which cannot be renamed away.
REPLICAS=2 GEN=3 stack >compose.yaml
"$BERTH" up -d >/dev/null 2>&1
gone=$BERTH_ROOT/containers/$proj-db-2
mount --bind "$gone" "$gone" && cleanup_hooks=("umount -l '$gone' 2>/dev/null" "${cleanup_hooks[@]}")
REPLICAS=1 GEN=3 stack >compose.yaml
expect "a scale down that fails fails up, saying why" 1 "cannot remove .*$proj-db-2.*busy" "$BERTH" up -d
umount "$gone"
expect "and the next up finishes it" 0 "$proj-db-2  Removed" "$BERTH" up -d

# 6. rm --stop stops gracefully before it removes
expect "rm -s -f" 0 "$proj-db-1  Removed" "$BERTH" rm -s -f db
check "rm --stop gave the grace period" sh -c \
	"$(declare -f log); BERTH='$BERTH' log | tail -2 | tr '\n' ' ' | grep -qx 'hook 3 flushed 3 '"
"$BERTH" down -v -t 0 >/dev/null 2>&1
check_no_leaks "after the busybox stack"

# A real Redis (Debian's redis-server binary, its libraries beside it):
# writes acknowledged before a config-change recreate are all there after.
# With no AOF, Redis saves its data set when it is told to stop (SIGTERM),
# and only then: a SIGKILLed Redis loses what it had not saved.
redis=$(command -v redis-check-rdb || true) # Debian's redis-server is this binary by another name
if [ -z "$redis" ] || ! command -v redis-cli >/dev/null; then
	not_ok "redis-tools is installed (make test-deps installs it)"
else
	build_host_image redis:test "$WORK/redis.tar" "$redis:/usr/bin/redis-server" &&
		"$BERTH" image load -i "$WORK/redis.tar" >/dev/null
	port=$(free_port)
	redis_stack() {
		cat <<YAML
services:
  cache:
    image: redis:test
    command: [redis-server, --dir, /data, --bind, 0.0.0.0, --protected-mode, "no"]
    environment: {GEN: "${GEN:-1}"}
    ports: ["127.0.0.1:$port:6379"]
    volumes: [cache:/data]
volumes: {cache: {}}
YAML
	}
	GEN=1 redis_stack >compose.yaml
	expect "a real Redis comes up" 0 Started "$BERTH" up -d
	wait_until 10 redis-cli -p "$port" ping
	for _ in 1 2 3; do redis-cli -p "$port" incr counter >/dev/null; done
	expect "three writes acknowledged" 0 '^3$' redis-cli -p "$port" get counter
	GEN=2 redis_stack >compose.yaml
	expect "a config change recreates it" 0 "$proj-cache-1  Recreate" "$BERTH" up -d
	wait_until 10 redis-cli -p "$port" ping
	expect "every acknowledged write is still there (3 -> 4)" 0 '^4$' redis-cli -p "$port" incr counter
	expect "the new Redis loaded the data set the old one saved on its way out" 0 'DB loaded from disk' "$BERTH" logs cache
	"$BERTH" down -v -t 0 >/dev/null 2>&1
fi
check_no_leaks "after the Redis stack"
