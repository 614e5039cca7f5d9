#!/bin/bash
# The docker compose commands beyond up and down, as a user runs them:
# berth ls lists the projects on the host.
. "$(dirname "$0")/lib.sh"
a=berthclia$$
b=berthclib$$
cleanup_hooks+=("cd '$WORK/a' && '$BERTH' -p $a down -t 0 >/dev/null 2>&1; cd '$WORK/b' && '$BERTH' -p $b down -t 0 >/dev/null 2>&1")
load_busybox || not_ok "the busybox image loads"
mkdir -p "$WORK/a" "$WORK/b"
printf 'services:\n  one: {image: busybox, command: sleep 100}\n  two: {image: busybox, command: sleep 100}\n  done: {image: busybox, command: "true"}\n' >"$WORK/a/compose.yaml"
printf 'services:\n  gone: {image: busybox, command: "true"}\n' >"$WORK/b/compose.yaml"
(cd "$WORK/a" && "$BERTH" -p "$a" up -d >/dev/null 2>&1)
(cd "$WORK/b" && "$BERTH" -p "$b" up -d >/dev/null 2>&1)
wait_until 10 sh -c "'$BERTH' -p $b ps -a | grep -q Exited"
wait_until 10 sh -c "'$BERTH' -p $a ps -a | grep -q Exited"

expect "ls lists running projects, their states and compose files" 0 \
	"^$a +running\\(2\\), exited\\(1\\) +$WORK/a/compose.yaml\$" "$BERTH" ls
check "... with docker compose's header" grep -Eq '^NAME +STATUS +CONFIG FILES$' "$WORK/out"
check "... and not a project whose containers all stopped" sh -c "! grep -q '^$b ' '$WORK/out'"
expect "ls -a lists stopped projects too" 0 "^$b +exited\\(1\\) +$WORK/b/compose.yaml\$" "$BERTH" ls -a
expect "ls -q prints names only" 0 "^$a\$" "$BERTH" ls -q --filter "name=$a"
expect "ls --format json" 0 "^\\[\\{\"Name\": ?\"$a\", ?\"Status\": ?\"running\\(2\\), exited\\(1\\)\", ?\"ConfigFiles\": ?\"$WORK/a/compose.yaml\"\\}\\]\$" \
	"$BERTH" ls --format json --filter "name=$a"
expect "ls --filter takes name= only" 2 'filter takes name=NAME' "$BERTH" ls --filter status=running
expect "ls --format takes table or json" 2 'format takes table or json' "$BERTH" ls --format yaml

(cd "$WORK/a" && "$BERTH" -p "$a" down -t 0 >/dev/null 2>&1)
(cd "$WORK/b" && "$BERTH" -p "$b" down -t 0 >/dev/null 2>&1)
none_match "after down, ls -a has neither" "^($a|$b)\$" "$BERTH" ls -a -q

# down --rmi: local takes the images built for services without image:, all every service's
c=berthclic$$
mkdir -p "$WORK/c/ctx" && printf 'FROM busybox\nRUN echo built >/built\n' >"$WORK/c/ctx/Dockerfile"
printf 'services:\n  built: {build: ./ctx, command: sleep 100}\n  named: {build: ./ctx, image: example/rmi:1, command: sleep 100}\n' >"$WORK/c/compose.yaml"
cleanup_hooks+=("cd '$WORK/c' && '$BERTH' -p $c down -t 0 >/dev/null 2>&1")
cd "$WORK/c" || exit 1
"$BERTH" -p "$c" up -d >/dev/null 2>&1
expect "down --rmi local removes the built image named after the service" 0 "Image $c-built +Removed" "$BERTH" -p "$c" down -t 0 --rmi local
check "... and keeps the one the file names" sh -c "'$BERTH' image ls | grep -q '^example/rmi '"
"$BERTH" -p "$c" up -d >/dev/null 2>&1
expect "down --rmi all removes both" 0 "Image example/rmi:1 +Removed" "$BERTH" -p "$c" down -t 0 --rmi all
none_match "... (none of them is left)" "^(example/rmi|$c-built) " "$BERTH" image ls
expect "down --rmi takes local or all" 2 'rmi takes local or all' "$BERTH" -p "$c" down --rmi some
# an image another project's container uses is kept
"$BERTH" -p "$c" up -d >/dev/null 2>&1
printf 'services:\n  other: {image: example/rmi:1, command: sleep 100}\n' >"$WORK/other.yaml"
"$BERTH" -f "$WORK/other.yaml" -p "${c}o" up -d >/dev/null 2>&1
cleanup_hooks+=("'$BERTH' -f '$WORK/other.yaml' -p ${c}o down -t 0 >/dev/null 2>&1")
expect "down --rmi all says an image in use by another container, and goes on" 0 \
	'image example/rmi:1: image example/rmi:1 is used by a container; remove the container first' "$BERTH" -p "$c" down -t 0 --rmi all
check "... the other project's container still runs" sh -c "'$BERTH' -f '$WORK/other.yaml' -p ${c}o ps | grep -q Up"
check "... and its image is still there" sh -c "'$BERTH' image ls | grep -q '^example/rmi '"
expect "image rm of an image a container uses is refused" 1 'is used by a container' "$BERTH" image rm example/rmi:1
expect "image rm --force only untags it" 0 'Untagged: example/rmi:1' "$BERTH" image rm --force example/rmi:1
check "... and the container keeps running on its layers" sh -c "'$BERTH' -f '$WORK/other.yaml' -p ${c}o exec other ls /bin/sh >/dev/null"
"$BERTH" -f "$WORK/other.yaml" -p "${c}o" down -t 0 >/dev/null 2>&1
cd "$WORK" || exit 1
# the global flags
d=berthclid$$
mkdir -p "$WORK/d" && cd "$WORK/d" || exit 1
cleanup_hooks+=("cd '$WORK/d' && '$BERTH' -p $d down -v -t 0 >/dev/null 2>&1; '$BERTH' --compatibility -p ${d}c down -v -t 0 >/dev/null 2>&1")
printf 'services:\n  a: {image: busybox, command: sh -c "echo hello; sleep 100", volumes: [v:/v]}\n  b: {image: busybox, command: sleep 100, depends_on: [a]}\nvolumes: {v: {}, spare: {}}\nnetworks: {unused: {}}\n' >compose.yaml
expect "up --dry-run says what it would make" 0 "^DRY-RUN MODE -  Container $d-a-1  Created\$" "$BERTH" -p $d --dry-run up -d
check "... its network and volume too" sh -c "grep -q 'DRY-RUN MODE -  Network ${d}_default  Created' '$WORK/err' && grep -q 'DRY-RUN MODE -  Volume ${d}_v  Created' '$WORK/err'"
expect_quiet "... and makes nothing: no container" 0 "$BERTH" -p $d ps -aq
check "... no network, no volume" sh -c "! '$BERTH' network ls | grep -q ${d}_default && ! '$BERTH' volume ls | grep -q ${d}_v"
expect "--progress json gives one object per line" 0 "^\\{\"id\":\"Container $d-a-1\",\"status\":\"Started\"\\}\$" "$BERTH" -p $d --progress json up -d
expect "stop --dry-run says it" 0 "^DRY-RUN MODE -  Container $d-b-1  Stopped\$" "$BERTH" -p $d --dry-run stop
check "... and stops nothing" test "$("$BERTH" -p $d ps -q | wc -l)" -eq 2
expect "down --dry-run says what would go" 0 "^DRY-RUN MODE -  Network ${d}_default  Removed\$" "$BERTH" -p $d --dry-run down -v
check "... volumes with -v" grep -q "DRY-RUN MODE -  Volume ${d}_v  Removed" "$WORK/err"
check "... and removes nothing" sh -c "test \"\$('$BERTH' -p $d ps -q | wc -l)\" -eq 2 && '$BERTH' volume ls | grep -q ${d}_v"
expect "exec --dry-run says the command it would run" 0 "^DRY-RUN MODE -  Container $d-a-1  would run: touch /tmp/dryexec\$" "$BERTH" -p $d --dry-run exec a touch /tmp/dryexec
check "... and runs nothing" sh -c "! '$BERTH' -p $d exec a test -e /tmp/dryexec"
expect "attach --dry-run says it, attaching nothing" 0 "^DRY-RUN MODE -  Container $d-a-1  would be attached to\$" "$BERTH" -p $d --dry-run attach a
expect "wait --dry-run --down-project waits for nothing and says what down would remove" 0 "^DRY-RUN MODE -  Network ${d}_default  Removed\$" timeout 20 "$BERTH" -p $d --dry-run wait --down-project a
check "... having said the container it would wait for" grep -q "DRY-RUN MODE -  Container $d-a-1  would be waited for" "$WORK/err"
check "... and removed nothing" test "$("$BERTH" -p $d ps -q | wc -l)" -eq 2
mkdir -p src && printf 'services:\n  a:\n    image: busybox\n    develop: {watch: [{action: sync, path: ./src, target: /src}]}\n' >dry3.yaml
expect "watch --dry-run says its rules and ends" 0 "^DRY-RUN MODE -  Watch a  would sync on changes to $WORK/d/src into /src\$" timeout 20 "$BERTH" -f dry3.yaml -p ${d}w --dry-run watch --no-up
expect "run --dry-run says the one-off it would make" 0 "^DRY-RUN MODE -  Container $d-a-run-[0-9a-f]{12}  Started\$" "$BERTH" -p $d --dry-run run a true
check "... and makes none" test "$("$BERTH" -p $d ps -aq | wc -l)" -eq 2
expect "scale --dry-run says the replica it would add" 0 "^DRY-RUN MODE -  Container $d-a-2  Created\$" "$BERTH" -p $d --dry-run scale a=2
check "... and adds none" test "$("$BERTH" -p $d ps -aq | wc -l)" -eq 2
echo hello >dryfile
expect "cp --dry-run says the copy" 0 "^DRY-RUN MODE -  Copy dryfile to $d-a-1:/tmp/  Copied\$" "$BERTH" -p $d --dry-run cp dryfile a:/tmp/
check "... and copies nothing" sh -c "! '$BERTH' -p $d exec a test -e /tmp/dryfile"
mkdir -p dryctx && printf 'FROM busybox\n' >dryctx/Dockerfile
printf 'services:\n  bb: {build: ./dryctx}\n  far: {image: "127.0.0.1:9/none/img:1"}\n' >dry2.yaml
expect "build --dry-run says the image it would build" 0 "^DRY-RUN MODE -  Image ${d}b-bb  Built\$" "$BERTH" -f dry2.yaml -p ${d}b --dry-run build
none_match "... and builds none" "^${d}b-bb " "$BERTH" image ls
expect "pull --dry-run says the image it would pull, reaching no registry" 0 "^DRY-RUN MODE -  Image 127.0.0.1:9/none/img:1  Pulled\$" "$BERTH" -f dry2.yaml -p ${d}b --dry-run pull far
expect "... as do a group's changing subcommands" 2 'dry-run is not supported by berth volume' "$BERTH" --dry-run volume rm ${d}_v
expect "... while reading ones run" 0 "${d}_v" "$BERTH" --dry-run volume ls
cleanup_hooks+=("cd '$WORK/d' && '$BERTH' -p ${d}t down -v -t 0 >/dev/null 2>&1")
run "$BERTH" -p ${d}t --progress tty up -d
check "--progress tty marks what is done, with how long it took" sh -c "grep -q '^ ✔ Container ${d}t-a-1  Started  [0-9]*\\.[0-9]s\$' '$WORK/err'"
run "$BERTH" -p ${d}t --progress tty down -v -t 1
check "... and what is under way" grep -q "^ ⠿ Container ${d}t-a-1  Stopping\$" "$WORK/err"
run "$BERTH" -p $d --progress quiet restart a
check "--progress quiet prints no progress" test "$RC" -eq 0 -a -z "$ERR"
expect "--ansi always colours logs off a terminal" 0 $'\033\\[' "$BERTH" -p $d --ansi always logs a
check "--ansi never does not" sh -c "'$BERTH' -p $d --ansi never logs a | grep -q hello && ! '$BERTH' -p $d --ansi never logs a | grep -qF \"\$(printf '\\033')\""
expect "--progress takes auto, tty, plain, quiet or json" 2 'progress takes auto, tty, plain, quiet or json' "$BERTH" --progress fancy ps
expect "--ansi takes never, always or auto" 2 'ansi takes never, always or auto' "$BERTH" --ansi sometimes ps
expect "--parallel takes a number" 2 'parallel takes a number' "$BERTH" --parallel x ps
expect "--parallel 1 starts one at a time" 0 "Container $d-b-1  Started" "$BERTH" -p $d --parallel 1 up -d --force-recreate
expect "--verbose is accepted" 0 "$d-a-1" "$BERTH" -p $d --verbose ps
"$BERTH" -p $d down -t 0 >/dev/null 2>&1
expect "--all-resources makes networks and volumes no service uses" 0 "Network ${d}_unused  Created" "$BERTH" -p $d --all-resources up -d
check "... the unused volume too" sh -c "'$BERTH' volume ls | grep -q ${d}_spare"
"$BERTH" -p $d down -v -t 0 >/dev/null 2>&1
expect "--compatibility names containers as docker-compose v1" 0 "Container ${d}c_a_1  Started" "$BERTH" --compatibility -p ${d}c up -d
expect "... and finds them again" 0 "^${d}c_a_1\$" "$BERTH" --compatibility -p ${d}c ps --format '{{.Name}}' a
"$BERTH" --compatibility -p ${d}c down -v -t 0 >/dev/null 2>&1
cd "$WORK" || exit 1
expect "version --short prints the number only" 0 '^[0-9]+\.[0-9]+\.[0-9]+$' "$BERTH" version --short
expect "version --format json" 0 '^\{"version":"[0-9.]+"\}$' "$BERTH" version --format json
expect "version --format takes a template" 0 '^v[0-9.]+$' "$BERTH" version --format 'v{{.Version}}'
expect "version --format refuses what it does not know" 2 'format takes table, json or a template' "$BERTH" version --format yaml
# Output that cannot be written fails the command, as git's builtins do.
expect "version onto a full disk exits 1, saying why" 1 'cannot write the output: No space left on device' \
	sh -c "'$BERTH' version >/dev/full"
expect "so does ls" 1 'cannot write the output' sh -c "'$BERTH' ls -a >/dev/full"
check_no_leaks "after ls"
