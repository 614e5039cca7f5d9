#!/bin/bash
# Written as an attacker would: a probe program (tests/helpers/probe.c) run
# inside default, privileged and device-granted containers tries what a
# default Docker container cannot do, and must fail as it fails there:
# writing /proc/sys, reading masked paths, making and opening devices,
# reaching the host's 127.0.0.1 services with crafted frames.
. "$(dirname "$0")/lib.sh"
: "${PROBE:?set PROBE to the probe test helper (make unit builds it)}"
export COMPOSE_PROJECT_NAME=berthesc$$
cleanup_hooks+=("cd '$WORK/app' 2>/dev/null && '$BERTH' down -t 1 >/dev/null 2>&1")
load_busybox -t busybox:latest --add "$PROBE:/bin/probe" || not_ok "the busybox image loads"
mkdir -p "$WORK/app" && cd "$WORK/app"
bridge=brthesc$(($$ % 100000))
cat >compose.yaml <<YAML
services:
  plain:
    image: busybox
    command: sleep 1000
    ulimits: {nofile: {soft: 4096, hard: 8192}}
  priv:
    image: busybox
    privileged: true
    command: sleep 1000
  dev:
    image: busybox
    devices: ["/dev/loop-control"]
    command: sleep 1000
  hostnet:
    image: busybox
    network_mode: host
    command: sleep 1000
  withinit:
    image: busybox
    init: true
    command: sleep 1000
  unconfined:
    image: busybox
    security_opt: ["seccomp=unconfined"]
    command: sleep 1000
networks:
  default:
    driver_opts:
      com.docker.network.bridge.name: $bridge
YAML
expect "up -d" 0 Started "$BERTH" up -d
cp "$(dirname "$BERTH")/berth-shim" "$WORK/shim.orig"
inside() { "$BERTH" exec -T "$@"; }

# 1. Docker's read-only /proc paths: EROFS for writing, masked ones read empty.
# (only those this kernel has: /proc/kcore and /proc/sysrq-trigger are not on every one)
for p in /proc/sys/kernel/core_pattern /proc/sys/kernel/hostname /proc/sysrq-trigger /proc/irq/default_smp_affinity; do
	[ -e "$p" ] || continue
	expect "a default container cannot open $p for writing" 0 "^$p EROFS" inside plain probe write "$p"
done
expect "nor make /proc/sys writable again by remounting it" 0 'remount refused' \
	inside plain sh -c 'mount -o remount,rw /proc/sys 2>/dev/null && echo remounted || echo remount refused'
for p in /proc/kcore /proc/keys /proc/timer_list; do
	[ -e "$p" ] || continue
	expect "a default container reads $p as empty" 0 "^$p bytes 0" inside plain probe read "$p"
done
expect "and sees no firmware under /sys/firmware" 0 '^/sys/firmware entries 0' inside plain probe read /sys/firmware
for ns in mnt pid uts ipc net cgroup; do
	theirs=$(inside plain readlink /proc/self/ns/$ns)
	check "a default container has its own $ns namespace ($theirs)" sh -c \
		"echo '$theirs' | grep -Eqx '$ns:\[[0-9]+\]' && test '$theirs' != '$(readlink /proc/self/ns/$ns)'"
done
expect "a default container's /sys is read-only" 1 'Read-only file system' inside plain touch /sys/berth-probe
# network_mode: host binds the host's /sys with everything mounted below it
expect "network_mode: host sees the host's /sys with its submounts" 0 '^[2-9]|^[1-9][0-9]' \
	inside hostnet sh -c "awk '\$5 ~ \"^/sys\"' /proc/self/mountinfo | wc -l"
expect_quiet "and every one of them is read-only" 0 \
	inside hostnet awk '$5 ~ "^/sys" && $6 !~ /^ro/ {print $5}' /proc/self/mountinfo
expect "privileged: /proc/sys is writable, as under Docker" 0 '^/proc/sys/kernel/hostname ok' \
	inside priv probe write /proc/sys/kernel/hostname
expect "privileged: /proc/keys is not masked" 0 '^/proc/keys bytes [1-9]' inside priv probe read /proc/keys

# 2. Devices: mknod is allowed, opening anything outside Docker's list is not.
# a block device that root on this host can open (some sandboxes refuse the disk itself)
disk_major='' disk_minor=''
for b in /sys/dev/block/*; do
	maj=${b##*/} min=${maj#*:} maj=${maj%:*}
	if "$PROBE" mknod "$WORK/blk" b "$maj" "$min" | grep -q '^open ok'; then
		disk_major=$maj disk_minor=$min
		break
	fi
done
[ -n "$disk_major" ] || not_ok "this host has a block device that root can open"
expect "a default container may mknod loop-control" 0 '^mknod ok' inside plain probe mknod /tmp/lc c 10 237
expect "but not open it" 0 '^open EPERM' inside plain probe mknod /tmp/lc c 10 237
expect "nor the host's disk ($disk_major:$disk_minor)" 0 '^open EPERM' \
	inside plain probe mknod /tmp/disk b "$disk_major" "$disk_minor"
for d in "10 229 fuse" "4 1 tty1" "10 237 loop-control"; do
	set -- $d
	if ! "$PROBE" mknod "$WORK/chr" c "$1" "$2" | grep -q '^open ok'; then
		echo "skip: this host cannot open $3 ($1:$2) itself, so a container's refusal of it says nothing"
		continue
	fi
	expect "nor $3 ($1:$2)" 0 '^open EPERM' inside plain probe mknod "/tmp/$3" c "$1" "$2"
done
expect "/dev/null, /dev/zero, /dev/urandom and /dev/tty stay usable" 0 \
	'^/dev/null ok.*/dev/zero ok.*/dev/urandom ok' inside plain sh -c 'probe open /dev/null /dev/zero /dev/urandom | tr "\n" " "'
expect "a new pty can be opened" 0 '^/dev/ptmx ok' inside plain probe open /dev/ptmx
expect "devices: grants the named device" 0 '^/dev/loop-control ok' inside dev probe open /dev/loop-control
expect "and only that one" 0 '^open EPERM' inside dev probe mknod /tmp/disk b "$disk_major" "$disk_minor"
expect "privileged: the host's disk opens" 0 '^open ok' inside priv probe mknod /tmp/disk b "$disk_major" "$disk_minor"

# Capabilities and limits of exec'd processes match the container's, also
# when berth itself runs with an inheritable set (root's exec gains
# inheritable | bounding).
default_caps=00000000a80425fb
expect "an exec'd process has the container's bounding set" 0 "CapBnd:.$default_caps" \
	inside plain grep CapBnd /proc/self/status
expect "and gains nothing berth inherited" 0 "CapEff:.$default_caps" \
	setpriv --inh-caps +sys_admin "$BERTH" exec -T plain grep CapEff /proc/self/status
expect "nor does a container started by such a berth" 0 "CapEff:.$default_caps" \
	setpriv --inh-caps +sys_admin "$BERTH" run --rm -T plain grep CapEff /proc/self/status
expect "an exec'd process has the container's ulimits" 0 '^4096 8192$' inside plain sh -c 'echo $(ulimit -n) $(ulimit -Hn)'

# CVE-2019-5736: a container whose command is "#!/proc/self/exe" makes the
# kernel run berth's own binary inside it, where another of its processes
# can open /proc/PID/exe and write to it once it exits. berth's binaries
# run there only from read-only views, so that write can never succeed.
shim_pid=$(pgrep -f "berth-shi[m] $BERTH_ROOT/containers/$COMPOSE_PROJECT_NAME-plain-1 ")
expect "the shim runs from a read-only view of its binary" 0 '^exe read-only' "$PROBE" exe-mount "$shim_pid"
"$BERTH" exec -T plain sleep 2 &
wait_until 5 pgrep -f "berth-shi[m] enter .*plain-1/spec.json"
enter_pid=$(pgrep -f "berth-shi[m] enter .*plain-1/spec.json" | head -1)
expect "so does exec's process that enters the container" 0 '^exe read-only' "$PROBE" exe-mount "$enter_pid"
wait
"$BERTH" exec -T plain sh -c 'printf "#!/proc/self/exe\n" >/tmp/evil.sh; chmod 755 /tmp/evil.sh'
expect "a #!/proc/self/exe command runs that read-only view, which refuses it" 2 'usage: berth-shim' \
	"$BERTH" exec -T plain /tmp/evil.sh
expect "berth-init, pid 1 with init: true, is a read-only bind" 0 '^ro' \
	inside withinit sh -c "awk '\$5 == \"/sbin/berth-init\" {print \$6}' /proc/self/mountinfo"
# and the write itself, as the attacker in the container makes it
# (O_WRONLY|O_TRUNC through /proc/PID/exe): berth-init, pid 1 with init:
# true, is berth-shim's binary
expect "the write through /proc/1/exe to berth-init, berth's own binary, is refused" 0 '^write EROFS' \
	inside withinit probe write-exe 1 1
expect "(the same write to a binary of the container's own succeeds once it has ended: the probe can tell)" 0 \
	'^write ok' inside withinit sh -c 'cp /bin/busybox /tmp/sleep && { /tmp/sleep 1 & probe write-exe $! 20 /tmp/sleep; }'
check "the shim's binary on the host is as it was" cmp -s "$(dirname "$BERTH")/berth-shim" "$WORK/shim.orig"

# Docker's default seccomp profile, by what it refuses: keyctl gets EPERM;
# with seccomp=unconfined the same call works
expect "the default seccomp profile refuses keyctl, with EPERM" 0 '^keyctl EPERM' inside plain probe keyctl
expect "(unconfined, keyctl works: the probe can tell)" 0 '^keyctl ok' inside unconfined probe keyctl

# 3. The host's loopback, from a container's raw frames to the gateway's MAC.
gwmac=$(cat "/sys/class/net/$bridge/address")
udp=$(free_port)
tcp=$(free_port)
"$PROBE" udp-listen 127.0.0.1 "$udp" 120 >"$WORK/udp" &
udpl=$!
"$PROBE" tcp-listen 127.0.0.1 "$tcp" 120 >"$WORK/tcp" &
tcpl=$!
cleanup_hooks+=("kill $udpl $tcpl 2>/dev/null")
check "the host's UDP listener on 127.0.0.1:$udp is up" wait_until 10 grep -qx listening "$WORK/udp"
check "the host's TCP listener on 127.0.0.1:$tcp is up" wait_until 10 grep -qx listening "$WORK/tcp"
expect "a container sends a UDP frame to the host's 127.0.0.1" 0 '^sent ok' inside plain probe loopback eth0 "$gwmac" udp "$udp"
expect "and a TCP SYN" 0 '^sent ok' inside plain probe loopback eth0 "$gwmac" tcp "$tcp"
# a SYN that reached the listener leaves a half-open connection from the container
check "the TCP listener on the host's 127.0.0.1 got no SYN from the container" \
	sh -c "! ss -tn state syn-recv 'sport = :$tcp' | grep -q '127.0.0.1:$tcp'"
# the listeners were there all along: what the host itself sends them arrives
echo hi >"/dev/udp/127.0.0.1/$udp"
check "(the UDP listener is still up and takes the host's own datagram)" wait_until 10 grep -qx 'got 3' "$WORK/udp"
check "the UDP listener on the host's 127.0.0.1 got nothing from the container (its 6 bytes)" \
	sh -c "! grep -qx 'got 6' '$WORK/udp'"
check "(the TCP listener is still listening)" sh -c "ss -Hltn 'sport = :$tcp' | grep -q 127.0.0.1:$tcp"
(exec 3<>"/dev/tcp/127.0.0.1/$tcp") 2>/dev/null
check "(and accepts the host's own connection, and only that one)" sh -c \
	"$(declare -f wait_until); wait_until 10 grep -qx accepted '$WORK/tcp' && test \$(grep -cx accepted '$WORK/tcp') -eq 1"
kill "$udpl" "$tcpl" 2>/dev/null
wait "$udpl" "$tcpl" 2>/dev/null

# 4. The state root, as another user of this host: a container's root makes
# a setuid-root binary in its own filesystem; nobody else may reach it.
chmod 755 "$WORK" # mktemp made it 0700; only berth's own modes may protect the root
other() { setpriv --reuid=4242 --regid=4242 --clear-groups "$@"; }
expect "a container's root makes a setuid-root binary" 0 '^setuid ok' inside plain probe setuid /tmp/suid
suid=$BERTH_ROOT/containers/$COMPOSE_PROJECT_NAME-plain-1/upper/tmp/suid
check "it is there, in the container's upper directory" test -u "$suid"
expect "another host user cannot run it" 126 'Permission denied' other sh -c "exec '$suid' euid"
expect "nor list the state root" 2 'Permission denied' other ls "$BERTH_ROOT"
check "the state root is 0700" test "$(stat -c %a "$BERTH_ROOT")" = 700
check "and every directory directly under it" sh -c "! find '$BERTH_ROOT' -mindepth 1 -maxdepth 1 -type d ! -perm 700 | grep -q ."
chmod 755 "$BERTH_ROOT" # as an older berth left it
"$BERTH" ps >/dev/null
check "a wider root left by an older berth is narrowed by the next command" test "$(stat -c %a "$BERTH_ROOT")" = 700

# 6. Terminals: exec and run never hand the user's terminal to the container;
# with one, the command gets a terminal of its own from the container's
# devpts. script(1) gives berth a terminal, as a user's shell has; its
# stdin is a pipe that stays open while the command runs.
with_tty() { sleep 4 | script -qec "$1" /dev/null; }
cat >"$WORK/sti.sh" <<SH
stty rows 30 cols 100
'$BERTH' exec -T plain probe tty
'$BERTH' exec plain probe tty
read -t 1 line; echo "the host shell read: [\$line]"
SH
expect "exec -T on a terminal: the command gets no terminal at all" 0 'tiocsti ENOTTY' with_tty "bash '$WORK/sti.sh'"
check "exec on a terminal: the command's own, from the container's devpts" grep -Eq '^ttyname /dev/pts/[0-9]+' "$WORK/out"
check "a TIOCSTI there lands in the container's own terminal (echoed back through the relay)" \
	sh -c "grep -q 'tiocsti ok' '$WORK/out' && tr -d '\r' <'$WORK/out' | grep -qx injected"
check "and never reaches the host's shell" grep -Fq 'the host shell read: []' "$WORK/out"
expect "exec with a terminal sets TERM" 0 'TERM=xterm' with_tty "'$BERTH' exec plain sh -c 'echo TERM=\$TERM'"
# the command says when it has read the first size, then waits until it changes
cat >"$WORK/resize.sh" <<SH
stty rows 30 cols 100
( $(declare -f wait_until); wait_until 20 '$BERTH' exec -T plain test -e /tmp/sized; stty rows 40 cols 120 </dev/tty ) &
'$BERTH' exec plain sh -c 'stty size; touch /tmp/sized; i=0; while [ "\$(stty size)" = "30 100" ] && [ \$i -lt 200 ]; do sleep 0.1; i=\$((i + 1)); done; stty size' | tr -d '\r' | tr '\n' ' '
SH
expect "the terminal takes the user's window size, and follows a resize" 0 '30 100.*40 120' \
	with_tty "bash '$WORK/resize.sh'"
expect "exec without a terminal: stdin, stdout, stderr and the exit code go through" 3 'in:hello.*err' \
	sh -c "echo hello | '$BERTH' exec -T plain sh -c 'echo in:\$(cat); echo err >&2; exit 3' >'$WORK/o' 2>&1; rc=\$?; tr '\n' ' ' <'$WORK/o'; exit \$rc"
expect "run -T on a terminal: no terminal in the container" 0 'tiocsti ENOTTY' with_tty "'$BERTH' run --rm -T plain probe tty"
expect "run on a terminal: one of its own, with TERM" 0 'ttyname /dev/pts/[0-9]+.*TERM=xterm' \
	with_tty "'$BERTH' run --rm plain sh -c 'probe tty; echo TERM=\$TERM' | tr '\r\n' '  '"
expect "run's terminal starts with the user's window size" 0 '^30 100' \
	with_tty "stty rows 30 cols 100; '$BERTH' run --rm plain stty size"
expect "run without a terminal: stdin and stdout through pipes, the exit code back" 5 '^piped$' \
	sh -c "echo piped | '$BERTH' run --rm plain sh -c 'cat; exit 5'"

# A new volume gets what the image has at its target, but never through a
# symlink in the image that leads out of it (data -> /proc would copy the
# host's /proc/kcore, keys and kmsg into the volume).
mkdir -p "$WORK/evil" && ln -s /proc "$WORK/datalink"
"$REPO/examples/images/build-image.sh" -t evil:1 --add "$WORK/datalink:/data" "$WORK/evil.tar" >/dev/null &&
	"$BERTH" image load -i "$WORK/evil.tar" >/dev/null
printf 'services:\n  x:\n    image: evil:1\n    command: sleep 100\n    volumes: ["v:/data"]\nvolumes:\n  v: {}\n' \
	>"$WORK/evil/copyup.yaml"
expect "a volume over an image symlink to /proc is refused" 1 \
	'/data is a symlink in the image to /proc; berth does not mount over it' \
	"$BERTH" -f "$WORK/evil/copyup.yaml" -p evilcu$$ up -d
check "and nothing of /proc was copied into the volume" \
	sh -c "[ -z \"\$(ls -A '$BERTH_ROOT/volumes/evilcu$$_v/_data' 2>/dev/null)\" ]"
"$BERTH" -f "$WORK/evil/copyup.yaml" -p evilcu$$ down -v -t 0 >/dev/null 2>&1

# A FIFO where a file is to be mounted: opening it would hang the start.
mkfifo "$WORK/fifo"
"$REPO/examples/images/build-image.sh" -t fifoimg:1 --add "$WORK/fifo:/etc/app.conf" "$WORK/fifo.tar" >/dev/null &&
	"$BERTH" image load -i "$WORK/fifo.tar" >/dev/null
echo "setting=1" >"$WORK/evil/app.conf"
printf 'services:\n  f:\n    image: fifoimg:1\n    command: sleep 100\n    volumes: ["./app.conf:/etc/app.conf:ro"]\n' \
	>"$WORK/evil/fifo.yaml"
expect "a file mounted over a FIFO in the image starts, without hanging" 0 Started \
	timeout 20 "$BERTH" -f "$WORK/evil/fifo.yaml" -p fifo$$ up -d
expect "and the file is there" 0 '^setting=1$' "$BERTH" -f "$WORK/evil/fifo.yaml" -p fifo$$ exec -T f cat /etc/app.conf
"$BERTH" -f "$WORK/evil/fifo.yaml" -p fifo$$ down -t 0 >/dev/null 2>&1

# 5. Names that would climb out of the state root.
mkdir -p "$WORK/victim" "$WORK/evil" && echo precious >"$WORK/victim/file"
printf 'services:\n  x:\n    image: busybox\n    container_name: ../../victim\n' >"$WORK/evil/compose.yaml"
expect "a container_name that climbs out of the state root is refused with its line" 1 \
	'compose.yaml:4:21: services.x.container_name: "../../victim" is not a valid name' \
	"$BERTH" -f "$WORK/evil/compose.yaml" -p evil$$ up -d
check "and the directory it named is untouched" test "$(cat "$WORK/victim/file")" = precious
printf 'services:\n  x:\n    image: busybox\nvolumes:\n  v:\n    name: ../../victim\n' >"$WORK/evil/compose.yaml"
expect "so is a volume name" 1 'volumes.v.name: "../../victim" is not a valid name' \
	"$BERTH" -f "$WORK/evil/compose.yaml" -p evil$$ up -d
expect "and network create of such a name" 1 'network name "../../victim" cannot be used' "$BERTH" network create ../../victim
expect "and volume create" 1 'volume name "../../victim" cannot be used' "$BERTH" volume create ../../victim
check "the directory is still untouched" test "$(cat "$WORK/victim/file")" = precious

expect "down" 0 Removed "$BERTH" down -t 1
check_no_leaks "after down"
