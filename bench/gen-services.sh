#!/bin/bash
# Writes a compose file with N services (default 200) that uses the features
# real files use: anchors and merge keys, interpolation, ports, volumes,
# depends_on chains, healthchecks, environment lists, several networks.
n=${1:-200}
cat <<'YAML'
x-common: &common
  restart: unless-stopped
  environment:
    - TZ=${TZ:-UTC}
    - MODE
  healthcheck:
    test: wget -q -O- http://localhost/ || exit 1
    interval: 30s
    timeout: 5s
  networks: [front, back]
services:
YAML
for i in $(seq 1 "$n"); do
	cat <<YAML
  svc$i:
    <<: *common
    image: "busybox:\${TAG:-1.36}"
    command: sh -c 'echo service $i && sleep 3600'
    ports: ["$((20000 + i)):80"]
    volumes: ["data$((i % 10)):/data", "./conf/$i:/conf:ro"]
    labels: [com.example.index=$i, com.example.group=g$((i % 7))]
    mem_limit: 64m
YAML
	[ "$i" -gt 1 ] && echo "    depends_on: [svc$((i - 1))]"
done
echo "networks:"
echo "  front: {}"
echo "  back: {internal: true}"
echo "volumes:"
for i in $(seq 0 9); do echo "  data$i: {}"; done
