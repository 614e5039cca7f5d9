#!/bin/bash
# The docker compose commands berth gained for the whole CLI: pause and
# unpause, create, wait, images (the project's), stats, cp (both ways,
# running and stopped, and as an attacker inside the container would try
# it), ps with ids, filters and templates, and run under a terminal.
. "$(dirname "$0")/lib.sh"
proj=berthcmds$$
cleanup_hooks+=("cd '$WORK' && '$BERTH' -p $proj down -v -t 0 >/dev/null 2>&1")
load_busybox || not_ok "the busybox image loads"
cd "$WORK" || exit 1
export COMPOSE_PROJECT_NAME=$proj
cat >compose.yaml <<'YAML'
services:
  web:
    image: busybox
    command: sh -c 'i=0; while true; do i=$$((i+1)); echo $$i >/tmp/tick; sleep 0.1; done'
    labels: {tier: front}
    volumes: [data:/data, ro:/ro:ro]
  job:
    image: busybox
    command: sh -c 'sleep 1; exit 3'
  exp:
    image: busybox
    command: sleep 100
    expose: ["80"]
volumes: {data: {}, ro: {}}
YAML

# create: containers made, nothing started
expect "create makes the containers" 0 "Container $proj-web-1 +Created" "$BERTH" create
expect "... and starts none" 0 "^$proj-web-1 +busybox .* Created" "$BERTH" ps -a
expect "create takes only its own flags" 2 'unknown flag: --detach' "$BERTH" create --detach
"$BERTH" start >/dev/null 2>&1

# ps: ids, filters, templates
expect "ps -q prints 64-hex container ids" 0 '^[0-9a-f]{64}$' "$BERTH" ps -q web
expect "ps --filter label= finds the labelled service" 0 "^$proj-web-1\$" "$BERTH" ps --filter label=tier=front --format '{{.Name}}'
expect_quiet "ps --filter label= with another value finds none" 0 "$BERTH" ps --filter label=tier=back --format '{{.Name}}'
expect "ps --format json is one object per line" 0 "^\\{\"Command\":.*\"Name\":\"$proj-web-1\".*\"State\":\"running\"" "$BERTH" ps --format json web
expect "ps --format table TEMPLATE has a header" 0 $'^NAME +RUNNING FOR\n' "$BERTH" ps --format 'table {{.Name}}\t{{.RunningFor}}' web
expect "ps --format with an unknown field is refused" 2 'no field Nope' "$BERTH" ps --format '{{.Nope}}'
expect "ps --format with an unknown action is refused" 2 'range' "$BERTH" ps --format '{{range .Labels}}{{end}}'
expect "ps --filter takes status= and label= only" 2 'filter takes status=STATE or label' "$BERTH" ps --filter name=x
expect "a --flag=false is taken as Go takes it" 0 "^$proj-web-1\$" "$BERTH" ps --orphans=false --format '{{.Name}}' web

# pause / unpause
expect "pause freezes the service" 0 "Container $proj-web-1 +Paused" "$BERTH" pause web
expect "ps shows it paused" 0 "Up .* \\(Paused\\)" "$BERTH" ps web
expect "ps --status paused finds it" 0 "^$proj-web-1\$" "$BERTH" ps --status paused --format '{{.Name}}'
tick() { "$BERTH" cp web:/tmp/tick - 2>/dev/null | tar xO 2>/dev/null || echo none; }
# nothing can be seen not to happen but over a while: half a second, five ticks
t1=$(tick)
sleep 0.5
t2=$(tick)
check "... and nothing in it runs" test "$t1" = "$t2" -a "$t1" != none
expect "exec into a paused container is refused" 1 'is paused; unpause it first' "$BERTH" exec web true
expect "unpause resumes it" 0 "Container $proj-web-1 +Unpaused" "$BERTH" unpause web
check "... and it runs again" wait_until 10 sh -c "$(declare -f tick); BERTH='$BERTH'; test \"\$(tick)\" != '$t2'"
"$BERTH" pause web >/dev/null 2>&1
expect "a paused container stops" 0 "Container $proj-web-1 +Stopped" "$BERTH" stop -t 1 web
"$BERTH" start web >/dev/null 2>&1

# images: the project's
expect "images lists the project's containers' images" 0 "^$proj-web-1 +busybox +latest +linux/" "$BERTH" images
expect "images -q prints their ids" 0 '^sha256:[0-9a-f]{64}$' "$BERTH" images -q

# stats
expect "stats --no-stream shows the running containers' use" 0 "$proj-web-1 +[0-9.]+% +[0-9.]+[KMG]?i?B / " "$BERTH" stats --no-stream
expect "stats --format json" 0 "\"MemUsage\":\"[0-9.]+[KMG]?i?B / [0-9.]+[KMG]iB\".*\"Name\":\"$proj-web-1\".*\"PIDs\":\"[1-9]" "$BERTH" stats --no-stream --format json web
expect "stats takes templates" 0 "^$proj-web-1 [1-9]" "$BERTH" stats --no-stream --format '{{.Name}} {{.PIDs}}' web

# inspect: docker's shape
"$BERTH" inspect "$proj-web-1" >inspect.json 2>/dev/null
id=$("$BERTH" ps -q web)
check "inspect gives the container's id" test "$(jq -r '.[0].Id' inspect.json)" = "$id"
check "... State, Config.Labels, HostConfig, NetworkSettings, Mounts" test "$(jq -r '.[0] | [.State.Status, .State.Paused, .Config.Labels.tier, .HostConfig.RestartPolicy.Name, (.NetworkSettings.Networks | keys[0]), (.Mounts[] | select(.Destination == "/ro") | .RW)] | join(" ")' inspect.json)" = "running false front no ${proj}_default false"
check "... the container's address on its network" sh -c "jq -r '.[0].NetworkSettings.Networks[].IPAddress' inspect.json | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+\$'"
expect "inspect takes an id prefix, as docker does" 0 "\"Name\": \"/$proj-web-1\"" "$BERTH" inspect "${id:0:12}"
expect "an unknown id is said" 1 'no such container' "$BERTH" inspect 0000000000ff

# cp, both ways
mkdir -p h/dir/sub && echo one >h/file && echo two >h/dir/sub/f && chown 1234:55 h/dir/sub/f
expect_quiet "cp a file into a container" 0 "$BERTH" cp h/file web:/tmp/
expect "... it is there" 0 '^one$' "$BERTH" exec web cat /tmp/file
"$BERTH" cp h/dir web:/tmp/newdir >/dev/null 2>&1
expect "cp a directory to a new name; owners become root's" 0 ' 0 +0 .* f$' "$BERTH" exec web ls -ln /tmp/newdir/sub
"$BERTH" cp -a h/dir web:/data/ >/dev/null 2>&1
expect "cp -a into a volume keeps the owners" 0 ' 1234 +55 .* f$' "$BERTH" exec web ls -ln /data/dir/sub
expect "cp into a read-only volume fails" 1 '/ro/ is on a read-only filesystem' "$BERTH" cp h/file web:/ro/
"$BERTH" exec web sh -c 'mkdir -p /x/y && echo inside >/x/y/z && ln -s /etc/passwd /x/link' >/dev/null
expect_quiet "cp a directory out" 0 "$BERTH" cp web:/x h/out
check "... with its files and its symlink as a symlink" sh -c "test \"\$(cat h/out/y/z)\" = inside && test \"\$(readlink h/out/link)\" = /etc/passwd"
"$BERTH" cp web:/x/. h/contents >/dev/null 2>&1
check "cp SRC/. copies the contents" sh -c "test -f h/contents/y/z -a -L h/contents/link -a ! -e h/contents/x"
"$BERTH" cp -L web:/x/link h/passwd >/dev/null 2>&1
check "cp -L follows the link inside the container (busybox's passwd, not the host's)" grep -q '^root:x:0:0:root:/root:/bin/sh$' h/passwd
expect "cp SRC - writes a tar stream" 0 '^x/y/z$' sh -c "'$BERTH' cp web:/x - | tar t"
"$BERTH" exec web mkdir /tmp/fromtar >/dev/null
tar -C h -cf - file | "$BERTH" cp - web:/tmp/fromtar >/dev/null 2>&1
expect "cp - DEST extracts a tar stream" 0 '^one$' "$BERTH" exec web cat /tmp/fromtar/file
expect "a container path without a slash is the container's, relative to its /" 0 '^one$' sh -c "cd / && '$BERTH' -f '$WORK/compose.yaml' cp web:tmp/file - | tar xO"
expect "a missing source is named" 1 '/nonexistent: No such file or directory' "$BERTH" cp web:/nonexistent h/
expect "cp needs one side in a service" 2 'one side must be SERVICE:PATH' "$BERTH" cp h/file h/file2
"$BERTH" stop -t 0 web >/dev/null 2>&1
expect_quiet "cp into a stopped container" 0 "$BERTH" cp h/file web:/stopped-file
"$BERTH" cp web:/data/dir/sub/f h/fromvol >/dev/null 2>&1
check "cp out of a stopped container's volume" grep -qx two h/fromvol
check "... leaving no mount behind" sh -c "! grep -q '$BERTH_ROOT/containers/$proj-web-1' /proc/mounts"
"$BERTH" start web >/dev/null 2>&1
expect "what went into the stopped container is there once it runs" 0 '^one$' "$BERTH" exec web cat /stopped-file

# cp as an attacker in the container would have it: symlinks pointing at
# the host's / or /etc, and /proc's magic links, all stay inside
"$BERTH" exec web sh -c 'ln -s / /tmp/rootlink; ln -s /proc/1/root /tmp/proclink; ln -s /etc /tmp/etclink' >/dev/null
echo pwned >h/pwned
"$BERTH" cp h/pwned web:/tmp/rootlink/etc/ >/dev/null 2>&1
check "cp into a symlink to / writes the container's /etc, not the host's" sh -c "test ! -e /etc/pwned && '$BERTH' exec web test -f /etc/pwned"
"$BERTH" cp h/pwned web:/tmp/etclink/pwned2 >/dev/null 2>&1
check "... likewise through a symlink to /etc" sh -c "test ! -e /etc/pwned2"
"$BERTH" cp h/pwned web:/tmp/proclink/pwned3 >/dev/null 2>&1
check "... and through /proc/1/root" sh -c "test ! -e /pwned3"
"$BERTH" cp -L web:/tmp/etclink/hostname h/hn >/dev/null 2>&1
check "cp out through a symlink to /etc reads the container's file" sh -c \
	"test -s h/hn && test \"\$(cat h/hn)\" = \"\$('$BERTH' exec -T web cat /etc/hostname)\" && ! cmp -s h/hn /etc/hostname"
"$BERTH" exec web sh -c 'mkdir -p /esc && ln -s /etc/shadow /esc/shadow' >/dev/null
"$BERTH" cp web:/esc h/esc >/dev/null 2>&1
check "a symlink copied out stays a symlink (berth never reads the host file it names)" sh -c "test -L h/esc/shadow && test \"\$(readlink h/esc/shadow)\" = /etc/shadow"
# another host user reaches the compose file (only berth's own modes may stop them)
chmod 755 "$WORK" && chmod 644 "$WORK/compose.yaml"
check "(another host user can read the compose file)" su nobody -s /bin/sh -c "cat '$WORK/compose.yaml' >/dev/null"
expect "an unprivileged host user cannot cp out of a container: the state root refuses them" 1 \
	"cannot use the state root $BERTH_ROOT: Permission denied" su nobody -s /bin/sh -c \
	"BERTH_ROOT='$BERTH_ROOT' '$BERTH' -p $proj -f '$WORK/compose.yaml' cp web:/etc/hostname /tmp/berth-cp-$$ 2>&1; test -e /tmp/berth-cp-$$ && echo leaked"
chmod 700 "$WORK"
rm -f /tmp/berth-cp-$$

# attach: input and output joined to a running container's, through its shim
cat >attach.yaml <<'YAML'
services:
  echo:
    image: busybox
    stdin_open: true
    init: true
    command: sh -c 'while read l; do [ "$$l" = quit ] && exit 7; echo "got $$l"; echo "err $$l" >&2; done'
  term:
    image: busybox
    stdin_open: true
    tty: true
    command: sh
YAML
"$BERTH" -f attach.yaml up -d echo term >/dev/null 2>&1
expect "attach joins stdin and stdout to the container's" 7 '^got hello$' sh -c "(printf 'hello\\n'; sleep 1; printf 'quit\\n') | '$BERTH' -f attach.yaml attach echo"
check "... and its stderr to berth's stderr" grep -qx 'err hello' "$WORK/err"
"$BERTH" -f attach.yaml up -d echo >/dev/null 2>&1
expect "the detach keys detach, leaving it running" 0 'read escape sequence' sh -c "printf 'one\\nab' | '$BERTH' -f attach.yaml attach --detach-keys a,b echo"
expect "... it still runs" 0 "$proj-echo-1 .*Up" "$BERTH" -f attach.yaml ps echo
sleep 10 | "$BERTH" -f attach.yaml attach echo >/dev/null 2>&1 &
apid=$!
check "(attach is connected to the container's shim)" wait_until 10 attached "$proj-echo-1"
kill -TERM "$apid"
wait "$apid"
check "a signal to attach goes on to the container (sig-proxy): attach ends with 143" test $? -eq 143
expect "... and so did the container, by that signal" 0 "$proj-echo-1 .*Exited \(143\)" \
	sh -c "$(declare -f wait_until); wait_until 10 sh -c \"'$BERTH' -f attach.yaml ps -a echo | grep -q Exited\"; '$BERTH' -f attach.yaml ps -a echo"
expect "attach under a terminal to a tty container is interactive" 3 'hi-2' \
	sh -c "($(declare -f wait_until attached); BERTH_ROOT='$BERTH_ROOT' wait_until 10 attached '$proj-term-1'; printf 'echo hi-\$((1+1)); exit 3\\r'; sleep 2) | script -qec \"'$BERTH' -f attach.yaml attach term\" /dev/null"
"$BERTH" -f attach.yaml up -d term >/dev/null 2>&1
expect "attach gives the container's terminal the size of its own" 0 'size-33-77' \
	sh -c "($(declare -f wait_until attached); BERTH_ROOT='$BERTH_ROOT' wait_until 10 attached '$proj-term-1'; printf 'echo size-\$(stty size | tr \" \" -); exit 0\\r'; sleep 2) | script -qec \"stty rows 33 cols 77; '$BERTH' -f attach.yaml attach term\" /dev/null"
"$BERTH" -f attach.yaml up -d echo >/dev/null 2>&1
run sh -c "printf 'hello\\n' | timeout 2 '$BERTH' -f attach.yaml attach --no-stdin --sig-proxy=false --index 1 echo"
check "attach --no-stdin passes no input; --sig-proxy=false: a signal ends attach, not the container" sh -c \
	"test $RC -eq 124 && ! grep -q 'got hello' '$WORK/out' && '$BERTH' -f attach.yaml ps echo | grep -q Up"
"$BERTH" -f attach.yaml stop -t 0 echo >/dev/null 2>&1
expect "attach to a service with no running container says so" 1 'has no running container number 1' "$BERTH" -f attach.yaml attach echo
expect "--detach-keys are checked" 2 'detach-keys takes keys' "$BERTH" -f attach.yaml attach --detach-keys ctrl-longname echo
"$BERTH" -f attach.yaml down -t 0 >/dev/null 2>&1

# watch: develop.watch with inotify (sync, sync+exec, restart, rebuild; initial_sync, ignore)
mkdir -p wsrc/skip wsrc/conf wrestart wctx && echo v1 >wsrc/a.txt && echo keep >wsrc/pre.txt
printf 'FROM busybox\nCOPY stamp /stamp\n' >wctx/Dockerfile && echo build1 >wctx/stamp
cat >watch.yaml <<'YAML'
services:
  syncer:
    image: busybox
    command: sleep 300
    develop:
      watch:
        - {path: ./wsrc, action: sync, target: /app, initial_sync: true, ignore: [skip/]}
        - {path: ./wsrc/conf, action: sync+exec, target: /conf, exec: {command: "touch /tmp/reloaded"}}
  restarter:
    image: busybox
    command: sleep 300
    develop:
      watch:
        - {path: ./wrestart, action: restart}
  rebuilt:
    build: ./wctx
    command: sleep 300
    develop:
      watch:
        - {path: ./wctx, action: rebuild}
YAML
"$BERTH" -f watch.yaml watch >watch.log 2>&1 &
wpid=$!
cleanup_hooks+=("kill $wpid 2>/dev/null")
check "watch builds, starts and watches" wait_until 60 grep -q 'Watch enabled' watch.log
expect "initial_sync puts the files in the container" 0 '^keep$' "$BERTH" -f watch.yaml exec -T syncer cat /app/pre.txt
echo v2 >wsrc/a.txt && mkdir -p wsrc/new/deep && echo n >wsrc/new/deep/f && echo x >wsrc/skip/x
check "a changed file and a new directory are synced" wait_until 10 "$BERTH" -f watch.yaml exec -T syncer test -e /app/new/deep/f
expect "... with their content" 0 '^v2$' "$BERTH" -f watch.yaml exec -T syncer cat /app/a.txt
expect_quiet "an ignored directory is not" 0 "$BERTH" -f watch.yaml exec -T syncer sh -c 'ls /app | grep skip; true'
rm wsrc/pre.txt
check "a removed file is removed in the container" wait_until 10 "$BERTH" -f watch.yaml exec -T syncer test ! -e /app/pre.txt
echo c >wsrc/conf/c
check "sync+exec syncs, then runs the command" wait_until 10 "$BERTH" -f watch.yaml exec -T syncer test -e /tmp/reloaded -a -e /conf/c
started=$("$BERTH" -f watch.yaml inspect "$proj-restarter-1" | jq -r '.[0].State.StartedAt')
touch wrestart/x
check "restart restarts the container" wait_until 10 sh -c "test \"\$('$BERTH' -f watch.yaml inspect $proj-restarter-1 | jq -r '.[0].State.StartedAt')\" != '$started'"
echo build2 >wctx/stamp
check "rebuild builds the image again and recreates the service" wait_until 60 sh -c "'$BERTH' -f watch.yaml exec -T rebuilt cat /stamp | grep -qx build2"
check "watch says what it does" grep -q 'Syncing service "syncer" after' watch.log
kill -INT "$wpid"
wait "$wpid"
check "Ctrl-C ends watch, leaving the services running" test $? -eq 0 -a "$("$BERTH" -f watch.yaml ps -q syncer restarter rebuilt | wc -l)" -eq 3
"$BERTH" -f watch.yaml up --watch syncer >upwatch.log 2>&1 &
upid=$!
check "up --watch attaches and watches" wait_until 30 grep -q 'Watch enabled' upwatch.log
echo v3 >wsrc/a.txt
check "... and syncs" wait_until 10 sh -c "'$BERTH' -f watch.yaml exec -T syncer cat /app/a.txt | grep -qx v3"
kill -INT "$upid"
wait "$upid"
check "Ctrl-C stops what up --watch started, and its watcher" sh -c "'$BERTH' -f watch.yaml ps -a | grep -q '$proj-syncer-1 .*Exited' && ! pgrep -f 'watch.yaml up --watc[h]' >/dev/null"
check "... and not the services it did not attach to (up SERVICE)" sh -c "'$BERTH' -f watch.yaml ps restarter | grep -q '$proj-restarter-1 .*Up'"
expect "up --watch is not for -d" 2 'watch follows the files while attached' "$BERTH" -f watch.yaml up -d --watch
printf 'services:\n  plain: {image: busybox, command: sleep 1}\n' >nowatch.yaml
expect "watch without develop.watch says so" 1 'none of the selected services is configured for watch' "$BERTH" -f nowatch.yaml watch --no-up
printf 'services:\n  s:\n    image: busybox\n    develop: {watch: [{path: ./wsrc, action: sync}]}\n' >badwatch.yaml
expect "a sync rule without target is refused" 1 'badwatch.yaml:4:.*needs a target' "$BERTH" -f badwatch.yaml watch --no-up
"$BERTH" -f watch.yaml down -t 0 --rmi local >/dev/null 2>&1

# ipc and pid of another container (service: and container:), as Docker joins them
cat >ns.yaml <<'YAML'
services:
  main:
    image: busybox
    ipc: shareable
    command: sh -c 'echo main-shm >/dev/shm/mark; exec sleep 300'
  side:
    image: busybox
    ipc: service:main
    pid: service:main
    command: sleep 301
YAML
expect "ipc and pid service: start after the service they join" 0 "Container $proj-side-1 +Started" "$BERTH" -f ns.yaml up -d main side
check "ipc service: is the same IPC namespace" test "$("$BERTH" -f ns.yaml exec -T side readlink /proc/1/ns/ipc)" = "$("$BERTH" -f ns.yaml exec -T main readlink /proc/1/ns/ipc)"
expect "... with the same /dev/shm" 0 '^main-shm$' "$BERTH" -f ns.yaml exec -T side cat /dev/shm/mark
expect "pid service: sees the other container's processes" 0 'sleep 300' "$BERTH" -f ns.yaml exec -T side ps
"$BERTH" -f ns.yaml stop -t 0 main side >/dev/null 2>&1
expect "joining a container that is not running is refused" 1 "cannot join the (ipc|pid) namespace of $proj-main-1: it is not running" "$BERTH" -f ns.yaml start side
printf 'services:\n  s: {image: busybox, ipc: "container:../x"}\n' >badns.yaml
expect "a container: name with a slash is refused" 1 'names no container' "$BERTH" -f badns.yaml up -d
"$BERTH" -f ns.yaml down -t 0 >/dev/null 2>&1

# wait: the first container's exit code; --down-project takes it all down
expect "wait gives the exit code of the service's container" 3 '' "$BERTH" wait job
"$BERTH" restart job >/dev/null 2>&1
expect "wait --down-project takes the project down after the first stops" 3 "Container $proj-web-1 +Removed" "$BERTH" wait --down-project job web
expect_quiet "... nothing is left" 0 "$BERTH" ps -aq
expect "wait needs a service" 2 'give the services' "$BERTH" wait

# run under a terminal: interactive
expect "run --rm SERVICE sh under a terminal is interactive" 3 'hello-42' \
	sh -c "(printf 'tty; echo hello-\$((6*7)); exit 3\\n'; sleep 3) | script -qec \"'$BERTH' run --rm web sh\" /dev/null"
check "... the shell had a terminal" grep -q '^/dev/pts/' "$WORK/out"
expect "run -T gives it none" 1 'not a tty' sh -c "echo | script -qec \"'$BERTH' run --rm -T web tty\" /dev/null"
expect "run -t=false under a terminal gives none either" 1 'not a tty' sh -c "echo | script -qec \"'$BERTH' run --rm --tty=false web tty\" /dev/null"
expect "run -i=false gives the command no stdin" 0 '^empty$' sh -c "echo data | '$BERTH' run --rm -T --interactive=false web sh -c 'read l && echo \"\$l\" || echo empty'"
expect "run -i passes stdin (the default)" 0 '^data$' sh -c "echo data | '$BERTH' run --rm -T -i web sh -c 'read l && echo \"\$l\"'"
"$BERTH" up -d web job >/dev/null 2>&1
wait_until 10 sh -c "'$BERTH' ps -a job | grep -q Exited"
# Under a terminal whose input has ended (a script or CI step): the
# command's bytes and nothing else. The ^D that ended it, left in the
# terminal as it turned raw, came out as a NUL (^@) before the output.
for cmd in "run --rm web" "exec web"; do
	check "$cmd under a terminal gives exactly the command's bytes" sh -c \
		"test \"\$(script -qec \"'$BERTH' $cmd printf 'a b'\" /dev/null </dev/null | od -An -c | tr -s ' ')\" = ' a b'"
	expect "$cmd: a command reading stdin gets its end" 0 '^ended$' sh -c \
		"timeout 30 script -qec \"'$BERTH' $cmd cat\" /dev/null </dev/null >/dev/null && echo ended"
done
# Output that cannot be written is an error, not a silent success.
expect "exec onto a full disk exits 1, saying the output was lost" 1 'cannot write the output of the command in' \
	sh -c "'$BERTH' exec -T web echo hi >/dev/full"
expect "so does run" 1 'cannot write the output of' sh -c "'$BERTH' run --rm -T web echo hi >/dev/full"
"$BERTH" exec -T web sh -c 'echo logged >/proc/1/fd/1'
wait_until 10 sh -c "'$BERTH' logs web | grep -q logged"
expect "and logs" 1 'cannot write the output' sh -c "'$BERTH' logs web >/dev/full"
expect "exec --interactive=false gives the command no stdin" 0 '^empty$' sh -c "echo data | '$BERTH' exec -T --interactive=false web sh -c 'read l && echo \"\$l\" || echo empty'"
expect "exec -t=false under a terminal gives none" 1 'not a tty' sh -c "echo | script -qec \"'$BERTH' exec --tty=false web tty\" /dev/null"
expect "ps --no-trunc shows the whole command" 0 "while true; do i=" "$BERTH" ps --no-trunc web
expect "images takes templates" 0 '^busybox:latest$' "$BERTH" images --format '{{.Repository}}:{{.Tag}}' web
expect "stats -a shows stopped containers too" 0 "$proj-job-1 " "$BERTH" stats --no-stream -a
expect "stats --no-trunc shows whole ids" 0 '^[0-9a-f]{64} ' "$BERTH" stats --no-stream --no-trunc --format '{{.ID}} {{.Name}}' web
expect "--progress plain prints docker compose's plain lines" 0 "^Container $proj-web-1 Stopped\$" "$BERTH" --progress plain stop web
"$BERTH" down -t 0 >/dev/null 2>&1

# run's flags as docker compose run has them
port=$(free_port)
mkdir -p bind www && echo bound >bind/f && echo served >www/index.html && printf 'FROM_FILE=yes\n' >run.env
expect "run -v, --env-from-file, -e, --cap-drop, --cap-add" 0 \
	$'^bound\ntouch: /bind/x: Read-only file system\nyes 1\nchown: /tmp: Operation not permitted\nCapEff:\t00000000a80435fa$' \
	"$BERTH" run --rm -T -v "$WORK/bind:/bind:ro" -v data:/vol --cap-drop CHOWN --cap-add NET_ADMIN --env-from-file run.env \
	-e FROM_FLAG=1 web sh -c 'cat /bind/f; touch /bind/x 2>&1; echo $FROM_FILE $FROM_FLAG; chown 1 /tmp 2>&1; grep CapEff /proc/self/status'
"$BERTH" run -d --name "$proj-served" -p "127.0.0.1:$port:80" -v "$WORK/www:/www" -l team=ops web httpd -f -p 80 -h /www >/dev/null 2>&1
check "run -p publishes the port" wait_until 10 sh -c "wget -qO- http://127.0.0.1:$port/ | grep -q served"
expect "run -l labels the container" 0 "^$proj-served\$" "$BERTH" ps --filter label=team=ops --format '{{.Name}}'
expect "a one-off answers to its own name, not the service's" 0 'bad address' "$BERTH" run --rm -T web sh -c "ping -c1 -W1 web 2>&1; true"
"$BERTH" run -d --name "$proj-aliased" --use-aliases web sleep 30 >/dev/null 2>&1
expect "run --use-aliases: it answers to the service's name" 0 'bytes from' "$BERTH" run --rm -T web ping -c1 -W2 web
expect "run -P publishes the service's ports and expose on ephemeral ones" 0 "^$proj-pall 0\\.0\\.0\\.0:[0-9]+->80/tcp\$" sh -c \
	"'$BERTH' run -d --name $proj-pall -P exp sleep 30 >/dev/null 2>&1; '$BERTH' ps -a --format '{{.Name}} {{.Ports}}' exp"
expect "run of a command that is not in the image exits 127, as docker's" 127 'executable file not found' "$BERTH" run --rm -T web notthere
check "... and --rm takes away the container that could not start" sh -c "! '$BERTH' ps -a --no-trunc --format '{{.Command}}' | grep -q notthere"
expect "run --pull takes always, missing or never" 2 'pull takes always' "$BERTH" run --pull sometimes web true
expect_quiet "run -q prints only the command's output" 0 sh -c "'$BERTH' run --rm -q -T web true"
expect "run --remove-orphans removes a service the file lost" 0 "Container $proj-gone-1 +Removed" sh -c \
	"printf 'services:\n  gone: {image: busybox, command: sleep 30}\n' >gone.yaml; '$BERTH' -f compose.yaml -f gone.yaml up -d gone >/dev/null 2>&1; '$BERTH' run --rm -T --remove-orphans job true"

# start --wait, restart --no-deps, kill --remove-orphans, logs --index
"$BERTH" down -t 0 >/dev/null 2>&1
cat >deps.yaml <<'YAML'
services:
  db: {image: busybox, command: sleep 100, healthcheck: {test: ["CMD", "true"], interval: 1s, start_period: 0s}}
  app: {image: busybox, command: sh -c 'echo started-$$(cat /proc/sys/kernel/random/uuid); sleep 100', depends_on: {db: {condition: service_started, restart: true}}, scale: 2}
YAML
"$BERTH" -f deps.yaml create >/dev/null 2>&1
expect "start --wait waits for healthy" 0 "Container $proj-db-1 +Started" "$BERTH" -f deps.yaml start --wait --wait-timeout 20
expect "... and db is healthy once it returns" 0 'healthy' "$BERTH" -f deps.yaml ps db
expect "restart --no-deps leaves the dependents" 0 "Container $proj-db-1 +Started" "$BERTH" -f deps.yaml restart --no-deps db
check "... (app was not restarted)" sh -c "! grep -q 'app-1' '$WORK/err'"
expect "logs --index shows that replica only" 0 "^app-2 +\\| started-" "$BERTH" -f deps.yaml logs --index 2 app
check "... and not the other" sh -c "! grep -q 'app-1' '$WORK/out'"
"$BERTH" -f deps.yaml -f gone.yaml up -d gone >/dev/null 2>&1
expect "kill --remove-orphans" 0 "Container $proj-gone-1 +Removed" "$BERTH" -f deps.yaml kill --remove-orphans
"$BERTH" -f deps.yaml down -t 0 >/dev/null 2>&1
"$BERTH" down -v -t 0 >/dev/null 2>&1
check_no_leaks "after the commands"
