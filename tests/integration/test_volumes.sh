#!/bin/bash
# Volumes as a user's data lives in them: named volumes shared between
# services, kept by down, removed by down -v; copy-up of the image's files;
# bind mounts, tmpfs, anonymous volumes, volumes_from, secrets and configs;
# the volume commands; and kill -9 of up and down never losing data.
. "$(dirname "$0")/lib.sh"
export COMPOSE_PROJECT_NAME=berthvol$$
proj=$COMPOSE_PROJECT_NAME
cleanup_hooks+=("cd '$WORK/app' 2>/dev/null && '$BERTH' down -v -t 0 >/dev/null 2>&1")
cleanup_hooks+=("'$BERTH' volume rm -f berthextvol$$ >/dev/null 2>&1")

# an image with content where a volume goes: owners, modes, an xattr, a hard link
mkdir -p "$WORK/seed/data/sub"
echo seeded >"$WORK/seed/data/hello.txt"
echo deep >"$WORK/seed/data/sub/deep.txt"
chown -R 1000:1000 "$WORK/seed/data"
chmod 0750 "$WORK/seed/data"
chmod 0640 "$WORK/seed/data/hello.txt"
setfattr -n user.berth -v kept "$WORK/seed/data/hello.txt"
ln "$WORK/seed/data/hello.txt" "$WORK/seed/data/hard.txt"
load_busybox -t busybox:latest --add "$WORK/seed/data:/srv/data" || not_ok "the image loads"

mkdir -p "$WORK/app" && cd "$WORK/app"
echo "host file" >single.txt
echo "db-password" >pw.txt
export APP_TOKEN=tok-from-env
cat >compose.yaml <<'YAML'
services:
  writer:
    image: busybox
    init: true
    command: sh -c 'echo written-by-writer > /shared/w.txt; exec sleep 300'
    volumes: ["shared:/shared", "seeded:/srv/data", "/scratch"]
  reader:
    image: busybox
    init: true
    user: "1000"
    command: sleep 300
    depends_on: [writer]
    volumes:
      - type: volume
        source: shared
        target: /shared
        read_only: true
      - seeded:/srv/data
      - type: volume
        source: fresh
        target: /srv/data-nocopy
        volume: {nocopy: true}
      - ./single.txt:/etc/single.txt:ro,z
      - ./made-by-up:/made
      - type: tmpfs
        target: /tmp/small
        tmpfs: {size: 1m, mode: 0750}
    tmpfs: ["/run/short:size=512k"]
    secrets:
      - pw
      - {source: token, target: token, uid: "1000", mode: 0400}
      - {source: rootonly, mode: 0400}
    configs:
      - {source: appconf, target: /etc/app.conf}
  side:
    image: busybox
    init: true
    command: sleep 300
    volumes_from: ["writer:ro"]
volumes:
  shared: {}
  seeded: {labels: [kind=test]}
  fresh: {}
secrets:
  pw: {file: ./pw.txt}
  token: {environment: APP_TOKEN}
  rootonly: {file: ./pw.txt}
configs:
  appconf: {content: "key=value"}
YAML
expect "up -d creates the volumes" 0 "Volume ${proj}_shared  Created" "$BERTH" up -d
inside() { "$BERTH" exec -T "$@"; }
wait_until 5 sh -c "'$BERTH' exec -T reader cat /shared/w.txt" >/dev/null
expect "data written by one service is read by another" 0 "^written-by-writer$" inside reader cat /shared/w.txt
expect "a read-only volume refuses writes" 1 "Read-only file system" inside reader touch /shared/x

# copy-up
expect "copy-up brings the image's files" 0 "^deep$" inside reader cat /srv/data/sub/deep.txt
expect "with their owners and modes" 0 "^-rw-r----- +2 1000 +1000 .*hello.txt" sh -c "'$BERTH' exec -T writer ls -ln /srv/data | grep hello"
expect "the volume's root takes the image directory's owner and mode" 0 "^1000:1000 750$" inside writer stat -c '%u:%g %a' /srv/data
expect "hard links stay linked (both names, one inode)" 0 "^ *2 [0-9]+$" sh -c "'$BERTH' exec -T writer stat -c %i /srv/data/hard.txt /srv/data/hello.txt | uniq -c"
check "and the inode numbers agree" sh -c "[ \$('$BERTH' exec -T writer ls -i /srv/data/hard.txt | cut -d' ' -f1) = \$('$BERTH' exec -T writer ls -i /srv/data/hello.txt | cut -d' ' -f1) ]"
expect "xattrs are copied" 0 'user.berth="kept"' getfattr -n user.berth "$BERTH_ROOT/volumes/${proj}_seeded/_data/hello.txt"
expect_quiet "nocopy leaves a new volume empty" 0 inside reader ls -A /srv/data-nocopy

# binds and tmpfs
expect "a single file can be bound" 0 "^host file$" inside reader cat /etc/single.txt
expect "a read-only bind refuses writes" 1 "Read-only file system" inside reader sh -c 'echo x > /etc/single.txt'
check "a missing host directory of the short syntax is created" test -d "$WORK/app/made-by-up"
expect "a tmpfs respects its size" 1 "No space left on device" inside -u 0 reader dd if=/dev/zero of=/tmp/small/f bs=1k count=2048
expect "and its mode" 0 "^750$" inside reader stat -c %a /tmp/small
expect "a short tmpfs respects its size too" 1 "No space left on device" inside reader dd if=/dev/zero of=/run/short/f bs=1k count=1024

# secrets and configs
expect "a secret from a file is at /run/secrets/NAME" 0 "^db-password$" inside reader cat /run/secrets/pw
expect "a secret from the environment, at its target, for its uid" 0 "^tok-from-env$" inside reader cat /run/secrets/token
expect "its owner and mode are as given" 0 "^-r-------- +1 1000 +0 " sh -c "'$BERTH' exec -T reader ls -ln /run/secrets/token"
expect "a secret readable only by root is not readable by uid 1000" 1 "Permission denied" inside reader cat /run/secrets/rootonly
expect "a config's content is at its target" 0 "^key=value$" inside reader cat /etc/app.conf
expect "secrets are read-only" 1 "Read-only file system" inside -u 0 reader sh -c 'echo x > /run/secrets/pw'

# volumes_from
expect "volumes_from shares the other container's volumes" 0 "^written-by-writer$" inside side cat /shared/w.txt
expect "read-only with :ro" 1 "Read-only file system" inside side touch /shared/y

printf 'services:\n  c: {image: busybox, init: true, command: sleep 300, volumes_from: ["container:%s-writer-1"]}\n' "$proj" >vf.yaml
"$BERTH" -p "${proj}vf" -f vf.yaml up -d >/dev/null 2>&1
expect "volumes_from container: shares that container's volumes" 0 "^written-by-writer$" "$BERTH" -p "${proj}vf" -f vf.yaml exec -T c cat /shared/w.txt
"$BERTH" -p "${proj}vf" -f vf.yaml down -t 0 >/dev/null 2>&1

# volume commands
expect "volume ls lists them" 0 "local +${proj}_shared" "$BERTH" volume ls
expect "volume ls --format json" 0 "\"name\":\"${proj}_seeded\"" "$BERTH" volume ls --format json
expect "volume inspect shows labels and users" 0 "\"kind\": \"test\"" "$BERTH" volume inspect "${proj}_seeded"
expect "an in-use volume cannot be removed, naming its container" 1 \
	"volume ${proj}_shared is in use by container ${proj}-reader-1, ${proj}-side-1, ${proj}-writer-1; remove the container first" \
	"$BERTH" volume rm "${proj}_shared"
expect "nor with --force, as under Docker" 1 "volume ${proj}_shared is in use by container" "$BERTH" volume rm -f "${proj}_shared"
check "and its data is all there" test -s "$BERTH_ROOT/volumes/${proj}_shared/_data/w.txt"
expect "volume rm -f of a volume that does not exist is no error" 0 "^${proj}_nosuch$" "$BERTH" volume rm -f "${proj}_nosuch"

# anonymous volumes live across recreation
inside writer sh -c 'echo kept-anon > /scratch/k'
sed -i 's/written-by-writer/written-again/' compose.yaml
expect "a changed service is recreated" 0 "${proj}-writer-1  Recreate" "$BERTH" up -d
expect "and keeps its anonymous volume" 0 "^kept-anon$" inside writer cat /scratch/k

# down keeps, up finds, down -v removes
sum_before=$(inside writer sh -c 'cat /shared/w.txt /srv/data/hello.txt' | md5sum)
expect "down keeps named volumes" 0 "Network ${proj}_default  Removed" "$BERTH" down -t 0
check "the data is still on disk" test -s "$BERTH_ROOT/volumes/${proj}_shared/_data/w.txt"
# the anonymous volume of the removed container stays, unused, as Docker leaves it
anon=$("$BERTH" volume ls -q | grep -E '^[0-9a-f]{64}$')
check "down keeps the anonymous volume of the removed container" test "$(echo "$anon" | wc -w)" -eq 1
"$BERTH" up -d >/dev/null 2>&1
wait_until 5 sh -c "'$BERTH' exec -T reader cat /shared/w.txt" >/dev/null
check "up again finds the same data" test "$(inside writer sh -c 'cat /shared/w.txt /srv/data/hello.txt' | md5sum)" = "$sum_before"
expect "down -v removes the named volumes" 0 "Volume ${proj}_shared  Removed" "$BERTH" down -v -t 0
check "and their data" test ! -e "$BERTH_ROOT/volumes/${proj}_shared"
check "and the anonymous volumes of its containers" test -z "$("$BERTH" volume ls -q | grep -v "^$anon$" | grep -E '^[0-9a-f]{64}$')"
expect "volume prune removes anonymous volumes nobody uses" 0 "^$anon$" "$BERTH" volume prune

# external volumes and driver_opts
expect "an external volume that does not exist is refused" 1 "volume berthextvol$$ is declared as external, but could not be found" \
	sh -c "printf 'services:\n  a: {image: busybox, command: sleep 1, volumes: [\"e:/e\"]}\nvolumes:\n  e: {external: true, name: berthextvol$$}\n' | '$BERTH' -f - up -d"
expect "volume create makes one" 0 "^berthextvol$$$" "$BERTH" volume create --label made=by-hand berthextvol$$
mkdir -p "$WORK/device"
cat >ext.yaml <<YAML
services:
  a:
    image: busybox
    init: true
    command: sh -c 'echo into-ext > /e/f; echo into-device > /d/f; exec sleep 300'
    volumes: ["e:/e", "dev:/d"]
volumes:
  e: {external: true, name: berthextvol$$}
  dev:
    driver_opts: {type: none, o: bind, device: $WORK/device}
YAML
"$BERTH" -f ext.yaml up -d >/dev/null 2>&1
wait_until 5 test -s "$WORK/device/f"
check "a volume with driver_opts o=bind writes to its device" grep -qx into-device "$WORK/device/f"
"$BERTH" -f ext.yaml down -v -t 0 >/dev/null 2>&1
check "down -v never removes an external volume" grep -qx into-ext "$BERTH_ROOT/volumes/berthextvol$$/_data/f"
expect "volume rm removes it once unused" 0 "^berthextvol$$$" "$BERTH" volume rm berthextvol$$
expect "a bind whose source is missing, in the long syntax, is refused" 1 "bind source path $WORK/app/nothere does not exist" \
	sh -c "printf 'services:\n  a:\n    image: busybox\n    volumes: [{type: bind, source: ./nothere, target: /x}]\n' >bad.yaml && '$BERTH' -f bad.yaml up -d"
check "and nothing was made for it" test ! -e "$WORK/app/nothere"

# mistakes a user can make, each refused with what to do, nothing left
printf 'services:\n  a: {image: busybox, command: sleep 1, volumes: ["v:/v"]}\nvolumes:\n  v: {name: "-bad"}\n' >badname.yaml
expect "a volume name Docker would refuse is refused with its line" 1 'badname.yaml:4:13: volumes.v.name: "-bad" is not a valid name: use letters, digits' "$BERTH" -f badname.yaml up -d
printf 'services:\n  a: {image: busybox, command: sleep 1, secrets: [s]}\nsecrets:\n  s: {environment: BERTH_UNSET_%s}\n' $$ >unset.yaml
expect "a secret from an unset variable is refused" 1 "secret s: environment variable BERTH_UNSET_$$ is not set; set it where berth runs" \
	"$BERTH" -f unset.yaml up -d
printf 'services:\n  a: {image: busybox, command: sleep 1, volumes_from: ["container:berth-nothere-%s"]}\n' $$ >vfmissing.yaml
expect "volumes_from a container that does not exist is refused" 1 "there is no container berth-nothere-$$ to take volumes from" \
	"$BERTH" -f vfmissing.yaml up -d
# (by the project's name: the file that was refused cannot be loaded)
bad_project=$(basename "$PWD")
bad_project=${COMPOSE_PROJECT_NAME:-$bad_project}
for f in badname unset vfmissing; do
	none_match "and $f.yaml left no container" "^$bad_project-a-" sh -c "cd / && '$BERTH' -p '$bad_project' ps -a --format '{{.Name}}'"
	"$BERTH" -f $f.yaml down >/dev/null 2>&1
done

# rm -v takes a container's anonymous volumes with it
printf 'services:\n  a: {image: busybox, init: true, command: sleep 300, volumes: ["/scratch"]}\n' >anon.yaml
"$BERTH" -p "${proj}an" -f anon.yaml up -d >/dev/null 2>&1
before=$("$BERTH" volume ls -q | wc -l)
expect "rm -s -v removes the container" 0 "Removed" "$BERTH" -p "${proj}an" -f anon.yaml rm -s -f -v a
check "and its anonymous volume" test "$("$BERTH" volume ls -q | wc -l)" -eq $((before - 1))
"$BERTH" -p "${proj}an" -f anon.yaml down -t 0 >/dev/null 2>&1

# kill -9 of every berth process (berth, shims, DNS responder) mid-up and
# mid-down never deletes or empties a named volume
cat >compose.yaml <<'YAML'
services:
  keeper:
    image: busybox
    init: true
    command: sleep 300
    volumes: ["precious:/data"]
  other:
    image: busybox
    init: true
    command: sleep 300
    volumes: ["precious:/data:ro", "/anon"]
volumes:
  precious: {}
YAML
"$BERTH" up -d >/dev/null 2>&1
inside keeper sh -c 'for i in $(seq 1 200); do echo "line $i" >> /data/log; done; mkdir -p /data/d; echo x > /data/d/y'
sum=$(cd "$BERTH_ROOT/volumes/${proj}_precious/_data" && find . -type f | sort | xargs md5sum | md5sum)
intact=0
for i in $(seq 1 12); do
	delay=$(printf '0.%03d' $((i * 13)))
	if [ $((i % 2)) -eq 0 ]; then "$BERTH" up -d >/dev/null 2>&1 & else "$BERTH" down -t 0 >/dev/null 2>&1 & fi
	pid=$!
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null
	# and every other berth process of this state root: shims, the DNS responder
	for other in $(pgrep -f "berth-shi[m] (dns )?$BERTH_ROOT"); do kill -9 "$other" 2>/dev/null; done
	wait "$pid" 2>/dev/null
	now=$(cd "$BERTH_ROOT/volumes/${proj}_precious/_data" 2>/dev/null && find . -type f | sort | xargs md5sum | md5sum)
	[ "$now" = "$sum" ] && intact=$((intact + 1))
done
check "after 12 kill -9s of up and down, the volume's data is intact each time ($intact)" test "$intact" -eq 12
"$BERTH" up -d >/dev/null 2>&1
check "and a normal up sees it" test "$(inside keeper tail -1 /data/log)" = "line 200"
"$BERTH" down -v -t 0 >/dev/null 2>&1
check "down -v removes it at last" test ! -e "$BERTH_ROOT/volumes/${proj}_precious"

# a project whose compose file is gone: -p names it, as in docker compose
"$BERTH" up -d >/dev/null 2>&1
mkdir -p "$WORK/nofile" && cd "$WORK/nofile"
expect "without a file or a name, down says what it looked for" 1 'no compose file found' \
	env -u COMPOSE_PROJECT_NAME "$BERTH" down
expect "ps -p NAME without the file lists the project's containers" 0 "^$proj-keeper-1 " \
	env -u COMPOSE_PROJECT_NAME "$BERTH" -p "$proj" ps
expect "down -v -p NAME without the file removes them" 0 "Container $proj-keeper-1  Removed" \
	env -u COMPOSE_PROJECT_NAME "$BERTH" -p "$proj" down -v -t 0
none_match "and the project's network" "^${proj}_" "$BERTH" network ls -q
check "and the project's volume" test ! -e "$BERTH_ROOT/volumes/${proj}_precious"
expect "COMPOSE_PROJECT_NAME names one too" 0 '' "$BERTH" down
cd "$WORK/app"
"$BERTH" volume prune >/dev/null 2>&1
check_no_leaks "after down -v"
expect_quiet "no volume left" 0 "$BERTH" volume ls -q

# An image's declared VOLUME gets an anonymous volume, as under Docker: the
# data of postgres, redis or mariadb lives there, and must survive up
# recreating the container.
mkdir -p "$WORK/seed/var/lib/db" && echo from-the-image >"$WORK/seed/var/lib/db/seed"
"$REPO/examples/images/build-image.sh" -t dbimg:1 --volume /var/lib/db --add "$WORK/seed/var/lib/db:/var/lib/db" \
	"$WORK/dbimg.tar" >/dev/null && "$BERTH" image load -i "$WORK/dbimg.tar" >/dev/null
mkdir -p "$WORK/imgvol" && cd "$WORK/imgvol"
printf 'services:\n  db:\n    image: dbimg:1\n    command: sleep 300\n    environment: {V: "1"}\n' >compose.yaml
printf 'services:\n  other:\n    image: dbimg:1\n    command: sleep 300\n    volumes: ["named:/var/lib/db"]\nvolumes:\n  named: {}\n' >named.yaml
export COMPOSE_PROJECT_NAME=${proj}iv
expect "up of an image that declares a VOLUME" 0 Started "$BERTH" up -d
expect "the path gets the image's content" 0 '^from-the-image$' "$BERTH" exec -T db cat /var/lib/db/seed
"$BERTH" exec -T db sh -c 'echo written > /var/lib/db/data'
expect "in a volume of its own, as volume ls shows" 0 '^[0-9a-f]{64}$' "$BERTH" volume ls -q
sed -i 's/V: "1"/V: "2"/' compose.yaml
expect "a changed service is recreated" 0 "${proj}iv-db-1  Recreate" "$BERTH" up -d
expect "and its data is still there" 0 '^written$' "$BERTH" exec -T db cat /var/lib/db/data
expect "a service that mounts something there gets no anonymous volume" 0 Started "$BERTH" -f named.yaml -p ${proj}ivn up -d
check "only the named one" test "$("$BERTH" volume inspect "${proj}ivn_named" | grep -c '"Name"')" -ge 1 -a \
	"$("$BERTH" volume ls -q | grep -cE '^[0-9a-f]{64}$')" -eq 1
"$BERTH" -f named.yaml -p ${proj}ivn down -v -t 0 >/dev/null 2>&1
expect "down -v removes the image's volume" 0 Removed "$BERTH" down -v -t 0
expect_quiet "no volume left after it" 0 "$BERTH" volume ls -q
check_no_leaks "after the image volume's project is down"

# A volume's subpath: that subdirectory (or file) mounted instead of the
# volume's root; never through a symlink a container left in the volume.
mkdir -p "$WORK/subpath" && cd "$WORK/subpath" || exit 1
export COMPOSE_PROJECT_NAME=${proj}sp
cleanup_hooks+=("cd '$WORK/subpath' && COMPOSE_PROJECT_NAME=${proj}sp '$BERTH' down -v -t 0 >/dev/null 2>&1")
cat >compose.yaml <<'YAML'
services:
  fill:
    image: busybox
    command: sh -c 'mkdir -p /v/sub && echo deep >/v/sub/f && echo top >/v/top && ln -sf /etc /v/link && ln -sf sub /v/rel'
    volumes: [data:/v]
  reader:
    image: busybox
    command: sleep 300
    volumes:
      - {type: volume, source: data, target: /mnt, volume: {subpath: sub}}
      - {type: volume, source: data, target: /one, volume: {subpath: sub/f}}
volumes: {data: {}}
YAML
"$BERTH" run --rm -T fill >/dev/null 2>&1
expect "up with a volume subpath" 0 Started "$BERTH" up -d reader
expect "the subdirectory is what is mounted" 0 '^deep$' "$BERTH" exec -T reader cat /mnt/f
expect_quiet "... not the volume's root" 0 "$BERTH" exec -T reader sh -c 'ls /mnt | grep -x top; true'
expect "a subpath may be a file" 0 '^deep$' "$BERTH" exec -T reader cat /one
for bad in link link/passwd rel; do
	printf 'services:\n  evil:\n    image: busybox\n    command: sleep 300\n    volumes: [{type: volume, source: data, target: /x, volume: {subpath: %s}}]\nvolumes: {data: {}}\n' "$bad" >evil.yaml
	expect "a subpath through a symlink in the volume ($bad) is refused" 1 "has no subpath $bad \\(or a symlink on its way\\)" \
		"$BERTH" -f evil.yaml up -d
	expect_quiet "... before anything is made" 0 "$BERTH" -f evil.yaml ps -aq evil
	"$BERTH" -f evil.yaml down -t 0 >/dev/null 2>&1
done
for bad in ../escape /abs; do
	printf 'services:\n  evil:\n    image: busybox\n    volumes: [{type: volume, source: data, target: /x, volume: {subpath: "%s"}}]\nvolumes: {data: {}}\n' "$bad" >evil.yaml
	expect "a subpath $bad is refused before anything is made" 1 'must be a relative path inside the volume, without \.\.' \
		"$BERTH" -f evil.yaml up -d
done
"$BERTH" down -v -t 0 >/dev/null 2>&1
check_no_leaks "after the subpath project"

# type: image volumes: the image's files, read-only (a layer bound, or the layers as an overlay)
mkdir -p "$WORK/imgvolume/ctx" && cd "$WORK/imgvolume" || exit 1
export COMPOSE_PROJECT_NAME=${proj}iv2
cleanup_hooks+=("cd '$WORK/imgvolume' && COMPOSE_PROJECT_NAME=${proj}iv2 '$BERTH' down -t 0 >/dev/null 2>&1")
printf 'FROM busybox\nCOPY f /extra/f\nCOPY f /gone/f\nRUN rm -rf /gone && ln -s /etc /extra/link\n' >ctx/Dockerfile && echo layered >ctx/f
"$BERTH" image build -q -t ivimg:1 ctx >/dev/null 2>&1
printf 'services:\n  iv:\n    image: busybox\n    command: sleep 300\n    volumes:\n      - {type: image, source: "ivimg:1", target: /img}\n      - {type: image, source: "busybox:latest", target: /one}\n' >compose.yaml
expect "up with image volumes" 0 Started "$BERTH" up -d
expect "an image of several layers is mounted whole" 0 '^layered$' "$BERTH" exec -T iv cat /img/extra/f
expect "... with its base's files" 0 'busybox' "$BERTH" exec -T iv ls /img/bin/busybox
expect "an image volume is read-only" 1 'Read-only file system' "$BERTH" exec -T iv touch /img/x /one/x
expect "an image a volume uses cannot be removed" 1 'is used by a container' "$BERTH" image rm ivimg:1
"$BERTH" down -t 0 >/dev/null 2>&1
cat >compose.yaml <<'YAML'
services:
  iv:
    image: busybox
    command: sleep 300
    volumes:
      - {type: image, source: "ivimg:1", target: /sub, image: {subpath: extra}}
      - {type: image, source: "ivimg:1", target: /lower, image: {subpath: bin}}
      - {type: image, source: "ivimg:1", target: /file, image: {subpath: extra/f}}
      - {type: image, source: "busybox:latest", target: /onebin, image: {subpath: bin}}
YAML
expect "up with image volume subpaths" 0 Started "$BERTH" up -d
expect "a subpath of an image of several layers is mounted" 0 '^f link$' "$BERTH" exec -T iv sh -c 'echo $(ls /sub)'
expect "... one that only a lower layer has, too" 0 'busybox' "$BERTH" exec -T iv ls /lower/busybox
expect "... and a file" 0 '^layered$' "$BERTH" exec -T iv cat /file
expect "a subpath of a one-layer image" 0 'busybox' "$BERTH" exec -T iv ls /onebin/busybox
expect "an image volume subpath is read-only" 1 'Read-only file system' "$BERTH" exec -T iv touch /sub/x
"$BERTH" down -t 0 >/dev/null 2>&1
for sp in extra/link extra/link/passwd gone ../x; do
	printf 'services:\n  iv:\n    image: busybox\n    volumes: [{type: image, source: "ivimg:1", target: /s, image: {subpath: "%s"}}]\n' "$sp" >compose.yaml
	expect "an image volume subpath $sp (a symlink, through one, deleted by a later layer, outside) is refused" 1 \
		'compose.yaml:4:.*(has no subpath|must be a relative path inside the image)' "$BERTH" up -d
done
expect_quiet "... and nothing is made" 0 "$BERTH" ps -aq
expect "... and can once nothing uses it" 0 'Untagged: ivimg:1' "$BERTH" image rm ivimg:1
printf 'services:\n  iv:\n    image: busybox\n    volumes: [{type: image, source: "127.0.0.1:9/nosuch/img:1", target: /img}]\n' >compose.yaml
expect "a volume image that cannot be pulled is named" 1 'cannot pull 127.0.0.1:9/nosuch/img:1' "$BERTH" up -d
expect_quiet "... and nothing is made" 0 "$BERTH" ps -aq
check_no_leaks "after the image volumes"
