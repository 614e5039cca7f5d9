#!/bin/bash
# Restart policies across a reboot. There is no daemon to bring containers
# back when the host starts again; `berth start --all-projects` (run at boot
# by contrib/berth.service) does, as dockerd decides it. The reboot is
# simulated: every process of the state root killed, and everything the
# kernel held for it (namespaces, bridges, firewall table, cgroups, mounts)
# taken away, while the state root on disk stays.
. "$(dirname "$0")/lib.sh"
proj=berthboot$$
other=berthboot2$$
cleanup_hooks+=("cd '$WORK/a' 2>/dev/null && '$BERTH' -p $proj down -t 0 >/dev/null 2>&1; cd '$WORK/b' 2>/dev/null && '$BERTH' -p $other down -t 0 >/dev/null 2>&1")
load_busybox -t busybox:latest || not_ok "the busybox image loads"

WEB=$(free_port)

# Everything the kernel holds for this state root goes, as at a reboot.
reboot_host() {
	local pids p f id l
	# the shims, the DNS responder, and the containers' inits (which take their namespaces' processes)
	pids=$(pgrep -f "berth-shi[m] (dns )?$BERTH_ROOT[/ ]")
	for f in "$BERTH_ROOT"/containers/*/state.json; do
		p=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$f")
		[ "${p:-0}" -gt 0 ] && [ -d "/proc/$p" ] && pids="$pids $p"
	done
	# shellcheck disable=SC2086
	[ -n "${pids// /}" ] && kill -9 $pids 2>/dev/null
	for p in $pids; do
		for _ in $(seq 50); do [ -d "/proc/$p" ] || break; sleep 0.1; done
	done
	# the namespaces held by their files, and any mount under the root
	grep " $BERTH_ROOT/" /proc/mounts | awk '{print $2}' | sort -r | while read -r f; do umount -l "$f"; done
	# the bridges and veths of this root, found by the alias berth gives them
	ip -o link show | grep -F "alias berth $(nft_table) " | awk -F': ' '{print $2}' | cut -d@ -f1 |
		while read -r l; do ip link del "$l" 2>/dev/null; done
	nft delete table ip "$(nft_table)" 2>/dev/null
	# the containers' cgroups (empty now)
	for f in "$BERTH_ROOT"/containers/*/spec.json; do
		id=$(sed -n 's/^ *"id": *"\([^"]*\)".*/\1/p' "$f" | head -n 1)
		for d in /sys/fs/cgroup/*/berth/"$id" /sys/fs/cgroup/berth/"$id"; do
			[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
		done
	done
	return 0
}

mkdir -p "$WORK/a/www" "$WORK/b" && cd "$WORK/a"
echo "hello after boot" >www/index.html
cat >compose.yaml <<YAML
services:
  db:
    image: busybox
    restart: always
    command: httpd -f -p 80 -h /www
    volumes: ["./www:/www:ro"]
  app:
    image: busybox
    restart: unless-stopped
    command: sleep 1000
    depends_on: [db]
  web:
    image: busybox
    restart: always
    command: httpd -f -p 80 -h /www
    volumes: ["./www:/www:ro"]
    ports: ["127.0.0.1:$WEB:80"]
    depends_on: [app]
  worker:
    image: busybox
    restart: on-failure
    command: sleep 1000
  finished:
    image: busybox
    restart: on-failure
    command: "true"
  plain:
    image: busybox
    restart: "no"
    command: sleep 1000
  paused:
    image: busybox
    restart: unless-stopped
    command: sleep 1000
  stubborn:
    image: busybox
    restart: always
    command: sleep 1000
  never:
    image: busybox
    restart: always
    command: sleep 1000
YAML
export COMPOSE_PROJECT_NAME=$proj
expect "up -d" 0 "$proj-web-1  Started" "$BERTH" up -d --scale never=0
expect "a container made but never started" 0 "$proj-never-1  Created" "$BERTH" up --no-start never
expect "a user stops one with unless-stopped" 0 "$proj-paused-1  Stopped" "$BERTH" stop paused
expect "and one with always" 0 "$proj-stubborn-1  Stopped" "$BERTH" stop stubborn
for _ in $(seq 50); do "$BERTH" ps -a | grep -q "$proj-finished-1 .*Exited (0)" && break; sleep 0.1; done
expect "the on-failure job has exited 0" 0 "$proj-finished-1 .*Exited \(0\)" "$BERTH" ps -a
(cd "$WORK/b" && printf 'services:\n  solo:\n    image: busybox\n    restart: always\n    command: sleep 1000\n' >compose.yaml &&
	"$BERTH" -p "$other" up -d >/dev/null 2>&1)
expect "a second project runs too" 0 "$other-solo-1 .*Up" "$BERTH" -p "$other" -f "$WORK/b/compose.yaml" ps

reboot_host
check "after the reboot nothing of the root runs" sh -c "! pgrep -f 'berth-shi[m] (dns )?$BERTH_ROOT[/ ]' >/dev/null"
check "its bridges are gone" sh -c "! ip -o link show | grep -qF 'alias berth $(nft_table) '"
check "its firewall table is gone" sh -c "! nft list tables | grep -qx 'table ip $(nft_table)'"
check "its namespaces are gone" sh -c "! grep -q ' $BERTH_ROOT/' /proc/mounts"

expect "start --all-projects" 0 "$proj-web-1  Started" "$BERTH" start --all-projects
started=$(printf '%s\n' "$ERR" | sed -n 's/^ Container \(.*\)  Started$/\1/p' | sort | tr '\n' ' ')
want=$(printf '%s\n' "$proj-app-1" "$proj-db-1" "$proj-stubborn-1" "$proj-web-1" "$proj-worker-1" "$other-solo-1" | sort | tr '\n' ' ')
check "brings back always, unless-stopped, on-failure that was running, a user-stopped always (as dockerd), both projects ($started)" \
	test "$started" = "$want"
order=$(printf '%s\n' "$ERR" | grep -E "$proj-(db|app|web)-1  Started" | sed 's/ *Container //; s/  Started//' | tr '\n' ' ')
check "in dependency order: db, app, web ($order)" test "$order" = "$proj-db-1 $proj-app-1 $proj-web-1 "
expect "restart: no stays down" 0 "$proj-plain-1 .*Exited" "$BERTH" ps -a
expect "on-failure that had exited 0 stays down" 0 "$proj-finished-1 .*Exited \(0\)" "$BERTH" ps -a
expect "unless-stopped that a user stopped stays down" 0 "$proj-paused-1 .*Exited" "$BERTH" ps -a
expect "a container that never started stays down" 0 "$proj-never-1 .*Created" "$BERTH" ps -a
expect "the services reach each other by name again" 0 "hello after boot" "$BERTH" exec -T app wget -qO- http://db/
expect "the published port answers again" 0 "hello after boot" wget -qO- "http://127.0.0.1:$WEB/"
expect "the second project runs again" 0 "$other-solo-1 .*Up" "$BERTH" -p "$other" -f "$WORK/b/compose.yaml" ps
expect_quiet "a second start --all-projects" 0 "$BERTH" start --all-projects
check "finds nothing to start" test "$(grep -c Started <<<"$ERR")" = 0
expect "--all-projects takes no service names" 2 "takes no service names" "$BERTH" start --all-projects web

# after a reboot without the unit: up and start make the network again themselves
reboot_host
expect "up -d after a reboot" 0 "$proj-web-1  Started" "$BERTH" up -d --scale never=0
expect "the services reach each other" 0 "hello after boot" "$BERTH" exec -T app wget -qO- http://db/
expect "the published port answers" 0 "hello after boot" wget -qO- "http://127.0.0.1:$WEB/"
reboot_host
expect "start SERVICE after a reboot" 0 "$proj-db-1  Started" "$BERTH" start db app
expect "and they reach each other" 0 "hello after boot" "$BERTH" exec -T app wget -qO- http://db/

# make install: berth, its shim and the unit; the unit's own command brings the containers back
expect "make install" 0 "berth.service installed in $WORK/inst/units" \
	env -u MAKEFLAGS -u MAKELEVEL make -s -C "$REPO" install PREFIX="$WORK/inst" UNITDIR="$WORK/inst/units"
check "installs berth and berth-shim side by side" test -x "$WORK/inst/bin/berth" -a -x "$WORK/inst/bin/berth-shim"
check "and the unit, naming the installed berth" \
	grep -qx "ExecStart=$WORK/inst/bin/berth start --all-projects" "$WORK/inst/units/berth.service"
if command -v systemd-analyze >/dev/null; then
	expect "systemd-analyze verify finds nothing wrong with the unit" 0 '' systemd-analyze verify "$WORK/inst/units/berth.service"
else
	echo "skip: systemd-analyze is not installed (this host runs no systemd); the unit file was not verified"
fi
reboot_host
exec_start=$(sed -n 's/^ExecStart=//p' "$WORK/inst/units/berth.service")
# shellcheck disable=SC2086
expect "the unit's command after a reboot" 0 "$proj-web-1  Started" $exec_start
expect "the services reach each other" 0 "hello after boot" "$BERTH" exec -T app wget -qO- http://db/

# a network whose record is gone cannot be made again: said, and the rest comes back
reboot_host
netrec=$(ls "$BERTH_ROOT"/net/networks/ | grep "^${other}_" | head -n 1)
mv "$BERTH_ROOT/net/networks/$netrec" "$WORK/netrec.json"
expect "a container whose network record is lost is named, the others come back" 1 \
	"cannot make the network of $other-solo-1 again: network ${other}_default of $other-solo-1 does not exist any more" \
	"$BERTH" start --all-projects
check "(the others came back)" grep -q "$proj-web-1  Started" <<<"$ERR"
mv "$WORK/netrec.json" "$BERTH_ROOT/net/networks/$netrec"

expect "down" 0 Removed "$BERTH" down -t 0
expect "down of the second project" 0 Removed "$BERTH" -p "$other" -f "$WORK/b/compose.yaml" down -t 0
unset COMPOSE_PROJECT_NAME
check_no_leaks "after the reboots"
