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
expect_quiet "after down, ls -a has neither" 0 sh -c "'$BERTH' ls -a -q | grep -E '^($a|$b)\$'; true"

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
check "... (none of them is left)" sh -c "! '$BERTH' image ls | grep -Eq '^(example/rmi|$c-built) '"
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
check_no_leaks "after ls"
