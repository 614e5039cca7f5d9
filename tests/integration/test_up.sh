#!/bin/bash
# Containers as a user runs them: up -d, isolation seen from inside, logs,
# restart policies, stop grace, errors that change nothing, and down
# leaving nothing behind.
. "$(dirname "$0")/lib.sh"
export COMPOSE_PROJECT_NAME=berthup$$
proj=$COMPOSE_PROJECT_NAME
cleanup_hooks+=("cd '$WORK/app' 2>/dev/null && '$BERTH' down -t 1 >/dev/null 2>&1")

load_busybox -t busybox:latest || not_ok "the busybox image loads"
"$REPO/examples/images/build-image.sh" -t epimg:1 --entrypoint '["echo","from-entrypoint"]' --cmd '["from-cmd"]' \
	"$WORK/ep.tar" >/dev/null && "$BERTH" image load -i "$WORK/ep.tar" >/dev/null
mkdir -p "$WORK/app/hostdir" && cd "$WORK/app"
echo "from the host" >hostdir/file
cat >compose.yaml <<'YAML'
services:
  probe:
    image: busybox
    hostname: probehost
    stop_grace_period: 500ms
    working_dir: /work
    mem_limit: 48m
    environment: [FOO=bar]
    volumes: ["./hostdir:/data:ro"]
    command:
      - sh
      - -c
      - |
        echo "pid=$$$$ host=$$(hostname) cwd=$$(pwd) foo=$$FOO uid=$$(id -u) gid=$$(id -g)"
        grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status
        cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max
        cat /data/file
        touch /data/x 2>/dev/null && echo "bind writable" || echo "bind read-only"
        ls /proc/kcore >/dev/null 2>&1 && [ -s /proc/kcore ] && echo "kcore visible" || echo "kcore masked"
        exec sleep 300
  user:
    image: busybox
    user: app
    command: sh -c 'echo "user $$(id -u):$$(id -g) groups $$(id -G)"; grep CapEff /proc/self/status'
  strict:
    image: busybox
    security_opt: ["no-new-privileges:true"]
    cap_drop: [ALL]
    cap_add: [NET_BIND_SERVICE]
    command: ["grep", "-E", "^(CapEff|Seccomp|NoNewPrivs):", "/proc/self/status"]
  loose:
    image: busybox
    security_opt: ["seccomp=unconfined"]
    command: ["grep", "Seccomp:", "/proc/self/status"]
  ep-default: {image: "epimg:1"}
  ep-command: {image: "epimg:1", command: [given]}
  ep-reset: {image: "epimg:1", entrypoint: [], command: [echo, no-entrypoint]}
  flaky:
    image: busybox
    restart: on-failure:3
    command: sh -c 'echo attempt; exit 1'
  stubborn:
    image: busybox
    stop_grace_period: 500ms
    command: sh -c 'trap "" TERM; echo stubborn; while true; do sleep 1; done'
  counter:
    image: busybox
    init: true
    stop_grace_period: 1s
    command: sh -c 'for i in 1 2 3 4 5; do echo line $$i; done; exec sleep 300'
YAML

expect "up -d starts the stack" 0 "Container $proj-probe-1  Started" "$BERTH" up -d
# the leak checks can see what they look for: this root's links and cgroups, while up
check "the leak check sees this root's bridge and veths while the stack is up" \
	test "$(root_links | grep -c .)" -ge 2
check "... and its containers' cgroups" sh -c "echo '$(root_cgroups)' | grep -q '/$proj-probe-1\$'"
logs_of() { "$BERTH" logs --no-log-prefix "$1"; }
wait_until 5 sh -c "'$BERTH' logs probe | grep -q 'kcore'"
run logs_of probe
check "PID 1 is the command" grep -q 'pid=1 ' "$WORK/out"
check "hostname is set" grep -q 'host=probehost' "$WORK/out"
check "working_dir is used (and made)" grep -q 'cwd=/work' "$WORK/out"
check "environment reaches the command" grep -q 'foo=bar' "$WORK/out"
check "root by default" grep -q 'uid=0 gid=0' "$WORK/out"
check "Docker's default capabilities" grep -q 'CapEff:.*00000000a80425fb' "$WORK/out"
check "the default seccomp profile is on" grep -qP 'Seccomp:\t2' "$WORK/out"
check "no_new_privs is off by default" grep -qP 'NoNewPrivs:\t0' "$WORK/out"
check "the memory limit is in the container's cgroup" grep -qx '50331648' "$WORK/out"
check "a bind mount shows host files" grep -q 'from the host' "$WORK/out"
check "a :ro bind refuses writes" grep -q 'bind read-only' "$WORK/out"
check "/proc/kcore is masked" grep -q 'kcore masked' "$WORK/out"

wait_until 10 sh -c "'$BERTH' logs user | grep -q CapEff"
run logs_of user
check "user: name resolves in the image's /etc/passwd with its groups" grep -q 'user 1000:1000 groups 1000 10 100' "$WORK/out"
check "a non-root user has no effective capabilities" grep -q 'CapEff:.*0000000000000000' "$WORK/out"
wait_until 10 sh -c "'$BERTH' logs strict | grep -q NoNewPrivs"
run logs_of strict
check "no-new-privileges sets NoNewPrivs" grep -qP 'NoNewPrivs:\t1' "$WORK/out"
check "cap_drop ALL + cap_add keeps only what was added" grep -q 'CapEff:.*0000000000000400' "$WORK/out"
# each service's own output waited for (they start together, in any order)
check "seccomp=unconfined turns the filter off" wait_until 10 sh -c "'$BERTH' logs --no-log-prefix loose | grep -qP 'Seccomp:\t0'"
check "image ENTRYPOINT + CMD" wait_until 10 sh -c "'$BERTH' logs --no-log-prefix ep-default | grep -qx 'from-entrypoint from-cmd'"
check "command replaces CMD only" wait_until 10 sh -c "'$BERTH' logs --no-log-prefix ep-command | grep -qx 'from-entrypoint given'"
check "an empty entrypoint resets it" wait_until 10 sh -c "'$BERTH' logs --no-log-prefix ep-reset | grep -qx 'no-entrypoint'"

check "on-failure:3 restarts three times, then stops" wait_until 20 sh -c \
	"[ \"\$('$BERTH' logs --no-log-prefix flaky | grep -c attempt)\" = 4 ] && '$BERTH' ps -a --status exited | grep -q flaky"
expect "ps shows an exited container with its code" 0 "$proj-flaky-1 .*Exited \(1\)" "$BERTH" ps -a
expect "ps shows running containers as Up" 0 "$proj-probe-1 .*Up " "$BERTH" ps
expect "ps --services" 0 "^probe$" "$BERTH" ps --services

wait_until 5 sh -c "'$BERTH' logs counter | grep -q 'line 5'"
run "$BERTH" logs --no-log-prefix counter
check "logs keep the order lines were written" test "$(printf '%s\n' "$OUT" | tr '\n' ' ')" = "line 1 line 2 line 3 line 4 line 5 "
expect "logs --tail" 0 $'^line 4\nline 5$' "$BERTH" logs --no-log-prefix --tail 2 counter
expect "logs prefix lines as docker compose does: the container name without the project, padded, then \" | \"" 0 "^counter-1  \\| line 1" "$BERTH" logs --no-color counter

start=$(date +%s%N)
expect "down stops and removes everything" 0 "Container $proj-stubborn-1  Removed" "$BERTH" down
took=$((($(date +%s%N) - start) / 1000000))
# the time is the feature here: 0.5 s grace periods (down takes about 0.7 s),
# where the default would be 10 s; the bound is ten times the normal
check "SIGTERM-ignoring containers are killed after their 0.5 s grace (down took ${took} ms)" test "$took" -lt 6000
check_no_leaks "after down"

# Errors: one clear message naming the service; nothing is created.
cat >compose.yaml <<'YAML'
services:
  fine: {image: busybox, command: sleep 300}
  broken: {image: nosuchimage:1, pull_policy: never}
YAML
expect "an unknown image names the service" 1 'service broken: no such image: nosuchimage:1' "$BERTH" up -d
expect_quiet "and nothing was created" 0 "$BERTH" ps -aq
printf 'services:\n  fine: {image: busybox, command: sleep 300}\n  who: {image: busybox, user: nobodyhere}\n' >compose.yaml
expect "an unknown user names the service" 1 'service who: user "nobodyhere" is not in the image' "$BERTH" up -d
expect_quiet "and nothing was created" 0 "$BERTH" ps -aq
printf 'services:\n  nocmd: {image: busybox, command: [notacommand]}\n' >compose.yaml
expect "a missing command names the service and the command" 1 'service nocmd: cannot start .*exec: "notacommand": executable file not found in \$PATH' "$BERTH" up -d
expect "its exit code is Docker's 127" 0 "Exited \(127\)" "$BERTH" ps -a
printf 'services:\n  lone: {image: busybox, command: sleep 300}\n' >compose.yaml
expect "a missing berth-shim says what to install" 1 'the shim of .*-lone-1 did not start \(is berth-shim installed beside berth\?\)' \
	env BERTH_SHIM=/nonexistent/berth-shim "$BERTH" up -d
expect_quiet "and nothing runs" 0 "$BERTH" ps -q
"$BERTH" down >/dev/null 2>&1
printf 'services:\n  big: {image: busybox, mem_limit: lots}\n' >compose.yaml
expect "an invalid memory size names the file and service" 1 'compose.yaml:2:[0-9]+: services.big.mem_limit: "lots" is not a size' "$BERTH" up -d
printf 'services:\n  nocmd: {image: busybox, command: [notacommand]}\n' >compose.yaml
"$BERTH" down >/dev/null
check_no_leaks "after the failed ups"
