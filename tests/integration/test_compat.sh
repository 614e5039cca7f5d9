#!/bin/bash
# Behaving as docker compose behaves: the environment (run/exec -e NAME,
# env files, .env of the project directory, a missing env_file failing
# only what needs it), profiles and service selection (a named service is
# enabled, down SERVICE, unknown names refused).
. "$(dirname "$0")/lib.sh"
export COMPOSE_PROJECT_NAME=berthcompat$$
proj=$COMPOSE_PROJECT_NAME
cleanup_hooks+=("cd '$WORK/app' 2>/dev/null && '$BERTH' down -v -t 0 >/dev/null 2>&1")
cleanup_hooks+=("cd '$WORK/miss' 2>/dev/null && '$BERTH' down -t 0 >/dev/null 2>&1")
load_busybox -t busybox:latest || not_ok "the busybox image loads"
mkdir -p "$WORK/app" && cd "$WORK/app" || exit 1

# ---- the environment ----
cat >app.env <<'ENV'
# a comment line
A=1
B=${A:-unset}
C=${NOPE:-fallback}
D=value # a comment after a value
E="quoted # not a comment"
G=with#hash
EMPTY=
BARE
ENV
cat >compose.yaml <<'YAML'
services:
  web:
    image: busybox
    init: true
    command: sleep 300
    env_file: [app.env]
    environment:
      FROM_SHELL:
      NOT_IN_SHELL:
      OVER: service
  tools:
    image: busybox
    profiles: [debug]
    init: true
    command: sleep 300
YAML
printf 'OVER=dotenv\n' >.env
export FROM_SHELL=shell-value
unset NOT_IN_SHELL BARE
expect "up with an env_file and bare environment keys" 0 Started "$BERTH" up -d web
run "$BERTH" exec -T web env
check "an env file's \${VAR:-default} takes the file's own earlier value" grep -qx 'B=1' "$WORK/out"
check "... and the default when the variable is set nowhere" grep -qx 'C=fallback' "$WORK/out"
check "a comment after a value is not part of it" grep -qx 'D=value' "$WORK/out"
check "a # in quotes, or inside a word, is part of the value" sh -c "grep -qx 'E=quoted # not a comment' '$WORK/out' && grep -qx 'G=with#hash' '$WORK/out'"
check "VAR= is set and empty" grep -qx 'EMPTY=' "$WORK/out"
check "a bare VAR set nowhere is not set at all" sh -c "! grep -q '^BARE' '$WORK/out'"
check "a bare environment key takes berth's own environment" grep -qx 'FROM_SHELL=shell-value' "$WORK/out"
check "... and is left unset when berth has none" sh -c "! grep -q '^NOT_IN_SHELL' '$WORK/out'"
check "environment wins over .env for the container (.env only interpolates)" grep -qx 'OVER=service' "$WORK/out"
export RUNVAR=from-berth
unset ABSENTVAR
expect "run -e NAME takes NAME from berth's environment" 0 '^RUNVAR=from-berth$' "$BERTH" run --rm -e RUNVAR web sh -c 'env | grep ^RUNVAR'
expect "run -e NAME that berth does not have leaves it unset" 0 '^unset$' "$BERTH" run --rm -e ABSENTVAR web sh -c 'echo ${ABSENTVAR-unset}'
expect "exec -e NAME takes NAME from berth's environment" 0 '^from-berth$' "$BERTH" exec -T -e RUNVAR web sh -c 'echo $RUNVAR'
expect "exec -e NAME that berth does not have leaves it unset" 0 '^unset$' "$BERTH" exec -T -e ABSENTVAR web sh -c 'echo ${ABSENTVAR-unset}'
expect "exec -e KEY=VALUE replaces the container's own KEY" 0 '^exec-value$' "$BERTH" exec -T -e OVER=exec-value web sh -c 'echo $OVER'

# ---- profiles and naming services ----
expect "a service of an inactive profile is not started by up" 0 "^$proj-web-1\$" "$BERTH" ps --format '{{.Name}}'
expect "naming it enables it: up" 0 Started "$BERTH" up -d tools
expect "... stop" 0 "Container $proj-tools-1  Stopped" "$BERTH" stop tools
expect "... start" 0 "Container $proj-tools-1  Started" "$BERTH" start tools
expect "... logs" 0 '' "$BERTH" logs tools
expect "ps of an unknown service fails naming it" 1 'no such service: nosuch' "$BERTH" ps nosuch
expect "logs of an unknown service fails naming it" 1 'no such service: nosuch' "$BERTH" logs nosuch
expect "events of an unknown service fails naming it" 1 'no such service: nosuch' timeout 10 "$BERTH" events nosuch
expect "down SERVICE removes that service's containers" 0 "Container $proj-tools-1  Removed" "$BERTH" down -t 0 tools
check "... and only those" test "$("$BERTH" ps -a --format '{{.Name}}')" = "$proj-web-1"
check "... keeping the network the others use" grep -q "Network ${proj}_default  Resource is still in use" "$WORK/err"
expect "down of an unknown service fails naming it" 1 'no such service: nosuch' "$BERTH" down nosuch
printf 'services:\n  a:\n    image: busybox\n    profiles: [x]\n    depends_on: [b]\n  b:\n    image: busybox\n    profiles: [x]\n    depends_on: [a]\n  c:\n    image: busybox\n' >cycle.yaml
expect "a dependency cycle among services of an inactive profile is no error" 0 '^c$' "$BERTH" -f cycle.yaml config --services
expect "... and is one once the profile is active" 1 'dependency cycle' "$BERTH" -f cycle.yaml --profile x config --services
printf 'services:\n  d:\n    image: busybox\n    networks: [default]\n' >defnet.yaml
expect "networks: [default] without a top-level default is the project's default network" 0 "name: ${proj}_default" "$BERTH" -f defnet.yaml config

# ---- start, restart, up --no-deps, include, a network that diverged ----
mkdir -p "$WORK/sel/sub" && cd "$WORK/sel" || exit 1
sp=${proj}s
cleanup_hooks+=("cd '$WORK/sel' 2>/dev/null && '$BERTH' -p $sp -p $sp down -t 0 >/dev/null 2>&1")
cat >compose.yaml <<'YAML'
include:
  - sub/compose.yaml
services:
  db:
    image: busybox
    init: true
    command: sleep 300
  app:
    image: busybox
    init: true
    command: sleep 300
    depends_on:
      db: {condition: service_started, restart: true}
  files:
    image: busybox
    command: sleep 300
    volumes_from: [db]
  joined:
    image: busybox
    command: sleep 300
    network_mode: "service:db"
networks:
  default:
    ipam:
      config: [{subnet: 10.216.1.0/24}]
YAML
cat >sub/compose.yaml <<'YAML'
services:
  inc:
    image: busybox
    init: true
    command: sleep 300
    secrets: [s1]
    configs: [c1]
secrets:
  s1:
    file: ./s1.txt
configs:
  c1:
    content: config-of-the-included-file
YAML
echo secret-of-the-included-file >sub/s1.txt
expect "up --no-deps of a service whose volumes_from has no container fails naming it" 1 \
	"service files: volumes_from db: there is no container $sp-db-1 to take volumes from" "$BERTH" -p $sp up -d --no-deps files
expect "... and one whose network_mode service: has none" 1 \
	"service joined: network_mode service:db: there is no container $sp-db-1 to share a network with" "$BERTH" -p $sp up -d --no-deps joined
check "... and neither left a container" test -z "$("$BERTH" -p $sp ps -aq)"
expect "secrets and configs of an included file serve its services" 0 '^secret-of-the-included-file config-of-the-included-file$' \
	sh -c "'$BERTH' -p $sp up -d inc >/dev/null 2>&1 && '$BERTH' -p $sp exec -T inc sh -c 'echo \$(cat /run/secrets/s1 /c1)'"
"$BERTH" -p $sp up -d app db >/dev/null 2>&1
"$BERTH" -p $sp stop -t 0 app db >/dev/null 2>&1
expect "start SERVICE starts what it depends on first" 0 "Container $sp-db-1  Started" "$BERTH" -p $sp start app
check "... then it" sh -c "grep -n 'Started' '$WORK/err' | tr '\n' ' ' | grep -q '$sp-db-1.*$sp-app-1'"
expect "restart says Restarting" 0 "^ Container $sp-db-1  Restarting\$" "$BERTH" -p $sp restart -t 0 db
check "... and restarts the dependents marked restart: true" grep -q "Container $sp-app-1  Restarting" "$WORK/err"
check "... which say Started" grep -q "Container $sp-app-1  Started" "$WORK/err"
sed -i 's#10.216.1.0/24#10.216.2.0/24#' compose.yaml
expect "a network whose ipam changed is not silently kept" 1 "network ${sp}_default diverged from the compose file \\(subnet 10.216.1.0/24, the file says 10.216.2.0/24\\); berth up -y" "$BERTH" -p $sp up -d app db
expect "up -y of some services, when another's container is on it, touches nothing" 1 "${sp}-inc-1, which this up does not recreate, is on it" "$BERTH" -p $sp up -d -y app db
check "... all still running" test "$("$BERTH" -p $sp ps -q | wc -l)" -eq 3
expect "up -y makes it again and recreates its containers" 0 "Network ${sp}_default  Recreate" "$BERTH" -p $sp up -d -y
expect "... on the new subnet" 0 'inet 10\.216\.2\.' "$BERTH" -p $sp exec -T app ip -o -4 addr show eth0
expect "... still reaching each other by name" 0 '1 packets received' "$BERTH" -p $sp exec -T app ping -c 1 -W 2 db
"$BERTH" -p $sp down -t 0 >/dev/null 2>&1

# ---- .env: the project directory's, naming files, name and profiles ----
mkdir -p "$WORK/dot/proj" "$WORK/dot/wd"
printf 'services:\n  a:\n    image: busybox\n    environment: ["X=${X}"]\n    profiles: [p1]\n  b:\n    image: busybox\n' >"$WORK/dot/proj/compose.yaml"
printf 'X=from-project-dir\nCOMPOSE_PROFILES=p1\n' >"$WORK/dot/proj/.env"
printf 'X=from-working-dir\n' >"$WORK/dot/wd/.env"
expect "the project directory's .env is read, not the working directory's" 0 'X: from-project-dir' \
	sh -c "cd '$WORK/dot/wd' && env -u COMPOSE_PROJECT_NAME '$BERTH' -f ../proj/compose.yaml config"
expect "COMPOSE_PROFILES in .env enables profiles" 0 '^a$' sh -c "cd '$WORK/dot/proj' && env -u COMPOSE_PROJECT_NAME '$BERTH' config --services"
printf 'services:\n  o:\n    image: busybox\n' >"$WORK/dot/proj/other.yaml"
printf 'COMPOSE_FILE=other.yaml\nCOMPOSE_PROJECT_NAME=fromdotenv\n' >"$WORK/dot/proj/.env"
expect "COMPOSE_FILE and COMPOSE_PROJECT_NAME in .env choose the files and the name" 0 '^name: fromdotenv$' \
	sh -c "cd '$WORK/dot/proj' && env -u COMPOSE_PROJECT_NAME '$BERTH' config"

# ---- a missing env_file fails only what needs that service ----
mkdir -p "$WORK/miss" && cd "$WORK/miss" || exit 1
printf 'services:\n  a:\n    image: busybox\n    command: sleep 300\n    init: true\n  b:\n    image: busybox\n    env_file: missing.env\n' >compose.yaml
expect "up of a service that does not need the missing env_file works" 0 Started "$BERTH" up -d a
expect "ps works" 0 "$proj-a-1" "$BERTH" ps
expect "logs works" 0 '' "$BERTH" logs
expect "config --hash of that service works" 0 '^a [0-9a-f]{64}$' "$BERTH" config --hash a
expect "config --hash of the other fails, naming the file" 1 'env file .*/missing.env not found' "$BERTH" config --hash b
expect "up of the other fails likewise" 1 'compose.yaml:8:.*env file .*/missing.env not found' "$BERTH" up -d b
expect "config --no-env-resolution prints env_file unread" 0 'path: .*/missing.env' "$BERTH" config --no-env-resolution
expect "down works" 0 "Container $proj-a-1  Removed" "$BERTH" down -t 0
(cd "$WORK/app" && "$BERTH" down -v -t 0 >/dev/null 2>&1)
check_no_leaks "after the compat project"
