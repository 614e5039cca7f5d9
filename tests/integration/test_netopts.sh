#!/bin/bash
# Network options of services and networks: external networks and the
# network commands, replicas answered together, extra_hosts, dns,
# dns_search, dns_opt, hostname, domainname, mac_address, network_mode
# none and container:, and 50 up/down cycles that leave the host as it was.
. "$(dirname "$0")/lib.sh"
export COMPOSE_PROJECT_NAME=berthnopt$$
proj=$COMPOSE_PROJECT_NAME
shared=berthshared$$
cleanup_hooks+=("cd '$WORK/app' 2>/dev/null && '$BERTH' down -t 0 >/dev/null 2>&1")
cleanup_hooks+=("'$BERTH' network rm $shared >/dev/null 2>&1")
load_busybox -t busybox:latest || not_ok "the busybox image loads"
mkdir -p "$WORK/app" && cd "$WORK/app"

expect "an external network that does not exist is refused before anything starts" 1 \
	"network $shared is declared as external, but could not be found; create it first with .berth network create $shared." \
	sh -c "printf 'services:\n  a: {image: busybox, command: sleep 300, networks: [ext]}\nnetworks:\n  ext: {external: true, name: $shared}\n' | '$BERTH' -f - up -d"
expect_quiet "and nothing was created" 0 "$BERTH" -f - ps -aq </dev/null 2>/dev/null
expect "network create makes one" 0 "^$shared$" "$BERTH" network create --subnet 10.214.9.0/24 --label team=a $shared
expect "network ls lists it" 0 "$shared +bridge +10.214.9.0/24 +10.214.9.1 " "$BERTH" network ls
expect "network inspect shows it" 0 '"team": "a"' "$BERTH" network inspect $shared
expect "creating it twice is refused" 1 "network $shared exists already" "$BERTH" network create $shared
cat >compose.yaml <<YAML
services:
  web:
    image: busybox
    init: true
    command: sleep 300
    scale: 2
    networks: [ext, default]
  probe:
    image: busybox
    init: true
    command: sleep 300
    hostname: probe
    domainname: example.test
    mac_address: 02:42:0a:d6:09:99
    extra_hosts: ["gateway.test=10.1.2.3", "other.test:10.1.2.4"]
    networks: [ext]
  opts:
    image: busybox
    init: true
    command: sleep 300
    dns_search: [corp.test]
    dns_opt: [timeout:1, attempts:2]
    networks: [ext]
  external-dns:
    image: busybox
    init: true
    command: sleep 300
    dns: [10.214.9.53]
    network_mode: none
  twin:
    image: busybox
    init: true
    command: sleep 300
    network_mode: "container:$proj-probe-1"
    depends_on: [probe]
networks:
  ext:
    external: true
    name: $shared
YAML
expect "a project uses the external network" 0 "Started" "$BERTH" up -d
inside() { "$BERTH" exec -T "$@"; }
expect "every replica of a service is answered" 0 "Address: 10.214.9.[0-9]+.*Address: 10.214.9.[0-9]+" \
	sh -c "'$BERTH' exec -T probe nslookup web | tr '\n' ' '"
first=$(inside probe nslookup web | awk '/^Address: 10/ {print $2; exit}')
second=$(inside probe nslookup web | awk '/^Address: 10/ {print $2; exit}')
check "and the order rotates from one query to the next ($first, $second)" test "$first" != "$second"
expect "extra_hosts land in /etc/hosts (both forms)" 0 "10.1.2.3	gateway.test.*10.1.2.4	other.test" \
	sh -c "'$BERTH' exec -T probe cat /etc/hosts | tr '\n' ' '"
expect "the container's own address and names are in /etc/hosts" 0 "10.214.9.[0-9]+	probe.example.test probe" inside probe cat /etc/hosts
expect "dns_search and dns_opt land in resolv.conf" 0 "search corp.test.*options timeout:1 attempts:2" \
	sh -c "'$BERTH' exec -T opts cat /etc/resolv.conf | tr '\n' ' '"
expect "with berth's ndots:0, so that short names are asked as they are first" 0 "^options ndots:0$" inside opts cat /etc/resolv.conf
expect "so a short name resolves before the search domain is tried" 0 "PING web \(10.214.9." inside opts ping -c1 -W1 web
expect "a dotted name whose upstream is not there gets SERVFAIL at once, not silence" 1 "SERVFAIL" inside opts nslookup unknown.example.test
expect "dns replaces berth's responder" 0 "^nameserver 10.214.9.53$" inside external-dns cat /etc/resolv.conf
expect "mac_address is set" 0 "link/ether 02:42:0a:d6:09:99" inside probe ip link show eth0
expect "the hostname is resolvable by others" 0 "Address: 10.214.9." inside web nslookup probe
expect "network_mode none has only lo" 0 "^lo$" sh -c "'$BERTH' exec -T external-dns ip -o link | awk -F': ' '{print \$2}'"
expect "network_mode container: shares the other's network" 0 "link/ether 02:42:0a:d6:09:99" inside twin ip link show eth0
expect "an ipv4_address outside the subnet is refused, naming the service" 1 \
	"service bad: network $shared: ipv4_address 10.9.9.9 is not in subnet 10.214.9.0/24" \
	sh -c "printf 'services:\n  bad: {image: busybox, command: sleep 1, networks: {ext: {ipv4_address: 10.9.9.9}}}\nnetworks:\n  ext: {external: true, name: $shared}\n' | '$BERTH' -p ${proj}x -f - up -d"
check "and leaves nothing behind" test -z "$(ls "$BERTH_ROOT/containers" | grep "${proj}x")"
expect "network rm of a network in use names who uses it" 1 "network $shared is still used by .*$proj-probe-1" "$BERTH" network rm $shared
expect "down keeps the external network" 0 "Network ${proj}_default  Removed" "$BERTH" down -t 0
check "it is still there" test -e "$BERTH_ROOT/net/networks/$shared.json"
expect "network rm removes it when unused" 0 "^$shared$" "$BERTH" network rm $shared
expect "network rm of an unknown network says so" 1 "no such network: $shared" "$BERTH" network rm $shared
expect "enable_ipv6 says it is not supported yet" 0 "IPv6 is not supported yet" \
	sh -c "printf 'services:\n  a: {image: busybox, init: true, command: sleep 1, networks: [v6]}\nnetworks:\n  v6: {enable_ipv6: true}\n' >v6.yaml && '$BERTH' -f v6.yaml up -d && '$BERTH' -f v6.yaml down -t 0"
printf 'services:\n  a: {image: busybox, init: true, command: sleep 300}\nnetworks:\n  default:\n    driver_opts: {com.docker.network.driver.mtu: 1400}\n    labels: [tier=test]\n' >mtu.yaml
"$BERTH" -f mtu.yaml up -d >/dev/null 2>&1
expect "driver_opts mtu reaches the container's interface" 0 "mtu 1400" "$BERTH" -f mtu.yaml exec -T a ip link show eth0
expect "network labels are kept" 0 '"tier": "test"' "$BERTH" network inspect "${proj}_default"
"$BERTH" -f mtu.yaml down -t 0 >/dev/null 2>&1
# subnets that would send traffic astray are refused, and nothing is made
ip link add berthdum$$ type bridge && cleanup_hooks+=("ip link del berthdum$$ 2>/dev/null")
ip addr add 10.216.4.1/24 dev berthdum$$ && ip link set berthdum$$ up
printf 'services:\n  a: {image: busybox, command: sleep 1, networks: [n]}\nnetworks:\n  n:\n    ipam: {config: [{subnet: 10.216.4.0/24}]}\n' >hostroute.yaml
expect "a subnet the host already routes is refused" 1 "network ${proj}_n: subnet 10.216.4.0/24 overlaps 10.216.4.0/24, which the host already routes; choose another subnet" \
	"$BERTH" -f hostroute.yaml up -d
check "and no network was made" test ! -e "$BERTH_ROOT/net/networks/${proj}_n.json"
ip link del berthdum$$
"$BERTH" -f hostroute.yaml down >/dev/null 2>&1
"$BERTH" network create --subnet 10.216.5.0/24 "berthtaken$$" >/dev/null
sed -i 's#10.216.4.0/24#10.216.5.128/25#' hostroute.yaml
expect "a subnet inside another berth network is refused" 1 "subnet 10.216.5.128/25 overlaps 10.216.5.0/24 of another berth network" \
	"$BERTH" -f hostroute.yaml up -d
"$BERTH" network rm "berthtaken$$" >/dev/null
printf 'services:\n  a: {image: busybox, command: sleep 1, mac_address: "not-a-mac"}\n' >mac.yaml
expect "a bad mac_address is refused, showing the form" 1 "mac_address not-a-mac is not a MAC address such as 02:42:ac:11:00:02" \
	"$BERTH" -f mac.yaml up -d
expect_quiet "and nothing is left of it" 0 "$BERTH" -f mac.yaml ps -aq
"$BERTH" -f mac.yaml down >/dev/null 2>&1
check_no_leaks "after down"

# 50 up/down cycles leave the host's links, nftables rules and open files as they were
printf 'services:\n  a: {image: busybox, init: true, command: sleep 300, ports: ["80"]}\n  b: {image: busybox, init: true, command: sleep 300}\n' >compose.yaml
# a network's bridge options: enable_icc, enable_ip_masquerade, host_binding_ipv4; any other is refused
port=$(free_port)
cat >bridgeopts.yaml <<YAML
services:
  a: {image: busybox, init: true, command: sleep 300, networks: [iso]}
  b:
    image: busybox
    init: true
    command: sh -c 'mkdir -p /www && echo served >/www/index.html && httpd -f -p 80 -h /www'
    networks: [iso]
    ports: ["$port:80"]
  c: {image: busybox, init: true, command: sleep 300, networks: [nonat]}
networks:
  iso:
    driver_opts:
      com.docker.network.bridge.enable_icc: "false"
      com.docker.network.bridge.host_binding_ipv4: "127.0.0.1"
  nonat:
    driver_opts: {com.docker.network.bridge.enable_ip_masquerade: "false"}
YAML
expect "up with bridge options" 0 Started "$BERTH" -f bridgeopts.yaml up -d
bip=$("$BERTH" -f bridgeopts.yaml inspect "$proj-b-1" | jq -r '.[0].NetworkSettings.Networks[].IPAddress')
gw=$("$BERTH" -f bridgeopts.yaml inspect "$proj-b-1" | jq -r '.[0].NetworkSettings.Networks[].Gateway')
check "(b serves on its address: the host reaches it there)" wait_until 10 sh -c "wget -T 2 -qO- http://$bip/ | grep -q served"
# (busybox wget -T segfaults: nc asks, and says what came back)
expect "enable_icc=false: a cannot reach b on their network" 0 '^unreachable$' "$BERTH" -f bridgeopts.yaml exec -T a sh -c "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 $bip 80 | grep -q served && echo reachable || echo unreachable"
expect "... but still reaches the gateway" 0 'bytes from' "$BERTH" -f bridgeopts.yaml exec -T a ping -c1 -W2 "$gw"
check "host_binding_ipv4: the port answers on 127.0.0.1" wait_until 10 sh -c "wget -T 2 -qO- http://127.0.0.1:$port/ | grep -q served"
expect "... and is published on that address only" 0 "^127\\.0\\.0\\.1:$port->80/tcp\$" "$BERTH" -f bridgeopts.yaml ps --format '{{.Ports}}' b
check "enable_ip_masquerade=false: no masquerade rule for its subnet" sh -c "
	sub=\$(jq -r .subnet '$BERTH_ROOT/net/networks/${proj}_nonat.json'); isub=\$(jq -r .subnet '$BERTH_ROOT/net/networks/${proj}_iso.json')
	nft list table ip $(nft_table) | grep -q \"ip saddr \$isub .* masquerade\" && ! nft list table ip $(nft_table) | grep \"ip saddr \$sub \" | grep -v 'ct status dnat' | grep -q masquerade"
"$BERTH" -f bridgeopts.yaml down -t 0 >/dev/null 2>&1
check "down leaves no bridge-family table" sh -c "! nft list tables | grep -qx 'table bridge $(nft_table)'"
printf 'services:\n  a: {image: busybox, networks: [n]}\nnetworks:\n  n: {driver_opts: {com.docker.network.bridge.gateway_mode_ipv4: routed}}\n' >badopt.yaml
expect "an unknown bridge option is refused by name" 1 'badopt.yaml:4:.*driver_opts com.docker.network.bridge.gateway_mode_ipv4 is not supported' "$BERTH" -f badopt.yaml up -d
printf 'services:\n  a: {image: busybox, networks: [n]}\nnetworks:\n  n: {driver_opts: {com.docker.network.bridge.enable_icc: "maybe"}}\n' >badopt.yaml
expect "enable_icc takes true or false" 1 'enable_icc takes true or false' "$BERTH" -f badopt.yaml up -d

# per-network interface_name and gw_priority; ipam aux_addresses never handed out
cat >gw.yaml <<'YAML'
services:
  m:
    image: busybox
    init: true
    command: sleep 300
    networks:
      front:
        interface_name: front0
        link_local_ips: [169.254.9.9]
        driver_opts: {com.docker.network.endpoint.sysctls: "net.ipv4.conf.IFNAME.log_martians=1,net.ipv4.conf.IFNAME.arp_ignore=2"}
      back: {gw_priority: 10}
networks:
  front: {}
  back:
    ipam: {config: [{subnet: 10.214.77.0/24, aux_addresses: {host1: 10.214.77.2, host2: 10.214.77.3}}]}
YAML
expect "up with interface_name, gw_priority and aux_addresses" 0 Started "$BERTH" -f gw.yaml up -d
expect "interface_name names the interface in the container" 0 'front0' "$BERTH" -f gw.yaml exec -T m ip -o link show front0
expect "link_local_ips are addresses of the interface" 0 'inet 169\.254\.9\.9/16' "$BERTH" -f gw.yaml exec -T m ip -o addr show front0
expect "endpoint sysctls are set on that interface" 0 '^1 2$' "$BERTH" -f gw.yaml exec -T m sh -c 'echo $(cat /proc/sys/net/ipv4/conf/front0/log_martians /proc/sys/net/ipv4/conf/front0/arp_ignore)'
expect "and not on the container's other interface" 0 '^eth0 0$' "$BERTH" -f gw.yaml exec -T m sh -c 'cd /proc/sys/net/ipv4/conf && for d in eth*; do echo $d $(cat $d/arp_ignore); done'
expect "gw_priority: the default route goes through that network" 0 '^default via 10\.214\.77\.1 ' "$BERTH" -f gw.yaml exec -T m ip route
expect "aux_addresses are never handed out" 0 '^10\.214\.77\.4$' sh -c "'$BERTH' -f gw.yaml inspect $proj-m-1 | jq -r '.[0].NetworkSettings.Networks[\"${proj}_back\"].IPAddress'"
"$BERTH" -f gw.yaml down -t 0 >/dev/null 2>&1
printf 'services:\n  m: {image: busybox, networks: {default: {link_local_ips: [10.1.1.1]}}}\n' >badif.yaml
expect "a link_local_ips address outside 169.254.0.0/16 is refused" 1 'link_local_ips: 10.1.1.1 is not an IPv4 address of 169.254.0.0/16' "$BERTH" -f badif.yaml up -d
printf 'services:\n  m: {image: busybox, networks: {default: {interface_name: lo}}}\n' >badif.yaml
expect "interface_name lo is refused" 1 'interface_name lo cannot be used' "$BERTH" -f badif.yaml up -d
for bad in 'net.ipv4.conf.IFNAME.x/../../../../../proc/sys/kernel/hostname=x' 'net.ipv4.conf.eth0.log_martians=1' 'kernel.IFNAME.a.b.c=1' 'net.ipv4.conf.IFNAME..=1'; do
	printf 'services:\n  m: {image: busybox, networks: {default: {driver_opts: {com.docker.network.endpoint.sysctls: "%s"}}}}\n' "$bad" >badif.yaml
	expect "an endpoint sysctl $bad is refused" 1 'badif.yaml:2:.*is not of the form net.X.Y.IFNAME.Z=VALUE' "$BERTH" -f badif.yaml up -d
done
printf 'services:\n  m: {image: busybox, networks: {default: {driver_opts: {com.docker.network.endpoint.macaddr: x}}}}\n' >badif.yaml
expect "another endpoint driver option is refused by name" 1 'driver_opts com.docker.network.endpoint.macaddr is not supported here' "$BERTH" -f badif.yaml up -d
printf 'services:\n  m: {image: busybox, command: sleep 300, networks: {default: {driver_opts: {com.docker.network.endpoint.sysctls: "net.ipv4.conf.IFNAME.no_such_setting=1"}}}}\n' >badif.yaml
expect "an endpoint sysctl the kernel does not have fails up, naming it" 1 'cannot set sysctl net.ipv4.conf.IFNAME.no_such_setting=1 of interface eth0' "$BERTH" -f badif.yaml up -d
expect_quiet "and leaves no container behind" 0 "$BERTH" -f badif.yaml ps -aq
"$BERTH" -f badif.yaml down -t 0 >/dev/null 2>&1
printf 'services:\n  m: {image: busybox, networks: [n]}\nnetworks:\n  n: {ipam: {config: [{subnet: 10.214.78.0/24, aux_addresses: {a: 10.9.9.9}}]}}\n' >badaux.yaml
expect "an aux address outside the subnet is refused" 1 'aux_addresses a: 10.9.9.9 is not an IPv4 address of the subnet' "$BERTH" -f badaux.yaml up -d

# 50 up/down cycles beside a stack of the same state root that stays up
# (and keeps its one DNS responder): what is this root's on the host is
# what it was, and the responder holds no more descriptors.
printf 'services:\n  keep: {image: busybox, command: sleep 600}\n' >keep.yaml
expect "a stack that stays up through the cycles" 0 Started "$BERTH" -f keep.yaml -p "${proj}keep" up -d
dns=$(pgrep -f "berth-shi[m] dns $BERTH_ROOT ")
fds() { ls "/proc/$dns/fd" 2>/dev/null | wc -l; }
links_before=$(root_links | wc -l)
rules_before=$(nft list table ip "$(nft_table)" | wc -l)
fds_before=$(fds)
check "(the counts see it: $links_before links, $rules_before lines of rules, $fds_before descriptors)" \
	test "$links_before" -ge 2 -a "$rules_before" -gt 0 -a "$fds_before" -gt 0
ok_cycles=0
for i in $(seq 1 50); do
	"$BERTH" up -d >/dev/null 2>&1 && "$BERTH" down -t 0 >/dev/null 2>&1 && ok_cycles=$((ok_cycles + 1))
done
check "50 up/down cycles all succeed ($ok_cycles)" test "$ok_cycles" -eq 50
check "this root's links are what they were" test "$(root_links | wc -l)" -eq "$links_before"
check "its nftables table is as long as it was" test "$(nft list table ip "$(nft_table)" | wc -l)" -eq "$rules_before"
check "the same DNS responder runs, holding no more descriptors ($fds_before -> $(fds))" \
	test "$(pgrep -f "berth-shi[m] dns $BERTH_ROOT ")" = "$dns" -a "$(fds)" -le "$fds_before"
"$BERTH" -f keep.yaml -p "${proj}keep" down -t 0 >/dev/null 2>&1
check_no_leaks "after 50 cycles"
