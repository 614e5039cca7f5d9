#!/bin/bash
# make demo: build the example image, load it, bring examples/hello up,
# and show it working. Take it down with:
#   build/berth -f examples/hello/compose.yaml down
set -euo pipefail
cd "$(dirname "$0")/.."
berth=build/berth
port=${HELLO_PORT:-18080}
echo "== building the busybox image from Debian's busybox-static"
examples/images/build-image.sh -t busybox:latest build/busybox.tar
"$berth" image load -i build/busybox.tar
echo "== berth up -d"
"$berth" -f examples/hello/compose.yaml up -d
"$berth" -f examples/hello/compose.yaml ps
echo "== the page on http://127.0.0.1:$port/"
for _ in $(seq 1 50); do
	if page=$(busybox wget -q -O- "http://127.0.0.1:$port/" 2>/dev/null); then
		echo "$page" | sed -n 's/.*<h1>\(.*\)<\/h1>.*/\1/p'
		break
	fi
	sleep 0.1
done
sleep 2
echo "== berth logs"
"$berth" -f examples/hello/compose.yaml logs --tail 3
cat <<MSG

The stack is up. Try:
  build/berth -f examples/hello/compose.yaml ps
  build/berth -f examples/hello/compose.yaml logs -f clock
  build/berth -f examples/hello/compose.yaml exec web ps
Take it down with:
  build/berth -f examples/hello/compose.yaml down
MSG
