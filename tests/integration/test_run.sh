#!/bin/bash
# berth run: one-off containers of a service, attached to the caller's
# stdio, with its exit code; dependencies first; --rm leaves nothing.
. "$(dirname "$0")/lib.sh"
export COMPOSE_PROJECT_NAME=berthrun$$
proj=$COMPOSE_PROJECT_NAME
cleanup_hooks+=("cd '$WORK/app' 2>/dev/null && '$BERTH' down -v -t 0 >/dev/null 2>&1")
load_busybox -t busybox:latest || not_ok "the busybox image loads"
mkdir -p "$WORK/app" && cd "$WORK/app"
cat >compose.yaml <<'YAML'
services:
  db:
    image: busybox
    init: true
    command: sleep 300
  tool:
    image: busybox
    init: true
    command: echo the-default-command
    environment: [FROM_FILE=yes]
    depends_on: [db]
    ports: ["80"]
    volumes: ["shared:/shared"]
  lone:
    image: busybox
    network_mode: none
volumes:
  shared: {}
YAML
expect "run prints the service's command's output" 0 "^the-default-command$" "$BERTH" run --rm tool
expect "and starts what it depends on first" 0 "$proj-db-1 .* Up" "$BERTH" ps
expect "a given command replaces the service's, flags and all" 0 "^-n -e x $" "$BERTH" run --rm tool printf '%s ' -n -e x
expect "its exit code is the command's" 7 "" "$BERTH" run --rm tool sh -c 'exit 7'
expect "stdin reaches it" 0 "^piped in$" sh -c "echo 'piped in' | '$BERTH' run --rm -T tool cat"
expect "-e adds to the environment" 0 "^yes set$" "$BERTH" run --rm -e EXTRA=set tool sh -c 'echo $FROM_FILE $EXTRA'
expect "it reaches its dependencies by name" 0 "Address: " "$BERTH" run --rm tool nslookup db
expect "it shares the service's volumes" 0 "^x$" sh -c "'$BERTH' run --rm tool sh -c 'echo x > /shared/f' && '$BERTH' run --rm tool cat /shared/f"
# The rules are read while the one-off runs (it waits for a file that the
# test puts into its volume); with --service-ports they are there.
vol=$("$BERTH" volume inspect "${proj}_shared" | sed -n 's/.*"Mountpoint": "\(.*\)".*/\1/p')
waiter() { "$BERTH" run -d --rm "$@" tool sh -c 'until [ -e /shared/go ]; do sleep 0.1; done; rm /shared/go'; }
waiter >/dev/null 2>&1
expect_quiet "without --service-ports nothing is published (read while it runs)" 1 sh -c "nft list table ip $(nft_table) | grep 'dport'"
touch "$vol/go" && wait_until 20 sh -c "'$BERTH' ps -a --format '{{.Name}}' >'$WORK/names' && ! grep -q -- -run- '$WORK/names'"
waiter --service-ports >/dev/null 2>&1
expect "... and with it, the service's port is: the check can see one" 0 'dport' nft list table ip "$(nft_table)"
touch "$vol/go" && wait_until 20 sh -c "'$BERTH' ps -a --format '{{.Name}}' >'$WORK/names' && ! grep -q -- -run- '$WORK/names'"
none_match "--rm leaves no container behind" -run- "$BERTH" ps -a --format '{{.Name}}'
expect "-d runs it in the background and prints its name" 0 "^$proj-tool-run-[0-9a-f]{12}$" "$BERTH" run -d tool sleep 30
expect "--name names it" 0 "^named-$$$" "$BERTH" run -d --name named-$$ tool sleep 30
expect "it is listed" 0 "named-$$ " "$BERTH" ps
expect "a name in use is refused, saying what to do" 1 "a container named named-$$ exists already; remove it \(berth rm\) or give another --name" \
	"$BERTH" run -d --name named-$$ tool true
expect "network_mode none runs too" 0 "^1: lo" sh -c "'$BERTH' run --rm lone ip -o link | tr -d '\n'"
expect "an unknown service is refused" 1 "no such service: nope" "$BERTH" run --rm nope true
expect "down removes one-off containers too" 0 "named-$$  Removed" "$BERTH" down -v -t 0
check_no_leaks "after down"
