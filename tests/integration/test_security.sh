#!/bin/bash
# security_opt profiles, privileged, stop_signal, users by number and
# group, domainname, an image loaded from an OCI archive, ps as JSON,
# logs -f.
. "$(dirname "$0")/lib.sh"
export COMPOSE_PROJECT_NAME=berthsec$$
proj=$COMPOSE_PROJECT_NAME
cleanup_hooks+=("cd '$WORK/app' 2>/dev/null && '$BERTH' down -t 1 >/dev/null 2>&1")
load_busybox -t busybox:latest || not_ok "the busybox image loads"
if command -v skopeo >/dev/null; then
	skopeo copy -q "docker-archive:$WORK/busybox.tar" "oci-archive:$WORK/oci.tar:ocibox:1"
	"$BERTH" image load -i "$WORK/oci.tar" >/dev/null
fi
mkdir -p "$WORK/app" && cd "$WORK/app"
cat >nomkdir.json <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
JSON
# Docker-format profiles with argument filters and capability excludes:
# chmod to 0700 refused, to others allowed; mkdir refused unless the
# container holds CAP_CHOWN.
cat >args.json <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 448, "op": "SCMP_CMP_EQ"}]},
              {"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 2, "value": 448, "op": "SCMP_CMP_EQ"}]}]}
JSON
cat >excl.json <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "excludes": {"caps": ["CAP_CHOWN"]}}]}
JSON
printf '{"defaultAction": "SCMP_ACT_NOTIFY"}\n' >notify.json
cat >compose.yaml <<'YAML'
services:
  args:
    image: busybox
    security_opt: ["seccomp=./args.json"]
    command: sh -c 'touch /tmp/a; chmod 700 /tmp/a 2>&1 || echo "0700 refused"; chmod 755 /tmp/a && echo "0755 made"'
  excl:
    image: busybox
    security_opt: ["seccomp=./excl.json"]
    command: sh -c 'mkdir /tmp/a && echo "made with CAP_CHOWN"'
  exclnocap:
    image: busybox
    cap_drop: [CHOWN]
    security_opt: ["seccomp=./excl.json"]
    command: sh -c 'mkdir /tmp/a 2>&1 || echo "refused without CAP_CHOWN"'
  profiled:
    image: busybox
    security_opt: ["seccomp=./nomkdir.json"]
    command: sh -c 'mkdir /tmp/x 2>&1 || echo "mkdir refused"; grep Seccomp /proc/self/status'
  priv:
    image: busybox
    privileged: true
    command: sh -c 'grep -E "^(CapEff|Seccomp)" /proc/self/status; touch /sys/berth 2>&1 | grep -q Read-only && echo "sys ro" || echo "sys rw"'
  usr:
    image: busybox
    user: "1000:10"
    domainname: example.test
    command: sh -c 'echo "ids $$(id -u):$$(id -g) domain $$(cat /proc/sys/kernel/domainname)"'
  grp:
    image: busybox
    user: app:users
    command: sh -c 'echo "ids $$(id -u):$$(id -g)"'
  polite:
    image: busybox
    stop_signal: SIGUSR1
    stop_grace_period: 20s
    command: sh -c 'trap "echo got usr1; exit 0" USR1; echo waiting; while true; do sleep 0.1; done'
  oci:
    image: ocibox:1
    command: echo from an OCI image
YAML
expect "up -d" 0 Started "$BERTH" up -d
expect_log "a Docker-format seccomp profile is applied" profiled 'mkdir refused'
expect_log "its argument filters are honoured: chmod 0700 refused" args '0700 refused'
expect_log "and chmod 0755 allowed" args '0755 made'
expect_log "a rule excluded for a capability the container holds does not apply" excl 'made with CAP_CHOWN'
expect_log "and applies, with its errnoRet (13, EACCES, not the default EPERM), without it" exclnocap \
	"create directory '/tmp/a': Permission denied"
printf 'services:\n  n:\n    image: busybox\n    security_opt: ["seccomp=./notify.json"]\n' >notify.yaml
expect "a profile with an action berth cannot carry out is refused" 1 'service n: seccomp profile .*notify.json: defaultAction SCMP_ACT_NOTIFY is not supported' \
	"$BERTH" -f notify.yaml -p notify$$ up -d
expect_quiet "before anything was made for it" 1 sh -c "'$BERTH' network ls | grep notify$$"
host_caps=$(awk '/^CapBnd/ {print $2}' /proc/self/status)
expect_log "privileged: every capability the host has" priv "CapEff:.*$host_caps"
expect_log "privileged: no seccomp filter" priv 'Seccomp:.0'
expect_log "privileged: /sys is writable" priv 'sys rw'
expect_log "user uid:gid and domainname" usr 'ids 1000:10 domain example.test'
expect_log "user name:group resolves both" grp 'ids 1000:100'
if command -v skopeo >/dev/null; then
	expect_log "an image loaded from an OCI archive runs" oci 'from an OCI image'
fi
expect "ps --format json" 0 "\"Name\":\"$proj-polite-1\".*\"State\":\"running\"" "$BERTH" ps --format json
"$BERTH" logs -f --no-log-prefix polite >"$WORK/follow" 2>&1 &
follower=$!
expect "stop_signal is what stop sends" 0 "$proj-polite-1  Stopped" "$BERTH" stop polite
expect "so the container ended by its own trap (exit 0), not killed after its 20s grace (137)" 0 \
	"$proj-polite-1 .*Exited \(0\)" "$BERTH" ps -a polite
check "logs -f ends when the container does" wait_until 5 sh -c "! kill -0 $follower 2>/dev/null"
check "and followed the output to the end" grep -q 'got usr1' "$WORK/follow"
# the default program is compiled once and kept in the state root
check "the default seccomp program is cached in the state root" sh -c "ls '$BERTH_ROOT'/seccomp/default-*.bpf >/dev/null"
expect "a container made from the cache runs under the filter" 0 'Seccomp:.2' \
	"$BERTH" run --rm usr grep Seccomp /proc/self/status
for f in "$BERTH_ROOT"/seccomp/default-*.bpf; do printf 'bad' >"$f"; done
expect "a damaged cache is not used: the container still gets the filter" 0 'Seccomp:.2' \
	"$BERTH" run --rm usr grep Seccomp /proc/self/status
check "and the cache is made anew" sh -c "for f in '$BERTH_ROOT'/seccomp/default-*.bpf; do [ \$((\$(stat -c %s \"\$f\") % 8)) = 0 ] && [ \$(stat -c %s \"\$f\") -gt 8 ] || exit 1; done"
# An image's USER is looked up in the image's own /etc files, never in
# the host's: an attacker's image whose /etc/passwd (or /etc) is a symlink
# to a host path, or a FIFO that would hang berth.
mkdir -p "$WORK/hostetc" "$WORK/u1/etc" "$WORK/u2" "$WORK/u3/etc" "$WORK/u4/etc" "$WORK/u4/usr/share"
printf 'evil:x:4242:4242::/:/bin/sh\n' >"$WORK/hostetc/passwd"
ln -s "$WORK/hostetc/passwd" "$WORK/u1/etc/passwd"
ln -s "$WORK/hostetc" "$WORK/u2/etc"
mkfifo "$WORK/u3/etc/passwd"
printf 'inside:x:1234:1234::/:/bin/sh\n' >"$WORK/u4/usr/share/passwd"
ln -s ../usr/share/passwd "$WORK/u4/etc/passwd"
for i in 1 2 3 4; do
	tar -C "$WORK/u$i" -cf "$WORK/u$i.tar" .
	"$REPO/examples/images/build-image.sh" -t "users:$i" --top-layer "$WORK/u$i.tar" "$WORK/users$i.tar" >/dev/null &&
		"$BERTH" image load -i "$WORK/users$i.tar" >/dev/null
done
printf 'services:\n  u1: {image: "users:1", user: evil, command: id -u}\n  u2: {image: "users:2", user: evil, command: id -u}\n  u3: {image: "users:3", user: app, command: id -u}\n  u4: {image: "users:4", user: inside, command: id -u}\n' >users.yaml
expect "an image's /etc/passwd that links to a host file is not read through" 1 'user "evil" is not in the image' \
	"$BERTH" -f users.yaml run --rm -T u1
expect "nor one whose /etc links to a host directory" 1 'user "evil" is not in the image' \
	"$BERTH" -f users.yaml run --rm -T u2
expect "an /etc/passwd that is a FIFO is refused at once, not waited on" 1 'passwd is not a regular file' \
	timeout 20 "$BERTH" -f users.yaml run --rm -T u3
expect "a symlink inside the image resolves in it" 0 '^1234$' "$BERTH" -f users.yaml run --rm -T u4
printf 'FROM users:1\nUSER evil\nRUN id -u\n' >"$WORK/u1/Dockerfile"
expect "... in a build's USER too" 1 'user "evil" is not in the image' "$BERTH" image build "$WORK/u1"
"$BERTH" -f users.yaml down -t 0 >/dev/null 2>&1
expect "down" 0 Removed "$BERTH" down -t 1
check_no_leaks "after down"
