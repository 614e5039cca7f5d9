#!/bin/bash
# Resource limits and settings seen from inside, log rotation, and the
# attached up: exit codes, Ctrl-C.
. "$(dirname "$0")/lib.sh"
export COMPOSE_PROJECT_NAME=berthlim$$
proj=$COMPOSE_PROJECT_NAME
cleanup_hooks+=("cd '$WORK/app' 2>/dev/null && '$BERTH' down -t 1 >/dev/null 2>&1")
load_busybox -t busybox:latest || not_ok "the busybox image loads"
mkdir -p "$WORK/app" && cd "$WORK/app"
cgv1=$([ -e /sys/fs/cgroup/cgroup.controllers ] && echo no || echo yes)
cat >compose.yaml <<'YAML'
services:
  limits:
    image: busybox
    ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 512}
    sysctls: {net.core.somaxconn: 1024}
    read_only: true
    tmpfs: [/scratch]
    pids_limit: 50
    cpus: 0.5
    cpu_shares: 512
    command:
      - sh
      - -c
      - |
        echo "nofile $$(ulimit -n) $$(ulimit -Hn) nproc $$(ulimit -u)"
        echo "somaxconn $$(cat /proc/sys/net/core/somaxconn)"
        touch /rootfile 2>/dev/null && echo "root writable" || echo "root read-only"
        touch /scratch/f && echo "tmpfs writable"
        cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null | head -1 | sed 's/^/pids /'
        cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null | sed 's/^/quota /'
        cat /sys/fs/cgroup/cpu/cpu.shares 2>/dev/null | sed 's/^/shares /'
        cat /sys/fs/cgroup/cpu.max 2>/dev/null | sed 's/^/cpumax /'
        cat /sys/fs/cgroup/cpu.weight 2>/dev/null | sed 's/^/weight /'
        echo done
  chatty:
    image: busybox
    logging: {driver: json-file, options: {max-size: 2k, max-file: "2"}}
    command: sh -c 'i=0; while [ $$i -lt 200 ]; do echo "line $$i"; i=$$((i+1)); done'
YAML
expect "up -d" 0 "Started" "$BERTH" up -d
wait_until 10 sh -c "'$BERTH' logs limits | grep -q done"
run "$BERTH" logs --no-log-prefix limits
check "ulimits set soft and hard" grep -q 'nofile 1024 2048 nproc 512' "$WORK/out"
check "a namespaced sysctl is set" grep -q 'somaxconn 1024' "$WORK/out"
check "read_only makes / read-only" grep -q 'root read-only' "$WORK/out"
check "tmpfs stays writable" grep -q 'tmpfs writable' "$WORK/out"
check "pids_limit in the container's cgroup" grep -q 'pids 50' "$WORK/out"
# each host reads its own hierarchy's files; the other's checks say skip
# (both run where the VM test of the hosts issue boots Debian's kernel)
if [ "$cgv1" = yes ]; then
	check "cpus becomes a CFS quota" grep -q 'quota 50000' "$WORK/out"
	check "cpu_shares" grep -q 'shares 512' "$WORK/out"
	echo "skip: cpus as cpu.max and cpu_shares as cpu.weight are cgroup v2's files; this host is cgroup v1"
else
	check "cpus becomes cpu.max (cgroup v2)" grep -qx 'cpumax 50000 100000' "$WORK/out"
	check "cpu_shares becomes cpu.weight, as runc converts it (512 -> 20)" grep -qx 'weight 20' "$WORK/out"
	echo "skip: cpus as the CFS quota and cpu_shares as cpu.shares are cgroup v1's files; this host is cgroup v2"
fi
wait_until 5 sh -c "'$BERTH' ps -a | grep -q '$proj-chatty-1 .*Exited'"
log=$BERTH_ROOT/containers/$proj-chatty-1/$proj-chatty-1-json.log
check "max-size rotates the log" test -s "$log.1"
check "max-file keeps that many files" test ! -e "$log.2"
check "the current log stays under max-size" test "$(stat -c %s "$log")" -le 2048
expect "logs read the rotated file too" 0 'line 199' "$BERTH" logs chatty
expect "down" 0 Removed "$BERTH" down -t 1

# a sysctl that is not namespaced would change the host: refused, nothing created
before=$(cat /proc/sys/kernel/panic)
printf 'services:\n  evil: {image: busybox, command: "true", sysctls: {kernel.panic: 42}}\n' >compose.yaml
expect "a host-wide sysctl is refused, naming file, service and key" 1 \
	'compose.yaml:2:[0-9]+: service evil: sysctl kernel.panic is not namespaced' "$BERTH" up -d
check "and the host's value is untouched" test "$(cat /proc/sys/kernel/panic)" = "$before"
expect_quiet "and nothing was created" 0 "$BERTH" ps -aq

# tty and stdin_open: the "keep a shell alive" idiom
cat >compose.yaml <<'YAML'
services:
  shell: {image: busybox, tty: true, stdin_open: true, command: sh}
  ttyout: {image: busybox, tty: true, command: sh -c 'test -t 1 && echo stdout-is-a-tty; test -c /dev/console && echo console'}
  open: {image: busybox, stdin_open: true, command: cat}
  closed: {image: busybox, command: cat}
YAML
expect "up -d with tty and stdin_open" 0 Started "$BERTH" up -d
check "tty + stdin_open keeps a shell running" wait_until 3 sh -c "'$BERTH' ps | grep -q '$proj-shell-1 .*Up'"
check "stdin_open keeps stdin open" sh -c "'$BERTH' ps | grep -q '$proj-open-1 .*Up'"
check "without stdin_open, stdin is at its end" wait_until 3 sh -c "'$BERTH' ps -a | grep -q '$proj-closed-1 .*Exited (0)'"
wait_until 3 sh -c "'$BERTH' logs ttyout | grep -q console"
expect "tty: stdout is a terminal, and /dev/console is there" 0 'stdout-is-a-tty' "$BERTH" logs ttyout
expect "exec works in a tty container" 0 '^via-exec$' sh -c "echo 'echo via-exec' | '$BERTH' exec -T shell sh"
"$BERTH" down -t 1 >/dev/null 2>&1

# attached: streams logs, returns when the containers end, --exit-code-from
cat >compose.yaml <<'YAML'
services:
  main: {image: busybox, command: sh -c 'echo hello from main; sleep 0.5; exit 3'}
  side: {image: busybox, init: true, command: sleep 300, stop_grace_period: 1s}
YAML
expect "up --exit-code-from returns that service's code" 3 "main-1 +\| hello from main" \
	"$BERTH" up --no-color --exit-code-from main
expect "and stopped the others" 0 "$proj-side-1 .*Exited" "$BERTH" ps -a
"$BERTH" down -t 1 >/dev/null 2>&1
printf 'services:\n  sleeper: {image: busybox, init: true, command: sleep 300}\n' >compose.yaml
"$BERTH" up --no-color >"$WORK/attached" 2>&1 &
up_pid=$!
wait_until 5 sh -c "'$BERTH' ps | grep -q '$proj-sleeper-1 .*Up'"
kill -INT "$up_pid"
check "Ctrl-C on an attached up stops the stack gracefully" wait_until 15 sh -c "! kill -0 $up_pid 2>/dev/null"
check "it said so" grep -q 'Gracefully stopping' "$WORK/attached"
expect "the container is stopped" 0 "$proj-sleeper-1 .*Exited" "$BERTH" ps -a
expect "down" 0 Removed "$BERTH" down -t 1
# mem_swappiness, oom_kill_disable and blkio_config, seen in the container's cgroup (v1 files)
dev=
for b in /sys/block/*; do
	case ${b##*/} in loop* | ram* | zram*) ;; *) [ -b "/dev/${b##*/}" ] && dev=/dev/${b##*/} && break ;; esac
done
majmin=
[ -n "$dev" ] && majmin=$(printf '%d:%d' "0x$(stat -Lc %t "$dev")" "0x$(stat -Lc %T "$dev")")
if [ "$cgv1" = yes ] && [ -n "$dev" ]; then
	cat >compose.yaml <<YAML
services:
  io:
    image: busybox
    mem_swappiness: 7
    oom_kill_disable: true
    blkio_config:
      device_read_bps: [{path: $dev, rate: 1mb}]
      device_write_iops: [{path: $dev, rate: 30}]
    command: sh -c 'cat /sys/fs/cgroup/memory/memory.swappiness; grep oom_kill_disable /sys/fs/cgroup/memory/memory.oom_control; cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device /sys/fs/cgroup/blkio/blkio.throttle.write_iops_device; sleep 100'
YAML
	"$BERTH" up -d >/dev/null 2>&1
	wait_until 10 sh -c "'$BERTH' logs io | grep -q '$majmin 30'"
	run "$BERTH" logs --no-log-prefix io
	check "mem_swappiness is the cgroup's" grep -qx 7 "$WORK/out"
	check "oom_kill_disable turns the OOM killer off" grep -qx 'oom_kill_disable 1' "$WORK/out"
	check "blkio_config device_read_bps throttles reads" grep -qx "$majmin 1048576" "$WORK/out"
	check "blkio_config device_write_iops throttles writes" grep -qx "$majmin 30" "$WORK/out"
	"$BERTH" down -t 0 >/dev/null 2>&1
	echo "skip: blkio_config as io.max, and mem_swappiness said to have no effect, are cgroup v2's; this host is cgroup v1"
elif [ -n "$dev" ]; then
	# cgroup v2: io.max; mem_swappiness and oom_kill_disable have no v2 file, and berth says so
	cat >compose.yaml <<YAML
services:
  io:
    image: busybox
    mem_swappiness: 7
    blkio_config:
      device_read_bps: [{path: $dev, rate: 1mb}]
      device_write_iops: [{path: $dev, rate: 30}]
    command: sh -c 'cat /sys/fs/cgroup/io.max; echo done; sleep 100'
YAML
	expect "mem_swappiness on cgroup v2 is said to have no effect" 0 'mem_swappiness has no effect on cgroup v2' "$BERTH" up -d
	wait_until 10 sh -c "'$BERTH' logs io | grep -q done"
	expect "blkio_config throttles become io.max (cgroup v2)" 0 "^$majmin rbps=1048576 wbps=max riops=max wiops=30\$" \
		"$BERTH" logs --no-log-prefix io
	"$BERTH" down -t 0 >/dev/null 2>&1
	echo "skip: mem_swappiness, oom_kill_disable and blkio throttles in their v1 files are cgroup v1's; this host is cgroup v2"
else
	echo "skip: blkio_config throttles need a block device, and this host has none berth may name"
fi
# cpu_rt_runtime / cpu_rt_period: real-time group scheduling (cgroup v1)
if [ "$cgv1" = yes ] && [ -e /sys/fs/cgroup/cpu/cpu.rt_runtime_us ]; then
	printf 'services:\n  keep: {image: busybox, command: sleep 100}\n  rt:\n    image: busybox\n    cpu_rt_runtime: 40ms\n    cpu_rt_period: 500000\n    command: sh -c "cat /sys/fs/cgroup/cpu/cpu.rt_runtime_us /sys/fs/cgroup/cpu/cpu.rt_period_us; sleep 100"\n' >compose.yaml
	"$BERTH" up -d >/dev/null 2>&1
	wait_until 5 sh -c "'$BERTH' logs rt | grep -q 500000"
	expect "cpu_rt_runtime and cpu_rt_period are the container's group's" 0 $'^40000\n500000$' "$BERTH" logs --no-log-prefix rt
	pool=$(cat /sys/fs/cgroup/cpu/berth/cpu.rt_runtime_us)
	check "... given out of berth's group (40 ms of 500 ms: 80 ms of its second)" test "$pool" -ge 80000
	"$BERTH" rm -sf rt >/dev/null 2>&1
	check "... and given back when the container goes" test "$(cat /sys/fs/cgroup/cpu/berth/cpu.rt_runtime_us)" -eq $((pool - 80000))
	"$BERTH" down -t 0 >/dev/null 2>&1
	echo "skip: cpu_rt_runtime refused for want of real-time group scheduling is cgroup v2's; this host is cgroup v1"
elif [ "$cgv1" = no ]; then
	printf 'services:\n  rt: {image: busybox, cpu_rt_runtime: 40ms}\n' >compose.yaml
	expect "cgroup v2 has no real-time group scheduling: cpu_rt_runtime is refused, naming why" 1 \
		'cpu_rt_runtime needs real-time group scheduling, which cgroup v2 .* does not have' "$BERTH" up -d
	echo "skip: cpu_rt_runtime given out of berth's group is cgroup v1's; this host is cgroup v2"
else
	echo "skip: this cgroup v1 host's kernel has no real-time group scheduling (cpu.rt_runtime_us)"
fi
# cgroup_parent: the container's cgroup under that group, which stays the user's
cgp=berthtestcg$$
export LEAK_CGROUPS="/sys/fs/cgroup/*/$cgp/inner/* /sys/fs/cgroup/$cgp/inner/*"
cleanup_hooks+=("for d in /sys/fs/cgroup/*/$cgp /sys/fs/cgroup/$cgp; do rmdir \$d/inner \$d 2>/dev/null; done")
printf 'services:\n  cgp:\n    image: busybox\n    cgroup_parent: /%s/inner\n    mem_limit: 64m\n    command: sleep 100\n' "$cgp" >compose.yaml
expect "up with a cgroup_parent" 0 Started "$BERTH" up -d
if [ "$cgv1" = yes ]; then mem=/sys/fs/cgroup/memory/$cgp/inner; limit=memory.limit_in_bytes; else mem=/sys/fs/cgroup/$cgp/inner; limit=memory.max; fi
check "cgroup_parent: the container's cgroup is under it, with its limit" test "$(cat "$mem/$proj-cgp-1/$limit")" = 67108864
check "... and none under berth's group" test ! -e "/sys/fs/cgroup/memory/berth/$proj-cgp-1" -a ! -e "/sys/fs/cgroup/berth/$proj-cgp-1"
expect "exec finds the container there" 0 '^in$' "$BERTH" exec -T cgp echo in
expect "pause freezes it there" 0 Paused "$BERTH" pause cgp
"$BERTH" unpause cgp >/dev/null 2>&1
"$BERTH" down -t 0 >/dev/null 2>&1
check "down removes the container's cgroup, and leaves the parent as the user's" test ! -e "$mem/$proj-cgp-1" -a -d "$mem"
printf 'services:\n  cgp: {image: busybox, cgroup_parent: "a/../../escape"}\n' >compose.yaml
expect "a cgroup_parent with .. is refused" 1 'cgroup_parent a/../../escape must be a path of names' "$BERTH" up -d
if [ "$cgv1" = yes ]; then
	printf 'services:\n  rt: {image: busybox, cpu_rt_runtime: 2000000, cpu_rt_period: 1000000}\n' >compose.yaml
	expect "a cpu_rt_runtime over its period is refused" 1 'cpu_rt_runtime is more than its period' "$BERTH" up -d
fi
printf 'services:\n  io: {image: busybox, blkio_config: {device_read_bps: [{path: /dev/null, rate: 1mb}]}}\n' >compose.yaml
expect "a blkio_config path that is no block device is refused" 1 'compose.yaml:2:.*blkio_config: /dev/null is not a block device' "$BERTH" up -d
printf 'services:\n  io: {image: busybox, blkio_config: {weight: 5}}\n' >compose.yaml
expect "a blkio weight out of range is refused" 1 'blkio_config.weight must be from 10 to 1000' "$BERTH" up -d
printf 'services:\n  io: {image: busybox, mem_swappiness: 101}\n' >compose.yaml
expect "mem_swappiness out of range is refused" 1 'mem_swappiness must be a number from 0 to 100' "$BERTH" up -d
check_no_leaks "after down"
