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

printf 'services:\n  e:\n    image: busybox\n    environment: ["V=${V:-unset}"]\n' >envf.yaml
printf 'V=from-dotenv\n' >.env
printf 'V=from-a\n' >a.env
printf 'V=from-b\n' >b.env
: >empty.env
expect ".env is read by default" 0 'V: from-dotenv' "$BERTH" -f envf.yaml config
expect "--env-file replaces .env" 0 'V: from-a' "$BERTH" -f envf.yaml --env-file a.env config
expect "... the last of several wins" 0 'V: from-b' "$BERTH" -f envf.yaml --env-file a.env --env-file b.env config
expect "COMPOSE_ENV_FILES names them when --env-file is not given" 0 'V: from-b' env COMPOSE_ENV_FILES=a.env,b.env "$BERTH" -f envf.yaml config
expect "... the process environment wins over them all" 0 'V: from-shell' env V=from-shell "$BERTH" -f envf.yaml --env-file a.env config
mkdir -p imgenv && printf 'FROM busybox\nENV IMGVAR=from-image\n' >imgenv/Dockerfile
printf 'services:\n  i:\n    build: ./imgenv\n    environment: [IMGVAR]\n' >imgenv.yaml
cleanup_hooks+=("cd '$WORK/app' && '$BERTH' -p ${proj}i -f imgenv.yaml down -t 0 >/dev/null 2>&1")
expect "an empty --env-file leaves a bare variable unset, so the image's own ENV stays" 0 '^from-image$' \
	env -u IMGVAR "$BERTH" -p ${proj}i -f imgenv.yaml --env-file empty.env run --rm i sh -c 'echo $IMGVAR'
"$BERTH" -p ${proj}i -f imgenv.yaml down -t 0 >/dev/null 2>&1
printf 'OVER=dotenv\n' >.env

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
expect_quiet "... and neither left a container" 0 "$BERTH" -p $sp ps -aq
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

# ---- one-offs, orphans, container_name, attached up and logs ----
mkdir -p "$WORK/one" && cd "$WORK/one" || exit 1
op=${proj}o
cleanup_hooks+=("cd '$WORK/one' 2>/dev/null && '$BERTH' -p $op down --remove-orphans -t 0 >/dev/null 2>&1")
cleanup_hooks+=("cd '$WORK/one' 2>/dev/null && '$BERTH' -p ${op}2 -f named.yaml down -t 0 >/dev/null 2>&1")
cat >compose.yaml <<'YAML'
services:
  web:
    image: busybox
    init: true
    command: sh -c 'echo to-stdout; echo to-stderr >&2; exec sleep 300'
  old:
    image: busybox
    init: true
    command: sleep 300
YAML
"$BERTH" -p $op up -d >/dev/null 2>&1
expect "run -d keeps its container running after run returns" 0 "$op-web-run-" "$BERTH" -p $op run -d web sleep 300
check "... it is up" sh -c "'$BERTH' -p $op ps -a | grep -- '-web-run-' | grep -q Up"
rid=$("$BERTH" -p $op run -d --rm web sh -c 'sleep 1' 2>/dev/null)
check "run -d --rm: the container is removed once it stops by itself" wait_until 15 sh -c "! '$BERTH' -p $op ps -a | grep -q -- '$rid'"
"$BERTH" -p $op run -d old sleep 300 >/dev/null 2>&1
printf 'services:\n  web:\n    image: busybox\n    init: true\n    command: sh -c "echo to-stdout; echo to-stderr >&2; exec sleep 300"\n' >compose.yaml
expect "up warns of orphan containers, naming them" 0 "found orphan containers \\($op-old-1[,)]" "$BERTH" -p $op up -d
expect "... and run does too" 0 "found orphan containers \\($op-old-1[,)]" "$BERTH" -p $op run --rm web true
run env COMPOSE_IGNORE_ORPHANS=true "$BERTH" -p $op up -d
check "COMPOSE_IGNORE_ORPHANS silences it" sh -c "! grep -q orphan '$WORK/err'"
printf 'COMPOSE_REMOVE_ORPHANS=true\n' >.env
expect "COMPOSE_REMOVE_ORPHANS from .env removes them" 0 "Container $op-old-1  Removed" "$BERTH" -p $op up -d
rm .env
check "... and the one-offs of a service the file no longer has" sh -c "! '$BERTH' -p $op ps -a | grep -q -- '-old-run-'"
check "... one-offs of the service still there" sh -c "'$BERTH' -p $op ps -a | grep -q -- '-web-run-'"
"$BERTH" -p $op stop web >/dev/null 2>&1
check "stop SERVICE leaves its one-off containers running" sh -c "'$BERTH' -p $op ps | grep -- '-web-run-' | grep -q Up"
expect "exec --index never picks a one-off" 1 'has no container number 2' "$BERTH" -p $op exec -T --index 2 web true
"$BERTH" -p $op start web >/dev/null 2>&1
expect "logs prefix as docker compose: name without the project, padded, ' | '" 0 '^web-1  \| to-stdout$' sh -c "'$BERTH' -p $op logs --no-color web 2>/dev/null"
expect "a container's stderr goes to stderr" 0 '^web-1  \| to-stderr$' sh -c "'$BERTH' -p $op logs --no-color web 2>&1 >/dev/null"
"$BERTH" -p $op logs -f --no-color >"$WORK/follow" 2>&1 &
fpid=$!
check "(logs -f follows: web-1's line is there)" wait_until 10 grep -q '^web-1  | to-stdout' "$WORK/follow"
"$BERTH" -p $op up -d --scale web=2 >/dev/null 2>&1
check "logs -f picks up a container that started after it began" wait_until 10 grep -q '^web-2  | to-stdout' "$WORK/follow"
kill $fpid 2>/dev/null; wait $fpid 2>/dev/null
printf 'services:\n  long:\n    image: busybox\n    init: true\n    command: sh -c "head -c 100000 /dev/zero | tr \\"\\\\\\\\0\\" x; echo; exec sleep 300"\n' >long.yaml
cleanup_hooks+=("cd '$WORK/one' 2>/dev/null && '$BERTH' -p ${op}l -f long.yaml down -t 0 >/dev/null 2>&1")
"$BERTH" -p ${op}l -f long.yaml up -d >/dev/null 2>&1
check "a line longer than 64 KiB comes out of logs whole" wait_until 10 sh -c "'$BERTH' -p ${op}l -f long.yaml logs --no-log-prefix --no-color | awk 'length(\$0) == 100000' | grep -c '^x*\$' | grep -qx 1"
"$BERTH" -p ${op}l -f long.yaml down -t 0 >/dev/null 2>&1
printf 'services:\n  n:\n    image: busybox\n    container_name: %s-fixed\n    command: sleep 300\n' "$op" >named.yaml
"$BERTH" -p $op -f named.yaml up -d >/dev/null 2>&1
expect "a container_name another project's container has is refused" 1 "container name \"$op-fixed\" is already in use" "$BERTH" -p ${op}2 -f named.yaml up -d
"$BERTH" -p $op -f named.yaml down -t 0 >/dev/null 2>&1
printf 'services:\n  job:\n    image: busybox\n    command: sh -c "echo working; sleep 1; exit 3"\n  side:\n    image: busybox\n    init: true\n    command: sleep 300\n' >attached.yaml
expect "attached up says Attaching to, and who exited with which code" 3 '^job-1 exited with code 3$' "$BERTH" -p ${op}a -f attached.yaml up --menu=false --abort-on-container-exit --exit-code-from job
check "... Attaching to first" grep -q '^Attaching to job-1, side-1$' "$WORK/err"
check "... then the containers stopping, as docker compose shows them" grep -q "Container ${op}a-side-1  Stopped" "$WORK/err"
"$BERTH" -p ${op}a -f attached.yaml down -t 0 >/dev/null 2>&1
expect "up --menu is accepted, with a warning that it has no effect" 0 'menu has no effect' "$BERTH" -p $op up -d --menu
printf 'services:\n  web:\n    image: busybox\n    init: true\n    command: sleep 300\n    expose: ["80", "443"]\n    volumes: [data:/data]\n  br:\n    image: busybox\n    init: true\n    command: sleep 300\n    network_mode: bridge\nvolumes:\n  data: {}\n' >shape.yaml
cleanup_hooks+=("cd '$WORK/one' 2>/dev/null && '$BERTH' -p ${op}s -f shape.yaml down -v -t 0 >/dev/null 2>&1")
"$BERTH" -p ${op}s -f shape.yaml up -d >/dev/null 2>&1
expect "ps PORTS lists ports that are only exposed" 0 "80/tcp, 443/tcp" "$BERTH" -p ${op}s -f shape.yaml ps web
mkdir -p expctx && printf 'FROM busybox\nEXPOSE 8080 53/udp\n' >expctx/Dockerfile
"$BERTH" image build -q -t ${op}-exp:1 expctx >/dev/null 2>&1
cleanup_hooks+=("cd '$WORK/one' && '$BERTH' -p ${op}e -f exp.yaml down -t 0 >/dev/null 2>&1; '$BERTH' image rm ${op}-exp:1 >/dev/null 2>&1")
printf 'services:\n  exp:\n    image: %s-exp:1\n    init: true\n    command: sleep 300\n    ports: ["127.0.0.1::8080"]\n' "$op" >exp.yaml
"$BERTH" -p ${op}e -f exp.yaml up -d >/dev/null 2>&1
expect "... and those its image EXPOSEs, the published one as published" 0 "127\\.0\\.0\\.1:[0-9]+->8080/tcp, 53/udp" "$BERTH" -p ${op}e -f exp.yaml ps exp
"$BERTH" -p ${op}e -f exp.yaml down -t 0 >/dev/null 2>&1
run sh -c "'$BERTH' -p ${op}s -f shape.yaml exec -T br ip -o -4 addr show eth0"
check "network_mode: bridge puts it on the project's default network" grep -q "inet " "$WORK/out"
run sh -c "'$BERTH' network inspect ${op}s_default"
check "network inspect prints docker's shape" sh -c "jq -e '.[0] | .Name == \"${op}s_default\" and .Driver == \"bridge\" and .Scope == \"local\" and (.IPAM.Config[0].Subnet | length > 0) and .Labels[\"com.docker.compose.project\"] == \"${op}s\" and .Labels[\"com.docker.compose.network\"] == \"default\" and ([.Containers[].Name] | index(\"${op}s-web-1\") != null)' '$WORK/out' >/dev/null"
run sh -c "'$BERTH' volume inspect ${op}s_data"
check "volume inspect prints docker's shape" sh -c "jq -e '.[0] | .Name == \"${op}s_data\" and .Driver == \"local\" and (.Mountpoint | endswith(\"_data\")) and .Labels[\"com.docker.compose.volume\"] == \"data\" and .Labels[\"com.docker.compose.project\"] == \"${op}s\"' '$WORK/out' >/dev/null"
"$BERTH" -p ${op}s -f shape.yaml exec -T web sh -c 'echo changed >/etc/marker; echo in-volume >/data/v; rm /bin/true' >/dev/null 2>&1
expect "export writes the container's filesystem as a tar" 0 '' "$BERTH" -p ${op}s -f shape.yaml export -o "$WORK/web.tar" web
check "... with the image's files and what the container changed" sh -c "tar -xOf '$WORK/web.tar' etc/marker | grep -qx changed && tar -tf '$WORK/web.tar' | grep -q '^bin/busybox\$'"
check "... without what it deleted, its volumes' content or /proc" sh -c "! tar -tf '$WORK/web.tar' | grep -Eq '^bin/true\$|^data/v\$|^proc/.'"
expect "export to a file it cannot write says so" 1 'cannot write /nonexistent-dir/web.tar' "$BERTH" -p ${op}s -f shape.yaml export -o /nonexistent-dir/web.tar web
expect "export to a terminal is refused" 2 'refusing to write a tar to a terminal' sh -c "script -qec \"'$BERTH' -p ${op}s -f shape.yaml export web\" /dev/null"
# as an attacker in the container would set it up: links to the host's files
"$BERTH" -p ${op}s -f shape.yaml exec -T web sh -c 'ln -s /etc/shadow /etc/evil; ln -s /proc/1/root/etc/hostname /evil2' >/dev/null 2>&1
"$BERTH" -p ${op}s -f shape.yaml export -o "$WORK/evil.tar" web >/dev/null 2>&1
check "export keeps a container's symlinks as symlinks, never the host files they name" sh -c "tar -tvf '$WORK/evil.tar' | grep -q ' etc/evil -> /etc/shadow\$' && tar -tvf '$WORK/evil.tar' | grep -q ' evil2 -> /proc/1/root/etc/hostname\$' && ! tar -xOf '$WORK/evil.tar' etc/evil 2>/dev/null | grep -q ."
expect "commit makes an image of the container's changes" 0 '^sha256:[0-9a-f]{64}$' "$BERTH" -p ${op}s -f shape.yaml commit -a 'A U Thor' -m 'the message' -c 'CMD ["cat", "/etc/marker"]' -c 'ENV FROM_COMMIT=yes' web ${op}-committed:1
printf 'services:\n  c:\n    image: %s-committed:1\n' "$op" >committed.yaml
cleanup_hooks+=("'$BERTH' image rm ${op}-committed:1 >/dev/null 2>&1")
expect "... whose CMD the change set" 0 '^changed$' "$BERTH" -p ${op}c -f committed.yaml run --rm c
expect "... with its ENV, without what the container deleted, and its volume's content left out" 0 '^yes gone nodata$' \
	"$BERTH" -p ${op}c -f committed.yaml run --rm c sh -c 'echo $FROM_COMMIT $(test -e /bin/true || echo gone) $(test -e /data/v || echo nodata)'
"$BERTH" -p ${op}c -f committed.yaml down -t 0 >/dev/null 2>&1
expect "... where the container's symlinks stay symlinks" 0 '^/etc/shadow$' "$BERTH" -p ${op}c -f committed.yaml run --rm c readlink /etc/evil
"$BERTH" -p ${op}c -f committed.yaml down -t 0 >/dev/null 2>&1
expect "commit refuses a change that is not a config instruction" 1 'commit takes CMD, ENTRYPOINT' "$BERTH" -p ${op}s -f shape.yaml commit -c 'RUN true' web
"$BERTH" -p ${op}s -f shape.yaml stop -t 0 web >/dev/null 2>&1
expect "export of a stopped container" 0 '^changed$' sh -c "'$BERTH' -p ${op}s -f shape.yaml export web | tar -xOf - etc/marker"
"$BERTH" -p ${op}s -f shape.yaml down -v -t 0 >/dev/null 2>&1
expect "top prints docker's columns" 0 '^UID +PID +PPID +C +STIME +TTY +TIME +CMD$' "$BERTH" -p $op top web
check "... a row of them" grep -Eq '^root +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]{2}:[0-9]{2} +\? +[0-9]{2}:[0-9]{2}:[0-9]{2} +sleep 300$' "$WORK/out"
"$BERTH" -p $op down --remove-orphans -t 0 >/dev/null 2>&1

# ---- Ctrl-C on up SERVICE, --exit-code-from, images once the tag is gone ----
mkdir -p "$WORK/att" && cd "$WORK/att" || exit 1
ap=${proj}t
cleanup_hooks+=("cd '$WORK/att' 2>/dev/null && '$BERTH' -p $ap down -t 0 >/dev/null 2>&1")
printf 'services:\n  dep:\n    image: busybox\n    init: true\n    command: sleep 300\n  main:\n    image: busybox\n    init: true\n    command: sh -c "echo main-up; sleep 300"\n    depends_on: [dep]\n' >compose.yaml
"$BERTH" -p $ap up --no-color main >"$WORK/att.out" 2>&1 &
upid=$!
wait_until 20 grep -q 'main-up' "$WORK/att.out"
kill -INT $upid
wait $upid
check "Ctrl-C on up SERVICE stops what it attached to" sh -c "'$BERTH' -p $ap ps -a main | grep -q Exited && grep -q 'Container $ap-main-1  Stopped' '$WORK/att.out'"
check "... not the dependency it did not attach" sh -c "'$BERTH' -p $ap ps dep | grep -q Up"
"$BERTH" -p $ap up -d >/dev/null 2>&1
"$BERTH" -p $ap up --no-color --abort-on-container-exit --exit-code-from main >"$WORK/att.out" 2>&1 &
upid=$!
wait_until 20 grep -q 'Attaching to' "$WORK/att.out"
"$BERTH" -p $ap kill -s TERM main >/dev/null 2>&1
wait $upid
check "--exit-code-from gives 143 for a container SIGTERM ended" test $? -eq 143
check "... said as main-1 exited with code 143" grep -q '^main-1 exited with code 143$' "$WORK/att.out"
"$BERTH" -p $ap up -d >/dev/null 2>&1
"$BERTH" image rm -f busybox:latest >/dev/null 2>&1
expect "images still lists the containers' image once its tag is gone" 0 "^$ap-dep-1 +<none> +<none> +linux/amd64 +[0-9a-f]{12} " "$BERTH" -p $ap images
"$BERTH" -p $ap down -t 0 >/dev/null 2>&1
load_busybox -t busybox:latest || not_ok "the busybox image loads again"

# ---- config's output and flags ----
mkdir -p "$WORK/cfg/ctx" && cd "$WORK/cfg" || exit 1
printf 'services:\n  web:\n    build: ./ctx\n    image: "busybox:${TAG:-latest}"\n    ports: ["8080:80"]\n    volumes: ["./data:/data"]\n    environment: ["A=${A:-x}", "B=${B:?B is needed}", "C=${C:+alt}", "D=$D"]\n' >compose.yaml
run env -u B "$BERTH" config --no-interpolate
check "config --no-interpolate needs no variable" sh -c "test $RC -eq 0 && grep -q 'B: \${B:?B is needed}' '$WORK/out'"
B=1 run "$BERTH" config
check "config prints the project's fields in docker compose's order" test "$(grep -E '^[a-z]' "$WORK/out" | cut -d: -f1 | tr '\n' ' ')" = "name services networks "
check "... a port long-form, in docker compose's order, published a string" sh -c "grep -A4 'ports:' '$WORK/out' | tr -d ' \n' | grep -q -- '-mode:ingresstarget:80published:\"8080\"protocol:tcp'"
check "... the build context absolute" grep -q "context: $WORK/cfg/ctx" "$WORK/out"
printf 'services:\n  o:\n    image: busybox\n    hostname: h\n    healthcheck: {test: ["CMD", "true"], interval: 5s, timeout: 2s}\n    command: ["true"]\n    cpu_shares: 512\n    volumes: [{type: volume, target: /v, source: v, read_only: true}]\nvolumes: {v: {}}\n' >order.yaml
run "$BERTH" -f order.yaml config
check "config prints a service's keys in docker compose's order (cpu_shares before command, hostname before healthcheck)" test "$(sed -n '/^services:/,/^networks:/p' "$WORK/out" | grep -E '^    [a-z_]+:' | tr -d ' ' | cut -d: -f1 | tr '\n' ' ')" = "cpu_shares command hostname healthcheck image networks volumes "
check "... and a healthcheck's and a volume's keys" sh -c "grep -A5 'healthcheck:' '$WORK/out' | tr -d ' \n' | grep -q 'healthcheck:test:-CMD-\"true\"timeout:2sinterval:5s' && grep -A4 'volumes:' '$WORK/out' | tr -d ' \n' | grep -q 'volumes:-type:volumesource:vtarget:/vread_only:true'"
expect "config --variables lists each variable, its default and whether it is required" 0 '^B +true *$' env -u B "$BERTH" config --variables
check "... with defaults and alternate values" sh -c "grep -Eq '^A +false +x\$' '$WORK/out' && grep -Eq '^C +false +alt\$' '$WORK/out' && grep -Eq '^TAG +false +latest\$' '$WORK/out'"
expect "config --variables --format json" 0 '"DefaultValue": "latest"' env -u B "$BERTH" config --variables --format json
expect "config --variables --format yaml" 0 '^  defaultvalue: "x"$' env -u B "$BERTH" config --variables --format yaml
expect "config --environment prints what interpolation saw" 0 '^CFGVAR=seen$' env CFGVAR=seen B=1 "$BERTH" config --environment
expect "config --no-path-resolution keeps paths relative" 0 'source: \./data' env B=1 "$BERTH" config --no-path-resolution
expect "config --no-normalize adds no default network" 0 '' sh -c "B=1 '$BERTH' config --no-normalize | grep -q networks && exit 1 || exit 0"
printf 'services:\n  web:\n    image: busybox\n    depends_on: [nosuch]\n' >ref.yaml
expect "a reference to an unknown service is refused" 1 'refers to service "nosuch"' "$BERTH" -f ref.yaml config
expect "... unless --no-consistency" 0 'nosuch:' "$BERTH" -f ref.yaml config --no-consistency
expect "config --models lists none here" 0 '^$' "$BERTH" -f ref.yaml config --models --no-consistency

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
