#!/bin/bash
# Hostile input: every case ends in one clean message (or a clean load),
# never a crash, within a memory bound. Uses the plain build (BERTH_PLAIN):
# the sanitizers reserve too much address space for `ulimit -v`.
. "$(dirname "$0")/lib.sh"
PLAIN=${BERTH_PLAIN:-$REPO/build/berth}
cd "$WORK"

bounded() { (ulimit -v 1048576 && "$PLAIN" "$@"); } # 1 GiB of address space

# a 10 MB compose file (one long value and many comments) loads
{
	printf 'services:\n  web:\n    image: busybox\n    labels:\n      big: "'
	head -c 10000000 /dev/zero | tr '\0' 'a'
	printf '"\n'
	for i in $(seq 1 20000); do echo "# comment line $i"; done
} >big.yaml
expect_quiet "a 10 MB file loads within 1 GiB" 0 bounded -f big.yaml config -q

head -c 40000000 /dev/zero | tr '\0' '#' >huge.yaml
expect "a 40 MB file is refused cleanly" 1 'huge.yaml is larger than 33554432 bytes' bounded -f huge.yaml config

{
	printf 'services:\n  web:\n    image: busybox\n    labels: '
	head -c 10000 /dev/zero | tr '\0' '['
	head -c 10000 /dev/zero | tr '\0' ']'
	echo
} >deep.yaml
expect "10,000-deep nesting is refused cleanly" 1 'deep.yaml:4:[0-9]+: nesting is deeper than 200 levels' bounded -f deep.yaml config

{
	echo 'a: &a ["x","x","x","x","x","x","x","x","x","x"]'
	prev=a
	for n in b c d e f g h i; do
		printf '%s: &%s [' "$n" "$n"
		for k in 1 2 3 4 5 6 7 8 9; do printf '*%s,' "$prev"; done
		printf '*%s]\n' "$prev"
		prev=$n
	done
} >bomb.yaml
expect "an alias bomb is refused cleanly" 1 'alias bomb' bounded -f bomb.yaml config

printf 'services:\n  web:\n    image: busybox\n    cpu_shares: 99999999999999999999999999\n' >num.yaml
expect "a huge integer is refused with its path" 1 'num.yaml:4:17: services.web.cpu_shares: "99999999999999999999999999" is not a whole number' bounded -f num.yaml config
printf 'services:\n  web:\n    image: busybox\n    cpus: 1e400\n' >num.yaml
expect "an infinite number is refused" 1 'services.web.cpus: "1e400" is not a number' bounded -f num.yaml config
printf 'services:\n  web:\n    image: busybox\n    mem_limit: 99999999999999g\n' >num.yaml
expect "an impossible size is refused" 1 'services.web.mem_limit: "99999999999999g" is not a size' bounded -f num.yaml config
printf 'services:\n  web:\n    image: busybox\n    ports: ["99999999999999999999:80"]\n' >num.yaml
expect "an impossible port is refused" 1 'services.web.ports\[0\]: invalid port' bounded -f num.yaml config
printf 'services:\n  web:\n    image: "a\\0b"\n' >nul.yaml
expect "a NUL escape in a value is refused" 1 'nul.yaml:3:12: a value contains a NUL character' bounded -f nul.yaml config
head -c 200000 /dev/urandom >junk.yaml
expect "random bytes are refused cleanly" 1 'junk.yaml' bounded -f junk.yaml config

# an alias chain that expands one long string hundreds of times: few
# nodes, gigabytes of text
{
	printf 'x-big: &big "'
	head -c 2000000 /dev/zero | tr '\0' 'a'
	printf '"\nx-list: ['
	for i in $(seq 1 400); do printf '*big,'; done
	printf '*big]\nservices:\n  web:\n    image: busybox\n'
} >textbomb.yaml
expect "an alias bomb of long strings is refused at 128 MiB of text" 1 'textbomb.yaml:2:[0-9]+: document expands to more than 128 MiB of text' \
	bounded -f textbomb.yaml config -q

# nothing to run
: >empty.yaml
expect "up of an empty file says no service is selected" 1 'no service selected \(the compose file defines no services\)' \
	"$PLAIN" -f empty.yaml -p hostile$$ up -d
printf 'services:\n  a:\n    image: busybox\n    profiles: [debug]\n' >profiled.yaml
expect "and when every service is in a profile, says so" 1 'no service selected \(every service is in a profile: use --profile NAME\)' \
	"$PLAIN" -f profiled.yaml -p hostile$$ up -d

# limits out of range: refused with the range, before anything is made
load_busybox -t busybox:latest || not_ok "the busybox image loads"

# a bridge name nftables or the kernel would choke on
printf 'services:\n  a:\n    image: busybox\nnetworks:\n  default:\n    driver_opts:\n      com.docker.network.bridge.name: "br\\"; x"\n' >bridge.yaml
expect "a bridge name with quotes is refused with its line" 1 'bridge.yaml:7:39: network default: bridge name "br"; x" cannot be used' \
	"$PLAIN" -f bridge.yaml -p hostile$$ up -d
expect "so is one from network create" 1 'bridge name "a b" cannot be used' "$PLAIN" network create -o 'com.docker.network.bridge.name=a b' hostile$$

for l in "cpus: 1e308|is more than the [0-9]+ CPUs this host has" "cpus: -1|must be a number of CPUs more than 0" \
	"cpu_shares: -7|must be between 2 and 262144" "cpu_quota: 5|must be -1 \(no limit\) or at least 1000" \
	"cpu_period: 5|must be between 1000 and 1000000" "mem_limit: -5|cannot be negative" \
	"mem_limit: 1k|is below the 6m" "pids_limit: -2|must be -1 \(no limit\) or more" \
	"memswap_limit: -2|must be -1 \(no limit\) or a size" "shm_size: -1|cannot be negative"; do
	printf 'services:\n  a:\n    image: busybox\n    %s\n' "${l%%|*}" >limit.yaml
	expect "${l%%|*} is refused" 1 "limit.yaml:4:[0-9]+: service a: ${l%%:*}: .* ${l#*|}" "$PLAIN" -f limit.yaml -p hostile$$ up -d
done
# devices, device rules, healthchecks, hooks and --scale a user can get wrong
refused() { # DESC PATTERN SERVICE-YAML-LINES...
	local desc=$1 pattern=$2
	shift 2
	{ printf 'services:\n  a:\n    image: busybox\n'; printf '    %s\n' "$@"; } >bad.yaml
	expect "$desc" 1 "$pattern" "$PLAIN" -f bad.yaml -p hostile$$ up -d
}
refused "a device that is not a device is refused" 'bad.yaml:4:[0-9]+: service a: devices\[0\]: /etc/passwd is not a device' \
	'devices: ["/etc/passwd"]'
refused "a CDI device is refused, saying berth has none" 'devices\[0\]: "vendor.com/device=gpu" is not a host path; berth has no CDI devices' \
	'devices: ["vendor.com/device=gpu"]'
refused "a device rule that is not one is refused with its form" 'device_cgroup_rules\[0\]: device rule "c 1:3 rwx" is not TYPE MAJOR:MINOR ACCESS' \
	'device_cgroup_rules: ["c 1:3 rwx"]'
refused "a healthcheck test of no known form is refused" 'healthcheck test must start with CMD, CMD-SHELL or NONE' \
	'healthcheck: {test: ["FOO", "x"]}'
refused "a hook without a command is refused with its line" 'bad.yaml:4:18: services.a.post_start\[0\]: the key "command" is required here' \
	'post_start: [{user: root}]'
printf 'services:\n  a:\n    image: busybox\n' >scale.yaml
expect "--scale without a number is refused" 1 '\-\-scale a=x: give SERVICE=N, N from 0 to 1000' "$PLAIN" -f scale.yaml -p hostile$$ up -d --scale a=x
expect "--scale of no such service is refused" 1 '\-\-scale nosuch=2: no such service: nosuch' "$PLAIN" -f scale.yaml -p hostile$$ up -d --scale nosuch=2
check "and nothing was made for them" sh -c "[ -z \"\$(ls -A '$BERTH_ROOT/containers' 2>/dev/null)\" ] && [ -z \"\$('$PLAIN' network ls -q 2>/dev/null)\" ]"
