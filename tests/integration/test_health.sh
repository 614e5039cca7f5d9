#!/bin/bash
# Healthchecks and depends_on conditions: a db that turns healthy once a
# marker file appears, a migration job gated on it, an app gated on the
# job's success; and the ways such a stack fails, loudly.
. "$(dirname "$0")/lib.sh"
export COMPOSE_PROJECT_NAME=berthhc$$
proj=$COMPOSE_PROJECT_NAME
cleanup_hooks+=("cd '$WORK/app' 2>/dev/null && for f in *.yaml; do '$BERTH' -f \$f down -v -t 0 >/dev/null 2>&1; done")
load_busybox -t busybox:latest || not_ok "the busybox image loads"
"$REPO/examples/images/build-image.sh" -t hcimg:1 --healthcheck 'test -f /tmp/ready' "$WORK/hcimg.tar" >/dev/null &&
	"$BERTH" image load -i "$WORK/hcimg.tar" >/dev/null
mkdir -p "$WORK/app" && cd "$WORK/app"

# db: ready after a second; migrate (exit $MIGRATE) needs db healthy; app needs migrate done
stack() {
	cat <<YAML
services:
  db:
    image: busybox
    command: sh -c "sleep 1; touch /tmp/ready; sleep 1000"
    healthcheck:
      test: ${DBTEST:-test -f /tmp/ready}
      interval: 200ms
      retries: ${RETRIES:-20}
      ${EXTRA:-}
  migrate:
    image: busybox
    command: sh -c "echo migrated > /shared/m; exit ${MIGRATE:-0}"
    volumes: [shared:/shared]
    depends_on:
      db: {condition: service_healthy}
  app:
    image: busybox
    command: sh -c "cat /shared/m; sleep 1000"
    volumes: [shared:/shared]
    depends_on:
      migrate: {condition: service_completed_successfully}
volumes:
  shared: {}
YAML
}
stack >good.yaml
export COMPOSE_FILE=good.yaml
expect "up -d of db, migrate and app" 0 "$proj-app-1  Started" "$BERTH" up -d
order=$(printf '%s\n' "$ERR" | grep -nE "db-1  Healthy|migrate-1  Started|migrate-1  Exited|app-1  Started" | cut -d: -f2- | tr '\n' '|')
check "db is healthy before migrate starts, migrate has exited before app starts ($order)" \
	test "$order" = " Container $proj-db-1  Healthy| Container $proj-migrate-1  Started| Container $proj-migrate-1  Exited| Container $proj-app-1  Started|"
expect "app saw what migrate wrote" 0 'migrated' "$BERTH" logs app
expect "ps shows db healthy" 0 "$proj-db-1 .*Up .*\(healthy\)" "$BERTH" ps
expect "ps --format json has Health" 0 "\"Health\":\"healthy\".*\"Name\":\"$proj-db-1\"" "$BERTH" ps --format json
check "the state keeps the checks' results, failing ones first" \
	sh -c "grep -q '\"exit_code\":1' '$BERTH_ROOT/containers/$proj-db-1/state.json' && grep -q '\"exit_code\":0' '$BERTH_ROOT/containers/$proj-db-1/state.json'"
expect "down" 0 Removed "$BERTH" down -v -t 0

# up --wait: returns once all is running and healthy, or done
cat >wait.yaml <<'YAML'
services:
  db:
    image: busybox
    command: sh -c "sleep 1; touch /tmp/ready; sleep 1000"
    healthcheck: {test: test -f /tmp/ready, interval: 200ms, retries: 30}
  job:
    image: busybox
    command: "true"
YAML
export COMPOSE_FILE=wait.yaml
expect "up --wait returns 0 once db is healthy and job is done" 0 "$proj-db-1  Started" "$BERTH" up --wait
expect "and db is healthy by then" 0 "$proj-db-1 .*\(healthy\)" "$BERTH" ps
expect "down" 0 Removed "$BERTH" down -t 0
sed -i 's/retries: 30/retries: 1000/; s|touch /tmp/ready;||' wait.yaml
expect "up --wait --wait-timeout fails naming what is not ready" 1 "container $proj-db-1 is still starting \(health: starting\) \(--wait-timeout\)" \
	"$BERTH" up --wait --wait-timeout 2
expect "down" 0 Removed "$BERTH" down -t 0
printf 'services:\n  sick:\n    image: busybox\n    command: sleep 100\n    healthcheck: {test: "false", interval: 200ms, retries: 1}\n' >waitfail.yaml
expect "up --wait fails on a container that turns unhealthy" 1 "container $proj-sick-1 is unhealthy" "$BERTH" -f waitfail.yaml up --wait
"$BERTH" -f waitfail.yaml down -t 0 >/dev/null 2>&1

MIGRATE=3 stack >badjob.yaml
export COMPOSE_FILE=badjob.yaml
expect "a failing job fails up, naming it" 1 "service \"migrate\" didn't complete successfully: container $proj-migrate-1 exited \(3\)" \
	"$BERTH" up -d
expect_quiet "and what depends on it was not started" 1 sh -c "'$BERTH' ps | grep '$proj-app-1'"
expect "what already ran keeps running" 0 "$proj-db-1 .*Up" "$BERTH" ps
expect "down" 0 Removed "$BERTH" down -v -t 0

DBTEST='test -f /tmp/never && echo fine || (echo not ready; exit 1)' RETRIES=2 stack >sick.yaml
export COMPOSE_FILE=sick.yaml
expect "an unhealthy dependency fails up with its last output" 1 "dependency failed to start: container $proj-db-1 is unhealthy: not ready" \
	"$BERTH" up -d
expect_quiet "migrate was not started" 1 sh -c "'$BERTH' ps | grep '$proj-migrate-1'"
expect "ps shows db unhealthy" 0 "$proj-db-1 .*\(unhealthy\)" "$BERTH" ps
expect "down" 0 Removed "$BERTH" down -v -t 0

# failures during start_period do not count: db is ready only once the
# test says so (/tmp/go), after its checks have failed twice, retries: 1
health_fails() { "$BERTH" inspect "$proj-db-1" | grep -c '"ExitCode": 1'; }
DBTEST='test -f /tmp/go' RETRIES=1 EXTRA='start_period: 120s' stack >slow.yaml
export COMPOSE_FILE=slow.yaml
"$BERTH" up -d >"$WORK/slow" 2>&1 &
slowup=$!
check "(db's checks fail in its start period)" wait_until 30 sh -c "$(declare -f health_fails); BERTH='$BERTH' proj='$proj' health_fails | grep -qv '^[01]\$'"
"$BERTH" exec -T db touch /tmp/go
wait "$slowup"
slowrc=$?
check "failures in the start period do not count: db turns healthy, up goes on" \
	sh -c "test $slowrc -eq 0 && grep -q '$proj-db-1  Healthy' '$WORK/slow'"
expect "down" 0 Removed "$BERTH" down -v -t 0
DBTEST='test -f /tmp/go' RETRIES=1 stack >fast.yaml
export COMPOSE_FILE=fast.yaml
expect "without it, one failure is unhealthy with retries: 1" 1 "is unhealthy" "$BERTH" up -d
expect "down" 0 Removed "$BERTH" down -v -t 0

DBTEST='sleep 5' RETRIES=1 EXTRA='timeout: 300ms' stack >slowcheck.yaml
export COMPOSE_FILE=slowcheck.yaml
expect "a check past its timeout is killed and fails" 1 "is unhealthy: Health check exceeded timeout \(300ms\)" "$BERTH" up -d
none_match "and leaves no process in the container" 'sleep 5' "$BERTH" top db
expect "down" 0 Removed "$BERTH" down -v -t 0

# the image's HEALTHCHECK when the service has none; disable turns it off
cat >image.yaml <<'YAML'
services:
  db:
    image: hcimg:1
    command: sh -c "sleep 1; touch /tmp/ready; sleep 1000"
  app:
    image: busybox
    command: sleep 1000
    depends_on:
      db: {condition: service_healthy}
  plain:
    image: hcimg:1
    command: sleep 1000
    healthcheck: {disable: true}
YAML
export COMPOSE_FILE=image.yaml
expect "the image's HEALTHCHECK is used" 0 "$proj-db-1  Healthy" "$BERTH" up -d
expect "disable: true turns it off" 0 "$proj-plain-1 .*Up [^(]*$" "$BERTH" ps
cat >nohc.yaml <<'YAML'
services:
  db:
    image: busybox
    command: sleep 1000
  app:
    image: busybox
    command: sleep 1000
    depends_on:
      db: {condition: service_healthy}
YAML
expect "service_healthy on a service without a healthcheck fails, saying so" 1 \
	"dependency failed to start: container ${proj}n-db-1 has no healthcheck configured" "$BERTH" -f nohc.yaml -p ${proj}n up -d
"$BERTH" -f nohc.yaml -p ${proj}n down -t 0 >/dev/null 2>&1
expect "down" 0 Removed "$BERTH" down -v -t 0
unset COMPOSE_FILE
check_no_leaks "after down"
printf 'services:\n  app:\n    image: busybox\n    command: "true"\n    depends_on:\n      db: {condition: service_started, required: false}\n' >optional.yaml
expect "a dependency that is not there, with required: false, is skipped with a warning" 0 \
	"depends_on db is skipped: it is not defined or not enabled, and required: false" "$BERTH" -f optional.yaml config -q

# Lifecycle hooks: post_start in order, as their user and with their
# environment; pre_stop before the stop signal; a failing post_start fails up.
mkdir -p "$WORK/app/marks" && chmod 777 "$WORK/app/marks"
cat >hooks.yaml <<'YAML'
services:
  web:
    image: busybox
    volumes: ["./marks:/marks"]
    command: sh -c 'trap "echo term >> /marks/log; exit 0" TERM; while :; do sleep 0.1; done'
    post_start:
      - command: sh -c 'echo first >> /marks/log; chmod 666 /marks/log'
      - command: ["sh", "-c", "echo second $$GREETING $$(id -u) >> /marks/log"]
        user: app
        environment: {GREETING: hello}
    pre_stop:
      - command: sh -c 'echo stopping >> /marks/log'
YAML
export COMPOSE_FILE=hooks.yaml
expect "up with post_start hooks" 0 "$proj-web-1  Started" "$BERTH" up -d
expect "they ran in order, as their user, with their environment" 0 '^first second hello 1000$' sh -c "tr '\n' ' ' <marks/log | sed 's/ $//'"
expect "stop" 0 "$proj-web-1  Stopped" "$BERTH" stop
expect "pre_stop ran before the stop signal" 0 '^first second hello 1000 stopping term$' sh -c "tr '\n' ' ' <marks/log | sed 's/ $//'"
expect "down" 0 Removed "$BERTH" down -t 0
cat >badhook.yaml <<'YAML'
services:
  web:
    image: busybox
    command: sleep 1000
    post_start:
      - command: sh -c 'echo cannot migrate; exit 3'
YAML
export COMPOSE_FILE=badhook.yaml
expect "a failing post_start hook fails up, with its output" 1 'post_start hook 1 \(sh\) exited 3: cannot migrate' "$BERTH" up -d
expect "the container keeps running, as under docker compose" 0 "$proj-web-1 .*Up" "$BERTH" ps
expect "down" 0 Removed "$BERTH" down -t 0
unset COMPOSE_FILE
check_no_leaks "after the hooks"

# pre_start: steps in their own containers, in order, before the service's
# containers start; once for the service or per replica; not again on an
# unchanged up or a restart; again after a change or a failure.
mkdir -p "$WORK/app/pre" && chmod 777 "$WORK/app/pre"
cat >prestart.yaml <<'YAML'
services:
  app:
    image: busybox
    command: sh -c 'cp /pre/log /tmp/seen; ls /own >> /tmp/seen; sleep 1000'
    scale: 2
    environment: {WHO: app}
    volumes: ["./pre:/pre", "/own"]
    pre_start:
      - command: sh -c 'echo "once $$WHO $$EXTRA $$(id -u)" >> /pre/log; echo made > /pre/made'
        environment: {EXTRA: extra}
        user: "1000"
      - command: sh -c 'echo "replica $$(cat /pre/made)" >> /pre/log; touch /own/mark'
        per_replica: true
      - image: hcimg:1
        command: sh -c 'echo "other image" >> /pre/log'
  web:
    image: busybox
    command: sleep 1000
    depends_on: [app]
YAML
export COMPOSE_FILE=prestart.yaml
expect "up runs the pre_start steps" 0 "$proj-app-pre_start-1  Exited" "$BERTH" up -d
order=$(printf '%s\n' "$ERR" | grep -E "pre_start|app-[12]  Started|web-1  Started" | sed 's/ *Container //' | tr -s ' ' | tr '\n' '|')
check "in order, once for the service, per replica where asked, before the service and its dependents start ($order)" \
	test "$order" = "$proj-app-pre_start-1 Started|$proj-app-pre_start-1 Exited|$proj-app-1-pre_start-2 Started|$proj-app-1-pre_start-2 Exited|$proj-app-2-pre_start-2 Started|$proj-app-2-pre_start-2 Exited|$proj-app-pre_start-3 Started|$proj-app-pre_start-3 Exited|$proj-app-1 Started|$proj-app-2 Started|$proj-web-1 Started|"
check "each step saw the service's environment with its own on top, as its user, and the steps before it" \
	test "$(tr '\n' '|' <pre/log)" = "once app extra 1000|replica made|replica made|other image|"
expect "a replica saw what its steps wrote, in the volumes it shares with them" 0 '^once app extra 1000 replica made replica made other image mark$' \
	sh -c "'$BERTH' exec -T --index 2 app cat /tmp/seen | tr '\n' ' ' | sed 's/ \$//'"
expect_quiet "the steps' containers are gone" 1 sh -c "'$BERTH' ps -a | grep pre_start"
check "and so are their directories" test "$(ls "$BERTH_ROOT/containers" | grep -c pre_start)" = 0
expect "an unchanged up" 0 "$proj-app-1  Running" "$BERTH" up -d
check "does not run them again" test "$(grep -c pre_start <<<"$ERR")/$(wc -l <pre/log)" = 0/4
expect "a restart" 0 "$proj-app-1  Started" "$BERTH" restart app
check "does not run them again either" test "$(wc -l <pre/log)" = 4
expect "a third replica" 0 "$proj-app-3  Started" "$BERTH" up -d --scale app=3
check "runs only the per-replica step for it" test "$(tail -n 1 pre/log)/$(wc -l <pre/log)" = "replica made/5"
expect "back to two" 0 "$proj-app-3  Removed" "$BERTH" up -d
check "takes the third one's anonymous volume with it" \
	test "$(grep -l '"anonymous": true' "$BERTH_ROOT"/volumes/*/volume.json | wc -l)" = 2
sed -i 's/EXTRA: extra/EXTRA: changed/' prestart.yaml
expect "a changed step recreates the service" 0 "$proj-app-1  Recreate" "$BERTH" up -d
check "and runs the steps again" test "$(grep -c 'once app changed' pre/log)" = 1
expect "down" 0 Removed "$BERTH" down -v -t 0
sed -i "s/echo \"other image\" >> \/pre\/log'/echo broken; exit 4'/" prestart.yaml
: >pre/log
expect "a failing step fails up, naming the service, the step, its code and its output" 1 \
	"service \"app\": pre_start\[2\] \($proj-app-pre_start-3\) exited with code 4: broken" "$BERTH" up -d
expect "the service was created but not started" 0 "$proj-app-1 .*Created" "$BERTH" ps -a
expect_quiet "nor what depends on it" 1 sh -c "'$BERTH' ps | grep '$proj-web-1'"
sed -i "s/echo broken; exit 4'/echo fixed >> \/pre\/log'/" prestart.yaml
expect "after a failure, the next up runs the steps again" 0 "$proj-app-pre_start-1  Exited" "$BERTH" up -d
check "all of them" test "$(tail -n 1 pre/log)" = fixed
expect "down" 0 Removed "$BERTH" down -v -t 0
: >pre/log
expect "up --no-start runs no step" 0 "$proj-app-1  Created" "$BERTH" up --no-start
check "(none ran)" test ! -s pre/log
expect "start runs them before starting" 0 "$proj-app-pre_start-1  Exited" "$BERTH" start
check "(all ran)" test "$(wc -l <pre/log)" = 4
expect "down" 0 Removed "$BERTH" down -v -t 0
printf 'services:\n  app:\n    image: busybox\n    pre_start:\n      - image: nosuchimage:1\n' >prebad.yaml
expect "a step's missing image fails up, naming it" 1 'nosuchimage' "$BERTH" -f prebad.yaml up -d
"$BERTH" -f prebad.yaml down -t 0 >/dev/null 2>&1
printf 'services:\n  app:\n    image: busybox\n    pre_start:\n      - command: \"true\"\n        when: always\n' >prebad.yaml
expect "an unknown key in a step is refused with its line" 1 'prebad.yaml:6:9: services.app.pre_start\[0\]: unknown key "when"' \
	"$BERTH" -f prebad.yaml config
unset COMPOSE_FILE
check_no_leaks "after pre_start"

# Reconcile: replicas up and down without recreating the first, the
# recreation flags, and an image loaded again under the same tag.
printf 'services:\n  web:\n    image: busybox\n    command: sleep 1000\n    environment: {V: "1"}\n' >scale.yaml
export COMPOSE_FILE=scale.yaml
expect "up of one web" 0 "$proj-web-1  Started" "$BERTH" up -d
first=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$BERTH_ROOT/containers/$proj-web-1/state.json")
expect "--scale web=3 adds two" 0 "$proj-web-3  Started" "$BERTH" up -d --scale web=3
check "without recreating the first" test "$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$BERTH_ROOT/containers/$proj-web-1/state.json")" = "$first"
expect "back to the file's one removes the others, highest first" 0 "$proj-web-3  Removed" "$BERTH" up -d
check "and keeps the first as it was" test "$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$BERTH_ROOT/containers/$proj-web-1/state.json")" = "$first"
expect_quiet "web-2 is gone" 1 sh -c "'$BERTH' ps -a | grep '$proj-web-2'"
expect "--force-recreate recreates an unchanged container" 0 "$proj-web-1  Recreate" "$BERTH" up -d --force-recreate
sed -i 's/V: "1"/V: "2"/' scale.yaml
expect "--no-recreate leaves a changed one as it is" 0 "$proj-web-1  Running" "$BERTH" up -d --no-recreate
expect "the two do not go together" 1 "cannot go together" "$BERTH" up -d --force-recreate --no-recreate
"$BERTH" up -d >/dev/null 2>&1
load_busybox -t busybox:latest --env RELOADED=1
expect "an image loaded again under its tag recreates the services that use it" 0 "$proj-web-1  Recreate" "$BERTH" up -d
expect "down" 0 Removed "$BERTH" down -t 0
unset COMPOSE_FILE
check_no_leaks "after scaling"

# network_mode service:X: made again when X is, into X's new namespace
printf 'services:\n  host:\n    image: busybox\n    command: sleep 1000\n    environment: {V: "1"}\n  side:\n    image: busybox\n    command: sleep 1000\n    network_mode: service:host\n' >netmode.yaml
export COMPOSE_FILE=netmode.yaml
netns_of() { readlink "/proc/$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$BERTH_ROOT/containers/$proj-$1-1/state.json")/ns/net"; }
expect "up of a service and one in its network namespace" 0 "$proj-side-1  Started" "$BERTH" up -d
check "side shares host's namespace" test "$(netns_of side)" = "$(netns_of host)"
sed -i 's/V: "1"/V: "2"/' netmode.yaml
expect "a change to host recreates side too" 0 "$proj-side-1  Recreate" "$BERTH" up -d
check "which is in host's new namespace" test "$(netns_of side)" = "$(netns_of host)"
expect "an unchanged up leaves both" 0 "$proj-side-1  Running" "$BERTH" up -d
expect "down" 0 Removed "$BERTH" down -t 0
unset COMPOSE_FILE

# kill counts as a user's stop, as under Docker: restart: always does not undo it
printf 'services:\n  web:\n    image: busybox\n    restart: always\n    command: sleep 1000\n' >kill.yaml
export COMPOSE_FILE=kill.yaml
expect "up -d of a restart: always service" 0 "$proj-web-1  Started" "$BERTH" up -d
expect "kill" 0 "$proj-web-1  Killed" "$BERTH" kill web
sleep 1.5 # past the first restart backoff, were there one
expect "it stays down" 0 "$proj-web-1 .*Exited \(137\)" "$BERTH" ps -a
expect "until started" 0 "$proj-web-1  Started" "$BERTH" start web
expect "down" 0 Removed "$BERTH" down -t 0
unset COMPOSE_FILE
check_no_leaks "after kill"

# events: what happened, in order, health transitions included
export COMPOSE_FILE=good.yaml
"$BERTH" events --json >"$WORK/events" 2>&1 &
follower=$!
cleanup_hooks+=("kill $follower 2>/dev/null")
# the follower reads from where the log was when it started: a marker line,
# appended until it prints one, says it has
marker=$(printf '{"time":"2026-01-01T00:00:00Z","timeNano":0,"type":"container","action":"marker","id":"%s-db-1","attributes":{"name":"%s-db-1"}}' "$proj" "$proj")
check "(the events follower runs)" wait_until 10 sh -c \
	"echo '$marker' >>'$BERTH_ROOT/events.log'; grep -q '\"action\":\"marker\"' '$WORK/events'"
expect "up for the events" 0 "$proj-app-1  Started" "$BERTH" up -d
expect "down for the events" 0 Removed "$BERTH" down -v -t 0
wait_until 5 grep -q "\"action\":\"destroy\",\"id\":\"$proj-db-1\"" "$WORK/events"
kill "$follower" 2>/dev/null
wait "$follower" 2>/dev/null
seq_of() { grep -n "$1" "$WORK/events" | head -1 | cut -d: -f1; }
check "events: db created, started, healthy; migrate started and died 0; app started" sh -c "
	a=\$(grep -n '\"action\":\"create\",\"id\":\"$proj-db-1\"' '$WORK/events' | head -1 | cut -d: -f1)
	b=\$(grep -n '\"action\":\"start\",\"id\":\"$proj-db-1\"' '$WORK/events' | head -1 | cut -d: -f1)
	c=\$(grep -n '\"action\":\"health_status: healthy\",\"id\":\"$proj-db-1\"' '$WORK/events' | head -1 | cut -d: -f1)
	d=\$(grep -n '\"action\":\"start\",\"id\":\"$proj-migrate-1\"' '$WORK/events' | head -1 | cut -d: -f1)
	e=\$(grep -n '\"action\":\"die\",\"id\":\"$proj-migrate-1\".*\"exitCode\":\"0\"' '$WORK/events' | head -1 | cut -d: -f1)
	f=\$(grep -n '\"action\":\"start\",\"id\":\"$proj-app-1\"' '$WORK/events' | head -1 | cut -d: -f1)
	[ -n \"\$a\" ] && [ \"\$a\" -lt \"\$b\" ] && [ \"\$b\" -lt \"\$c\" ] && [ \"\$c\" -lt \"\$d\" ] && [ \"\$d\" -lt \"\$e\" ] && [ \"\$e\" -lt \"\$f\" ]"
check "then stop, die and destroy as down takes them away" sh -c "
	s=\$(grep -n '\"action\":\"stop\",\"id\":\"$proj-app-1\"' '$WORK/events' | head -1 | cut -d: -f1)
	x=\$(grep -n '\"action\":\"destroy\",\"id\":\"$proj-app-1\"' '$WORK/events' | head -1 | cut -d: -f1)
	[ -n \"\$s\" ] && [ \"\$s\" -lt \"\$x\" ]"
check "each event names its service" grep -q "\"service\":\"migrate\"" "$WORK/events"
unset COMPOSE_FILE
check_no_leaks "after the events"

# Attached up: "exited with code", --abort-on-container-failure, --attach,
# and a second attached up shows only what is new.
cat >attached.yaml <<'YAML'
services:
  job: {image: busybox, command: sh -c 'echo job says hi; sleep 0.3; exit 4'}
  talker: {image: busybox, command: sh -c 'echo talker starts; sleep 300'}
YAML
export COMPOSE_FILE=attached.yaml
expect "attached up says when a container ends, with its code" 1 "^job-1 exited with code 4" \
	timeout 60 "$BERTH" up --no-color --abort-on-container-failure
expect "--abort-on-container-failure stopped the others" 0 "$proj-talker-1 .*Exited" "$BERTH" ps -a
"$BERTH" down -t 0 >/dev/null 2>&1
timeout 60 "$BERTH" up --no-color --attach job --abort-on-container-failure >"$WORK/attach" 2>&1
check "--attach shows the named services' logs" grep -Eq "^job-1 +\| job says hi" "$WORK/attach"
check "and not the others'" sh -c "! grep -q 'talker starts' '$WORK/attach'"
"$BERTH" down -t 0 >/dev/null 2>&1
cat >again.yaml <<'YAML'
services:
  talker:
    image: busybox
    command: sh -c 'echo talker starts; while :; do [ -e /tmp/go ] && rm /tmp/go && echo talker goes on; sleep 0.1; done'
YAML
export COMPOSE_FILE=again.yaml
expect "up -d" 0 Started "$BERTH" up -d
wait_until 10 sh -c "'$BERTH' logs talker | grep -q 'talker starts'"
"$BERTH" up --no-color >"$WORK/again" 2>&1 &
again=$!
wait_until 15 grep -q 'Attaching to' "$WORK/again"
"$BERTH" exec -T talker touch /tmp/go
check "a second attached up shows what is new" wait_until 15 grep -q 'talker goes on' "$WORK/again"
kill -INT "$again"
wait_until 15 sh -c "! kill -0 $again 2>/dev/null"
check "... and not the earlier log" sh -c "! grep -q 'talker starts' '$WORK/again'"
expect "down" 0 Removed "$BERTH" down -t 0
unset COMPOSE_FILE
check_no_leaks "after attached ups"

# one-off containers of run are theirs alone: stop leaves them, down takes them
printf 'services:\n  web: {image: busybox, command: sleep 300}\n' >oneoff.yaml
export COMPOSE_FILE=oneoff.yaml
expect "up -d" 0 Started "$BERTH" up -d
oneoff=$("$BERTH" run -d web sleep 300)
check "run -d made a one-off container" test -n "$oneoff"
expect "stop stops the service's container" 0 "$proj-web-1  Stopped" "$BERTH" stop
expect "but leaves the one-off running" 0 "$oneoff .*Up" "$BERTH" ps
expect "down removes it too" 0 "$oneoff  Removed" "$BERTH" down -t 0
unset COMPOSE_FILE
check_no_leaks "after the one-off"

# berth inspect shows State.Health with its log; berth scale adds and removes
printf 'services:\n  db:\n    image: busybox\n    command: sleep 300\n    healthcheck: {test: "echo checked", interval: 200ms}\n' >inspect.yaml
export COMPOSE_FILE=inspect.yaml
expect "up --wait" 0 Started "$BERTH" up --wait
expect "inspect shows the health and its log, as Docker's" 0 '"Status": "healthy"' "$BERTH" inspect "$proj-db-1"
expect "with each check's output" 0 '"Output": "checked\\n"' "$BERTH" inspect "$proj-db-1"
expect "inspect of no such container fails" 1 "no such container: nosuch" "$BERTH" inspect nosuch
expect "scale db=2 adds one" 0 "$proj-db-2  Started" "$BERTH" scale db=2
expect "scale db=1 removes it" 0 "$proj-db-2  Removed" "$BERTH" scale db=1
expect "down" 0 Removed "$BERTH" down -t 0
unset COMPOSE_FILE
check_no_leaks "after inspect and scale"

# depends_on restart: true: the dependent restarts when its dependency is
# recreated by up or restarted by berth restart
cat >restart.yaml <<'YAML'
services:
  db:
    image: busybox
    command: sleep 300
    environment: {V: "1"}
  app:
    image: busybox
    command: sleep 300
    depends_on:
      db: {condition: service_started, restart: true}
  other:
    image: busybox
    command: sleep 300
    depends_on: [db]
YAML
export COMPOSE_FILE=restart.yaml
pid_of() { sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$BERTH_ROOT/containers/$proj-$1-1/state.json"; }
expect "up -d" 0 Started "$BERTH" up -d
app=$(pid_of app) other=$(pid_of other)
sed -i 's/V: "1"/V: "2"/' restart.yaml
expect "db recreated by up restarts app, which depends on it with restart: true" 0 "$proj-app-1  Restarting" "$BERTH" up -d
check "app runs anew" test "$(pid_of app)" != "$app" -a -n "$(pid_of app)"
check "other, without restart: true, is left as it was" test "$(pid_of other)" = "$other"
app=$(pid_of app)
expect "berth restart db restarts app too" 0 "$proj-app-1  Restarting" "$BERTH" restart db
check "app runs anew again" test "$(pid_of app)" != "$app"
expect "down" 0 Removed "$BERTH" down -t 0
unset COMPOSE_FILE
check_no_leaks "after restart: true"

# --always-recreate-deps and -V
cat >deps.yaml <<'YAML'
services:
  db:
    image: busybox
    command: sleep 300
    volumes: ["/data"]
  app:
    image: busybox
    command: sleep 300
    depends_on: [db]
YAML
export COMPOSE_FILE=deps.yaml
expect "up -d" 0 Started "$BERTH" up -d
"$BERTH" exec -T db sh -c 'echo old > /data/x'
expect "--always-recreate-deps recreates what app depends on" 0 "$proj-db-1  Recreate" "$BERTH" up -d --always-recreate-deps app
expect "a recreated container keeps its anonymous volume" 0 '^old$' "$BERTH" exec -T db cat /data/x
expect "-V with --force-recreate: new anonymous volumes" 0 "$proj-db-1  Recreate" "$BERTH" up -d --force-recreate -V
expect "so the old data is not there" 1 'No such file' "$BERTH" exec -T db cat /data/x
expect "--always-recreate-deps and --no-recreate do not go together" 1 "cannot go together" \
	"$BERTH" up -d --always-recreate-deps --no-recreate
expect "down -v" 0 Removed "$BERTH" down -v -t 0
unset COMPOSE_FILE
check_no_leaks "after -V"
