#!/bin/bash
# Every compose key honoured, refused or said to have no effect — never
# silently ignored (docs/compose-keys.md, orchestrator/keys.c): up refuses
# what berth cannot do, naming the file, the line and why, and makes
# nothing; config says it and goes on; a key meaningless here is warned
# about once.
. "$(dirname "$0")/lib.sh"
export COMPOSE_PROJECT_NAME=berthkeys$$
cleanup_hooks+=("cd '$WORK' && '$BERTH' down -t 0 >/dev/null 2>&1")
load_busybox || not_ok "the busybox image loads"
cd "$WORK" || exit 1

refused() { # KEY-YAML MESSAGE [TOP-LEVEL-YAML]: a service with it is refused by up, run and named by config
	printf 'services:\n  s:\n    image: busybox\n    command: sleep 100\n%s\n%s\n' "$1" "${3:-}" >compose.yaml
	expect "up refuses $2" 1 "compose.yaml:[45]:[0-9]+: services.s.$2" "$BERTH" up -d
	check "(and made nothing for it)" sh -c "[ -z \"\$(ls -A '$BERTH_ROOT/containers' 2>/dev/null)\" ]"
	expect "run refuses $2 too" 1 "services.s.$2" "$BERTH" run --rm s true
	expect "config says up would refuse $2, and prints the model" 0 "up refuses it" "$BERTH" config
	check "(the model on stdout)" grep -q '^services:' "$WORK/out"
}
refused '    gpus: all' 'gpus is not supported by berth: berth has no GPU support'
refused '    cpu_count: 2' 'cpu_count is not supported by berth: it is for Windows containers'
refused '    userns_mode: keep-id' 'userns_mode "keep-id" is not supported by berth: host only'
refused '    runtime: io.containerd.wasmedge.v1' 'runtime "io.containerd.wasmedge.v1" is not supported by berth'
refused '    platform: wasi/wasm' 'platform "wasi/wasm" is not supported by berth'
refused '    logging: {driver: syslog}' 'logging.driver "syslog" is not supported by berth'
printf 'services:\n  s:\n    image: busybox\n    ipc: "container:nosuch"\n' >compose.yaml
expect "ipc of a container that does not exist is refused" 1 'compose.yaml:4:[0-9]+: service s: ipc: no such container: nosuch' "$BERTH" up -d
check "(and made nothing for it)" sh -c "[ -z \"\$(ls -A '$BERTH_ROOT/containers' 2>/dev/null)\" ]"
refused '    ipc: "other"' 'ipc "other" is not supported by berth: host, private, shareable'
refused '    pid: "other"' 'pid "other" is not supported by berth'
refused '    use_api_socket: true' 'use_api_socket is not supported by berth: there is no Docker API socket'
refused '    deploy: {resources: {reservations: {devices: [{capabilities: [gpu]}]}}}' \
	'deploy.resources.reservations.devices is not supported by berth: berth has no GPU'

# cgroup: host, userns_mode: host; logging options checked per driver
printf 'services:\n  s:\n    image: busybox\n    command: sh -c "cat /proc/self/cgroup; sleep 100"\n    cgroup: host\n    userns_mode: host\n' >compose.yaml
"$BERTH" up -d >/dev/null 2>&1
wait_until 5 sh -c "'$BERTH' logs s | grep -q berth"
expect "cgroup: host: the host's cgroup namespace (its own cgroup's full path)" 0 ":/berth/$COMPOSE_PROJECT_NAME-s-1\$" "$BERTH" logs --no-log-prefix s
"$BERTH" down -t 0 >/dev/null 2>&1
printf 'services:\n  s:\n    image: busybox\n    command: sh -c "cat /proc/self/cgroup; sleep 100"\n' >compose.yaml
"$BERTH" up -d >/dev/null 2>&1
wait_until 5 sh -c "'$BERTH' logs s | grep -q ':/'"
expect "(its cgroup lines are in the log)" 0 '^[0-9]+:[^:]*:/' "$BERTH" logs --no-log-prefix s
none_match "... while by default it has its own (no path of berth's)" berth "$BERTH" logs --no-log-prefix s
"$BERTH" down -t 0 >/dev/null 2>&1
printf 'services:\n  s:\n    image: busybox\n    logging: {driver: json-file, options: {syslog-address: "udp://x"}}\n' >compose.yaml
expect "a logging option the driver does not take is refused" 1 'logging option syslog-address is not one the json-file driver takes' "$BERTH" up -d
printf 'services:\n  s:\n    image: busybox\n    logging: {driver: none, options: {max-size: 1m}}\n' >compose.yaml
expect "the none driver takes no options" 1 'none takes no options' "$BERTH" up -d
printf 'services:\n  s:\n    image: busybox\n    command: sleep 100\n    logging: {options: {compress: "true", max-size: 1m}}\n' >compose.yaml
expect "an option with no effect here is said, and up goes on" 0 'logging option compress has no effect here' "$BERTH" up -d
"$BERTH" down -t 0 >/dev/null 2>&1

printf 'services:\n  s:\n    image: busybox\n    command: sleep 100\n    secrets: [k]\nsecrets:\n  k: {external: true}\n' >compose.yaml
expect "an external secret is refused, naming it" 1 'secrets.k.external "true" is not supported by berth' "$BERTH" up -d

# keys meaningless here: warned about once each, and up goes on
cat >compose.yaml <<'YAML'
services:
  a:
    image: busybox
    command: sleep 100
    isolation: default
    deploy: {placement: {constraints: ["node.role==manager"]}}
  b:
    image: busybox
    command: sleep 100
    isolation: default
    ports: [{target: 80, host_ip: 127.0.0.1, name: web, app_protocol: http}]
    environment: {gpus: "a variable, not a key", runtime: x}
    x-anything: {gpus: all}
YAML
expect "up goes on past keys with no effect here" 0 'Container berthkeys[0-9]+-a-1 +Started' "$BERTH" up -d
check "each is said, with its file and line" sh -c "grep -q 'compose.yaml:5: services.a.isolation has no effect: it is for Windows containers' '$WORK/err' &&
	grep -q 'compose.yaml:6: services.a.deploy.placement has no effect' '$WORK/err' &&
	grep -q 'services.b.ports\[0\].name has no effect' '$WORK/err'"
check "once per key, not per service" test "$(grep -c 'isolation has no effect' "$WORK/err")" = 1
check "environment variables and x- extensions are not keys" sh -c "! grep -Eq 'gpus|runtime|x-anything' '$WORK/err'"
expect "config says the same" 0 'isolation has no effect' "$BERTH" config -q
"$BERTH" down -t 0 >/dev/null 2>&1

# labels, label_file and annotations are the container's, with docker compose's own labels
printf 'from.file=yes\nshared=from-file\n' >labels.env
cat >compose.yaml <<'YAML'
services:
  db:
    image: busybox
    command: sleep 100
  web:
    image: busybox
    command: sleep 100
    depends_on: [db]
    label_file: ./labels.env
    labels: {shared: from-labels, org.example.tier: front}
    annotations: {org.example.note: kept}
YAML
expect "up with labels" 0 'Started' "$BERTH" up -d
run "$BERTH" inspect "${COMPOSE_PROJECT_NAME}-web-1"
for want in '"from.file": "yes"' '"shared": "from-labels"' '"org.example.tier": "front"' \
	"\"com.docker.compose.project\": \"$COMPOSE_PROJECT_NAME\"" '"com.docker.compose.service": "web"' \
	'"com.docker.compose.container-number": "1"' '"com.docker.compose.oneoff": "False"' \
	'"com.docker.compose.depends_on": "db:service_started:false"' '"org.example.note": "kept"'; do
	check "inspect shows $want" grep -qF "$want" "$WORK/out"
done
"$BERTH" down -t 0 >/dev/null 2>&1

# attach: false keeps a service's logs out of an attached up
printf 'services:\n  shown: {image: busybox, command: sh -c "sleep 1; echo from-shown"}\n  hidden: {image: busybox, attach: false, command: sh -c "sleep 1; echo from-hidden"}\n' >compose.yaml
expect "attached up shows the services that attach" 0 'from-shown' timeout 60 "$BERTH" up
check "... and not one with attach: false" sh -c "! grep -q from-hidden '$WORK/out' '$WORK/err'"
expect "--attach names it back" 0 'from-hidden' timeout 60 "$BERTH" up --force-recreate --attach hidden
"$BERTH" down -t 0 >/dev/null 2>&1

# keys that were taken and ignored, now honoured
cat >compose.yaml <<'YAML'
services:
  k:
    image: busybox
    command: sleep 100
    uts: host
    group_add: [wheel, "100", nogroup]
    extra_hosts: ["host.docker.internal:host-gateway", "plain:10.9.8.7"]
    oom_score_adj: 500
  quiet:
    image: busybox
    command: sh -c 'echo said; sleep 100'
    logging: {driver: none}
YAML
expect "up with uts, group_add by name and host-gateway" 0 'Started' "$BERTH" up -d
expect "uts: host gives the host's name" 0 "^$(hostname)\$" "$BERTH" exec k hostname
before=$(hostname)
expect "... which the container cannot change (no CAP_SYS_ADMIN)" 1 'hostname: sethostname: Operation not permitted' \
	"$BERTH" exec k hostname evil-name
check "(the host's name is as it was)" test "$(hostname)" = "$before"
expect "group_add resolves names in the image's /etc/group" 0 '^0 10 100 65534$|groups=0\(root\),10\(wheel\),100\(users\),65534\(nogroup\)' \
	"$BERTH" exec k sh -c 'id -G | tr " " "\n" | sort -n | tr "\n" " " | sed "s/ $//"'
gw=$("$BERTH" exec k sh -c "ip route | awk '/default/ {print \$3}'")
expect "host-gateway is the network's gateway, the host on the bridge" 0 "^$gw\s+host.docker.internal$" \
	"$BERTH" exec k grep host.docker.internal /etc/hosts
expect "... and other extra_hosts stay as written" 0 '^10.9.8.7\s+plain$' "$BERTH" exec k grep plain /etc/hosts
expect "oom_score_adj is the container's" 0 '^500$' "$BERTH" exec k cat /proc/1/oom_score_adj
expect "logging driver none: logs says no logs are kept" 0 'quiet-1: its logging driver is none; no logs are kept' "$BERTH" logs quiet
check "... prints none of its output" sh -c "! grep -q said '$WORK/out'"
check "... and no log file is written" sh -c "! ls '$BERTH_ROOT'/containers/*quiet-1/*json.log 2>/dev/null | grep -q ."
"$BERTH" down -t 0 >/dev/null 2>&1
printf 'services:\n  k:\n    image: busybox\n    uts: host\n    hostname: mine\n' >compose.yaml
expect "uts: host with a hostname is refused, as Docker refuses it" 1 'uts: host takes the host.s name' "$BERTH" up -d
printf 'services:\n  k:\n    image: busybox\n    label_file: ./nothere.env\n' >compose.yaml
expect "a label_file that is not there is named" 1 'service k: label_file: .*nothere.env' "$BERTH" up -d
check "(and nothing is left of the container)" sh -c "[ -z \"\$(ls -A '$BERTH_ROOT/containers' 2>/dev/null)\" ]"
printf 'services:\n  k:\n    image: busybox\n    oom_score_adj: 5000\n' >compose.yaml
expect "an oom_score_adj out of range is named, with its line" 1 'compose.yaml:4:[0-9]+: services.k.oom_score_adj: 5000 is above the maximum of 1000' "$BERTH" up -d
printf 'services:\n  k:\n    image: busybox\n    group_add: [nosuchgroup]\n' >compose.yaml
expect "a group name the image lacks is named" 1 'group_add: group "nosuchgroup" is not in the image' "$BERTH" up -d
"$BERTH" down -t 0 >/dev/null 2>&1
check_no_leaks "after the keys"
