#!/bin/bash
# Bridge networks with real traffic, only between this host's loopback and
# containers on bridges this test made: names (service, alias, container,
# links), published TCP and UDP ports on 127.0.0.1 and on a gateway,
# ephemeral ports, hairpin, internal networks, port conflicts, two projects
# side by side, the DNS responder's forwarding, and nothing left after down.
. "$(dirname "$0")/lib.sh"
: "${NETPEER:?set NETPEER to the netpeer test helper (make unit builds it)}"
export COMPOSE_PROJECT_NAME=berthnet$$
proj=$COMPOSE_PROJECT_NAME
cleanup_hooks+=("cd '$WORK/app' 2>/dev/null && '$BERTH' down -t 0 >/dev/null 2>&1")
cleanup_hooks+=("cd '$WORK/other' 2>/dev/null && '$BERTH' down -t 0 >/dev/null 2>&1")
cleanup_hooks+=("[ -n \"\${upstream:-}\" ] && kill \$upstream 2>/dev/null")

load_busybox -t busybox:latest --add "$NETPEER:/bin/netpeer" || not_ok "the busybox image loads"

WEB=$(free_port)
UDP=$(free_port)
ALT=$(free_port)

mkdir -p "$WORK/app/www" && cd "$WORK/app"
echo "hello from web" >www/index.html
cat >compose.yaml <<YAML
services:
  web:
    image: busybox
    init: true
    command: httpd -f -p 80 -h /www
    volumes: ["./www:/www:ro"]
    ports: ["$WEB:80", "80", "127.0.0.1:$UDP:7/udp"]
    networks:
      front:
        aliases: [www]
      back: {}
  echo:
    image: busybox
    init: true
    network_mode: "service:web"
    command: netpeer udp-echo 7
  client:
    image: busybox
    init: true
    command: sleep 300
    networks: [front]
    links: ["web:legacy"]
  eph:
    image: busybox
    init: true
    command: httpd -f -p 8080 -h /www
    volumes: ["./www:/www:ro"]
    ports: ["8080"]
    networks:
      front: {}
  vault:
    image: busybox
    init: true
    command: sleep 300
    networks: [back]
  fixed:
    image: busybox
    init: true
    command: sleep 300
    networks:
      back:
        ipv4_address: 10.213.7.50
networks:
  front:
    driver_opts:
      com.docker.network.bridge.name: berthtf$$
  back:
    internal: true
    ipam:
      config: [{subnet: 10.213.7.0/24}]
YAML
expect "up -d creates the networks" 0 "Network ${proj}_front  Created" "$BERTH" up -d
inside() { "$BERTH" exec -T "$@"; }

# names
expect "a service reaches another by service name" 0 "hello from web" inside client wget -qO- http://web/
expect "by alias" 0 "hello from web" inside client wget -qO- http://www/
expect "by container name" 0 "hello from web" inside client wget -qO- "http://$proj-web-1/"
expect "by a link's alias" 0 "hello from web" inside client wget -qO- http://legacy/
expect "a name not on a shared network is not answered" 1 "NXDOMAIN" inside client nslookup vault
expect "an internal network's container reaches its peers" 0 "hello from web" inside vault wget -qO- http://web/
expect "an unknown name is NXDOMAIN at once" 1 "NXDOMAIN" inside client nslookup nosuchname
expect "ipv4_address is honoured" 0 "inet 10.213.7.50/24" inside fixed ip -4 addr show eth0
expect "the bridge name from driver_opts is used" 0 "berthtf$$" ip -o link show "berthtf$$"

# published ports
expect "a published TCP port answers on 127.0.0.1" 0 "hello from web" wget -qO- "http://127.0.0.1:$WEB/"
gw=$(ip -4 -o addr show "berthtf$$" | awk '{print $4}' | cut -d/ -f1)
expect "resolv.conf points at the gateway of its network" 0 "^nameserver $gw$" inside client cat /etc/resolv.conf
expect "and on the bridge's gateway address" 0 "hello from web" wget -qO- "http://$gw:$WEB/"
expect "hairpin: a container reaches a published port through the host" 0 "hello from web" \
	inside client wget -qO- "http://$gw:$WEB/"
expect "a published UDP port answers" 0 "echo:ping" "$NETPEER" udp-send 127.0.0.1 "$UDP" ping
run "$BERTH" port web 80
check "port prints the published port" test "$OUT" = "0.0.0.0:$WEB"
run "$BERTH" port --index 1 --protocol udp web 7
check "port --protocol udp" test "$OUT" = "127.0.0.1:$UDP"
eph=$("$BERTH" ps | grep -o "0.0.0.0:[0-9]*->80/tcp" | grep -v ":$WEB->" | cut -d: -f2 | cut -d- -f1)
check "ps shows the ephemeral port" test -n "$eph"
expect "the ephemeral port answers" 0 "hello from web" wget -qO- "http://127.0.0.1:$eph/"
expect "ps shows the ports as docker does" 0 "0.0.0.0:$WEB->80/tcp, 0.0.0.0:$eph->80/tcp, 127.0.0.1:$UDP->7/udp" "$BERTH" ps
expect "port of an unpublished port says so" 1 "does not publish port 81/tcp" "$BERTH" port web 81
run "$BERTH" port eph 8080
check "port reports the ephemeral port of a bare container port ($OUT)" grep -Eqx '0\.0\.0\.0:[0-9]+' <<<"$OUT"
expect "and it answers there" 0 "hello from web" wget -qO- "http://127.0.0.1:${OUT#0.0.0.0:}/"

# internal network: no default route out, no NAT rule for it
expect "(an internal network's container has its network's route)" 0 'dev eth0' "$BERTH" exec -T vault ip route
none_match "and no default route" '^default' "$BERTH" exec -T vault ip route
back_br=$(jq -r .bridge "$BERTH_ROOT/net/networks/${proj}_back.json" 2>/dev/null ||
	grep -o '"bridge": "[^"]*"' "$BERTH_ROOT/net/networks/${proj}_back.json" | cut -d'"' -f4)
check "the internal network has a bridge" test -n "$back_br"
check "and no masquerade rule out of it" sh -c "! nft list table ip $(nft_table) | grep 'saddr 10.213.7.0/24 oifname != \"$back_br\" masquerade'"
check "the other network has one" sh -c "nft list table ip $(nft_table) | grep -q 'oifname != \"berthtf$$\" masquerade'"

# a recreated container is found at its new address at once
sed -i '0,/    links: \["web:legacy"\]/s//    links: ["web:legacy"]\n    environment: [CHANGED=1]/' compose.yaml
"$BERTH" up -d client >/dev/null 2>&1
expect "a recreated container still reaches others by name" 0 "hello from web" inside client wget -qO- http://web/
expect "and is resolvable by name at once" 0 "Address: 1[0-9.]*" inside web nslookup client

# port conflicts: nothing is created
mkdir -p "$WORK/other" && cd "$WORK/other"
cat >compose.yaml <<YAML
services:
  clash:
    image: busybox
    command: sleep 300
    ports: ["$WEB:8080"]
YAML
expect "a port published by another project is refused" 1 "service clash: port 0.0.0.0:$WEB/tcp is already in use by another berth container" \
	env COMPOSE_PROJECT_NAME=${proj}b "$BERTH" up -d
expect_quiet "and nothing was created" 0 env COMPOSE_PROJECT_NAME=${proj}b "$BERTH" ps -aq
check "not even its network" test ! -e "$BERTH_ROOT/net/networks/${proj}b_default.json"
"$NETPEER" udp-echo "$ALT" &
holder=$!
cleanup_hooks+=("kill $holder 2>/dev/null")
busybox httpd -f -p "127.0.0.1:$ALT" -h "$WORK/app/www" &
holder2=$!
cleanup_hooks+=("kill $holder2 2>/dev/null")
check "(the host's processes hold the port)" wait_until 10 sh -c \
	"ss -Hlnt 'sport = :$ALT' | grep -q . && ss -Hlnu 'sport = :$ALT' | grep -q ."
sed -i "s/\"$WEB:8080\"/\"$ALT:8080\"/" compose.yaml
expect "a port bound by a host process is refused, naming it" 1 "port 0.0.0.0:$ALT/tcp is already in use by process busybox \(pid $holder2\)" \
	env COMPOSE_PROJECT_NAME=${proj}b "$BERTH" up -d
expect_quiet "and nothing was created" 0 env COMPOSE_PROJECT_NAME=${proj}b "$BERTH" ps -aq
kill $holder $holder2 2>/dev/null
wait $holder $holder2 2>/dev/null
printf 'services:\n  a: {image: busybox, command: sleep 300, ports: ["%s:80"]}\n  b: {image: busybox, command: sleep 300, ports: ["%s:81"]}\n' "$ALT" "$ALT" >compose.yaml
expect "two services of one file publishing one port are refused" 1 "both publish host port $ALT/tcp" \
	env COMPOSE_PROJECT_NAME=${proj}b "$BERTH" up -d
expect_quiet "and nothing was created" 0 env COMPOSE_PROJECT_NAME=${proj}b "$BERTH" ps -aq

# two projects side by side: other subnets, no names of each other
cat >compose.yaml <<YAML
services:
  web:
    image: busybox
    init: true
    command: sleep 300
YAML
expect "a second project comes up beside the first" 0 "Started" env COMPOSE_PROJECT_NAME=${proj}b "$BERTH" up -d
sub1=$(grep -o '"subnet": "[^"]*"' "$BERTH_ROOT/net/networks/${proj}_front.json" | cut -d'"' -f4)
sub2=$(grep -o '"subnet": "[^"]*"' "$BERTH_ROOT/net/networks/${proj}b_default.json" | cut -d'"' -f4)
check "with another subnet ($sub1, $sub2)" test -n "$sub2" -a "$sub1" != "$sub2"
expect "it resolves its own web" 0 "Address: $(echo "$sub2" | cut -d. -f1-2)\." env COMPOSE_PROJECT_NAME=${proj}b "$BERTH" exec -T web nslookup web
expect "but not the first project's client" 1 "NXDOMAIN" env COMPOSE_PROJECT_NAME=${proj}b "$BERTH" exec -T web nslookup client
expect "nor its containers by name" 1 "NXDOMAIN" env COMPOSE_PROJECT_NAME=${proj}b "$BERTH" exec -T web nslookup "$proj-web-1"

# forwarding: names berth does not know go to the upstream, here a fake one on loopback
cd "$WORK/app"
"$BERTH" down -t 0 >/dev/null 2>&1
(cd "$WORK/other" && COMPOSE_PROJECT_NAME=${proj}b "$BERTH" down -t 0 >/dev/null 2>&1)
check "the responder is gone when no network remains" sh -c "! pgrep -f 'berth-shi[m] dns $BERTH_ROOT ' >/dev/null"
DNSP=$(free_port)
"$NETPEER" dns "$DNSP" 10.77.0.7 >"$WORK/upstream.log" &
upstream=$!
BERTH_DNS_UPSTREAM=127.0.0.1:$DNSP "$BERTH" up -d client >/dev/null 2>&1
expect "a dotted name berth does not know is forwarded upstream" 0 "Address: 10.77.0.7" inside client nslookup example.test
expect "a service name is still answered by berth" 0 "Address: 1" inside client nslookup web
inside client nslookup other.test >/dev/null 2>&1
# a spoofer must guess both: each forwarded question has its own source port and a random id
check "forwarded questions come from different source ports" \
	test "$(awk '{print $2}' "$WORK/upstream.log" | sort -u | wc -l)" -ge 3
check "with ids that do not follow one another" \
	sh -c "awk '{print \$3}' '$WORK/upstream.log' | awk 'NR > 1 && (\$1 - prev == 1) {seq++} {prev = \$1} END {exit seq >= 2}'"
dnspid=$(pgrep -f "berth-shi[m] dns $BERTH_ROOT ")
expect "the responder runs as nobody" 0 'Uid:.65534.65534.65534.65534' grep Uid "/proc/$dnspid/status"
expect "holding only the capability to bind port 53" 0 'CapEff:.0000000000000400' grep CapEff "/proc/$dnspid/status"
"$BERTH" down -t 0 >/dev/null 2>&1
kill $upstream 2>/dev/null
wait $upstream 2>/dev/null
"$NETPEER" dns "$DNSP" 10.77.0.7 wrong >"$WORK/spoof.log" &
upstream=$!
BERTH_DNS_UPSTREAM=127.0.0.1:$DNSP "$BERTH" up -d client >/dev/null 2>&1
expect "an answer to another question than the one asked is not taken" 1 "can't find|SERVFAIL|timed out" \
	inside client nslookup spoofed.test
check "(the question did reach the upstream, which answered it wrongly)" grep -q . "$WORK/spoof.log"
"$BERTH" down -t 0 >/dev/null 2>&1
kill $upstream 2>/dev/null
wait $upstream 2>/dev/null

# A host firewall whose forward chain drops by default (iptables' FORWARD
# once Docker is installed), in a network namespace this test made, so the
# machine's own ruleset is never touched.
ns=berthfw$$
ip netns add $ns && cleanup_hooks+=("ip netns del $ns 2>/dev/null")
ip netns exec $ns ip link set lo up
printf 'table ip filter {\n chain FORWARD { type filter hook forward priority 0; policy drop; }\n}\n' |
	ip netns exec $ns nft -f -
mkdir -p "$WORK/fw" && cd "$WORK/fw"
cat >compose.yaml <<YAML
services:
  web:
    image: busybox
    init: true
    command: httpd -f -p 80 -h /www
    volumes: ["$WORK/app/www:/www:ro"]
    ports: ["$WEB:80"]
  client:
    image: busybox
    init: true
    command: sleep 300
YAML
cleanup_hooks+=("cd '$WORK/fw' && nsenter --net=/run/netns/$ns '$BERTH' down -t 0 >/dev/null 2>&1")
# nsenter, not ip netns exec: that one mounts a new /sys, without the
# cgroup hierarchies berth needs to limit a container's devices
inns() { nsenter --net=/run/netns/$ns "$@"; }
expect "in a namespace whose forward policy is drop, up works" 0 "Started" inns "$BERTH" up -d
fwgw=$(inns ip -4 -o addr show | awk '/berth-/ {print $4}' | cut -d/ -f1 | head -1)
expect "hairpin still works through the drop policy" 0 "hello from web" inns "$BERTH" exec -T client wget -qO- "http://$fwgw:$WEB/"
expect "because berth put its own accept rules in that chain" 0 'comment "berth' inns nft list chain ip filter FORWARD
expect "a published port answers on that namespace's 127.0.0.1" 0 "hello from web" inns wget -qO- "http://127.0.0.1:$WEB/"
# A host beyond that firewall, routed through it: it reaches the published
# port, but the firewall's drop policy still keeps it from the container's
# other ports (berth's accept rules let in only replies and published ports).
out=fwout$$
ip netns add $out && cleanup_hooks+=("ip netns del $out 2>/dev/null")
ip link add fwa$$ netns $ns type veth peer name fwb$$ netns $out
inns ip addr add 10.250.0.1/30 dev fwa$$ && inns ip link set fwa$$ up
ip netns exec $out ip addr add 10.250.0.2/30 dev fwb$$ && ip netns exec $out ip link set fwb$$ up
ctrip=$(inns "$BERTH" exec -T web ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
ip netns exec $out ip route add "$ctrip/32" via 10.250.0.1
inns sysctl -qw net.ipv4.ip_forward=1
inns "$BERTH" exec -d web httpd -p 8081 -h /www
check "the container's port 8081 answers its own host" wait_until 5 inns wget -T 1 -t 1 -qO- "http://$ctrip:8081/"
expect "a host beyond the firewall reaches the published port" 0 "hello from web" \
	ip netns exec $out wget -T 3 -t 1 -qO- "http://10.250.0.1:$WEB/"
expect_quiet "but not the container's unpublished port, which the firewall drops" 4 \
	ip netns exec $out wget -T 2 -t 1 -qO- "http://$ctrip:8081/"
inns "$BERTH" down -t 0 >/dev/null 2>&1
expect_quiet "down takes berth's rules out of that chain again" 1 sh -c "ip netns exec $ns nft list chain ip filter FORWARD | grep berth"
check "and the chain and its policy are still there" sh -c "ip netns exec $ns nft list chain ip filter FORWARD | grep -q 'policy drop'"
expect_quiet "and no berth link is left in the namespace" 1 sh -c "ip netns exec $ns ip -o link | grep berth"

check_no_leaks "after down"
