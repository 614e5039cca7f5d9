#!/bin/bash
# exec, top, stop, start, restart, kill, rm; restart: always and a user's
# stop; concurrent ups of one project do not interleave.
. "$(dirname "$0")/lib.sh"
export COMPOSE_PROJECT_NAME=berthctl$$
proj=$COMPOSE_PROJECT_NAME
cleanup_hooks+=("cd '$WORK/app' 2>/dev/null && '$BERTH' down -t 1 >/dev/null 2>&1")
load_busybox -t busybox:latest || not_ok "the busybox image loads"
mkdir -p "$WORK/app" && cd "$WORK/app"
cat >compose.yaml <<'YAML'
services:
  web:
    image: busybox
    init: true
    user: app
    working_dir: /home/app
    environment: [GREETING=hi]
    stop_grace_period: 2s
    command: sh -c 'echo started; exec sleep 300'
  always:
    image: busybox
    restart: always
    stop_grace_period: 1s
    command: sh -c 'echo run; sleep 0.2; exit 2'
YAML
expect "up -d" 0 "Started" "$BERTH" up -d
expect "exec runs as the container's user, in its directory, with its env" 0 '^hi from 1000 in /home/app$' \
	"$BERTH" exec -T web sh -c 'echo "$GREETING from $(id -u) in $(pwd)"'
expect "exec returns the command's exit code" 7 '' "$BERTH" exec -T web sh -c 'exit 7'
expect "exec -u -e -w" 0 '^x 0 /tmp$' "$BERTH" exec -T -u root -e X=x -w /tmp web sh -c 'echo $X $(id -u) $(pwd)'
expect "exec of a missing command exits 127" 127 'executable file not found' "$BERTH" exec -T web notthere
expect "exec sees the container's processes only" 0 '^ *1 berth-init' "$BERTH" exec -T web sh -c 'ps -o pid,comm | sed 1d | sort -n | head -1'
expect "exec into an unknown service" 1 'no such service: nope' "$BERTH" exec -T nope true
expect "exec as a user the image lacks" 126 'user "nosuchuser" is not in the container' "$BERTH" exec -T -u nosuchuser web true
expect "top lists the container's processes" 0 'sleep 300' "$BERTH" top web
expect "ps shows the command as the file gives it, quoted and cut as docker does" 0 \
	"^$proj-web-1 +busybox +\"sh -c echo started;…\" +web +" "$BERTH" ps
expect "ps lines its columns up under the header" 0 "^NAME +IMAGE +COMMAND +SERVICE +CREATED +STATUS +PORTS$" "$BERTH" ps
# (… is one column wide and three bytes long)
check "every row starts its STATUS where the header's does" sh -c "'$BERTH' ps -a | sed 's/…/./g' | awk 'NR == 1 {c = index(\$0, \"STATUS\")} NR > 1 && !(substr(\$0, c, 2) ~ /^(Up|Ex|Cr|Re)/) {bad = 1} END {exit bad}'"
if command -v script >/dev/null; then
	expect "exec gives a TTY when stdin is one" 5 'stdin-is-a-tty' \
		script -qec "'$BERTH' exec web sh -c 'test -t 0 && echo stdin-is-a-tty; exit 5'" /dev/null
	run sh -c "printf 'echo typed-\$((40+2))\\nexit 9\\n' | script -qec \"'$BERTH' exec web sh\" /dev/null"
	check "what the user types reaches the command through the TTY" grep -q 'typed-42' "$WORK/out"
else
	not_ok "script (util-linux) is there to give exec a terminal"
fi
expect "without a terminal, exec gives none" 0 '^no-tty$' sh -c "'$BERTH' exec web sh -c 'test -t 0 && echo tty || echo no-tty' </dev/null"

check "restart: always brings a failing container back" wait_until 10 sh -c \
	"[ \"\$('$BERTH' logs --no-log-prefix always | grep -c run)\" -ge 3 ]"
expect "ps shows it restarting or up" 0 "$proj-always-1 .*(Restarting|Up)" "$BERTH" ps
expect "stop stops it" 0 "$proj-always-1  Stopped" "$BERTH" stop always
runs=$("$BERTH" logs --no-log-prefix always | grep -c run)
sleep 1.5
check "a container the user stopped is not restarted" test "$("$BERTH" logs --no-log-prefix always | grep -c run)" -eq "$runs"
expect "ps -a shows it exited" 0 "$proj-always-1 .*Exited" "$BERTH" ps -a
expect "start starts it again" 0 "$proj-always-1  Started" "$BERTH" start always
"$BERTH" stop always >/dev/null 2>&1

expect "kill sends a signal" 0 "Killed" "$BERTH" kill -s SIGTERM web
check "the killed container exits" wait_until 5 sh -c "'$BERTH' ps -a | grep -q '$proj-web-1 .*Exited'"
expect "restart brings it back" 0 "$proj-web-1  Restarting" "$BERTH" restart web
expect_quiet "rm leaves running containers alone" 0 "$BERTH" rm web
expect "so web is still up" 0 "$proj-web-1 .*Up" "$BERTH" ps
expect "rm -s stops and removes" 0 "$proj-web-1  Removed" "$BERTH" rm -s web
none_match "the container is gone" "$proj-web-1" "$BERTH" ps -a

# two ups at once take turns on the project lock
"$BERTH" up -d >"$WORK/up1" 2>&1 &
up1=$!
"$BERTH" up -d >"$WORK/up2" 2>&1 &
up2=$!
wait "$up1"
rc1=$?
wait "$up2"
rc2=$?
check "two concurrent ups both succeed (exit status $rc1 and $rc2)" test "$rc1$rc2" = 00
# with the lock, one made the containers and the other, waiting its turn, found them running
runs() { echo "$(grep -c ' Running$' "$1") $(grep -cv ' Running$' "$1")"; }
check "one up made the containers, the other waited and found them running ($(runs "$WORK/up1"), $(runs "$WORK/up2"))" \
	sh -c "echo $(runs "$WORK/up1") $(runs "$WORK/up2") | grep -Eqx '0 [1-9] [1-9] 0|[1-9] 0 0 [1-9]'"
expect "and made exactly one container per service, no second replica of a race" 0 \
	"^$proj-always-1 $proj-web-1 \$" sh -c "'$BERTH' ps -a --format '{{.Name}}' | sort | tr '\n' ' '"
expect "down" 0 'Removed' "$BERTH" down -t 1
check_no_leaks "after down"

# up flags, names, replicas, orphans
cat >compose.yaml <<'YAML'
services:
  base: {image: busybox, init: true, command: sleep 300, stop_grace_period: 1s}
  app: {image: busybox, init: true, command: sleep 300, depends_on: [base], scale: 2, stop_grace_period: 1s}
  talker: {image: busybox, command: echo talking}
YAML
printf '  named: {image: busybox, init: true, container_name: my-fixed-name-%s, command: sleep 300, stop_grace_period: 1s}\n' "$$" >>compose.yaml
expect "up --no-start creates without starting" 0 "Created" "$BERTH" up --no-start
expect "so ps -a shows them created" 0 "$proj-base-1 .*Created" "$BERTH" ps -a
expect "up --no-deps app starts app only" 0 "$proj-app-1  Started" "$BERTH" up -d --no-deps app
check "base was not started" sh -c "'$BERTH' ps -a | grep -q '$proj-base-1 .*Created'"
expect "scale: 2 gives two replicas" 0 "$proj-app-2 .*Up" "$BERTH" ps
expect "container_name is used" 0 "my-fixed-name-$$ " sh -c "'$BERTH' up -d >/dev/null 2>&1; '$BERTH' ps"
wait_until 5 sh -c "'$BERTH' logs talker | grep -q talking"
expect "exec --index picks the replica" 0 "^ok$" "$BERTH" exec -T --index 2 app sh -c 'echo ok'
# the command waits for a file that only comes after exec -d has returned
expect_quiet "exec -d returns without waiting for the command" 0 \
	timeout 30 "$BERTH" exec -d app sh -c 'until [ -e /tmp/go ]; do sleep 0.1; done; echo done > /tmp/marker'
check "(which was still waiting then)" sh -c "! '$BERTH' exec -T app test -e /tmp/marker"
"$BERTH" exec -T app touch /tmp/go
check "and the command ran on in the background" wait_until 10 "$BERTH" exec -T app test -e /tmp/marker
expect "logs -t shows timestamps" 0 '^\S+ +\| 20[0-9]{2}-[0-9]{2}-[0-9]{2}T' "$BERTH" logs -t --no-color talker
expect "logs without --since show the line" 0 'talking' "$BERTH" logs talker
expect_quiet "logs --since in the future show nothing" 0 "$BERTH" logs --since 2099-01-01T00:00:00Z talker
printf 'services:\n  base: {image: busybox, init: true, command: sleep 300, stop_grace_period: 1s}\n' >compose.yaml
"$BERTH" down -t 1 >/dev/null 2>&1
expect "down without --remove-orphans keeps orphans" 0 "^$proj-app-1$" "$BERTH" ps -a --format "{{.Name}}"
expect "down --remove-orphans removes them" 0 "$proj-app-1  Removed" "$BERTH" down -t 1 --remove-orphans
check_no_leaks "after removing orphans"
