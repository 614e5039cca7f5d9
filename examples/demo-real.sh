#!/bin/bash
# make demo-real: berth's second example (examples/real): PostgreSQL and a
# small web app that reads from it, both images built by berth FROM scratch
# on root filesystems that mmdebstrap makes from Debian's packages (once;
# kept under the state root), a healthcheck-gated depends_on, a named
# volume and a published port. Take it down with:
#   build/berth -f examples/real/compose.yaml down      (-v: and its data)
set -euo pipefail
cd "$(dirname "$0")/.."
berth=build/berth
port=${WEB_PORT:-18081}
if ! command -v mmdebstrap >/dev/null; then
	echo "== installing mmdebstrap (Debian's package)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mmdebstrap >/dev/null
fi
echo "== root filesystems from Debian's packages (mmdebstrap, the first time only)"
examples/real/make-rootfs.sh examples/real/db postgresql
examples/real/make-rootfs.sh examples/real/web python3 python3-psycopg2 passwd
echo "== berth build"
"$berth" -f examples/real/compose.yaml build
echo "== berth up -d --wait (web starts once db is healthy)"
WEB_PORT=$port "$berth" -f examples/real/compose.yaml up -d --wait
"$berth" -f examples/real/compose.yaml ps
echo "== the page on http://127.0.0.1:$port/, read from the database"
for _ in $(seq 1 50); do
	if page=$(curl -sf "http://127.0.0.1:$port/" 2>/dev/null); then
		echo "$page" | sed -n 's/.*<li>\([^<]*\)<small>.*/\1/p'
		break
	fi
	sleep 0.2
done
cat <<MSG

The stack is up. Try:
  build/berth -f examples/real/compose.yaml logs db
  build/berth -f examples/real/compose.yaml exec db psql -U app -c 'select * from greetings'
Take it down with:
  build/berth -f examples/real/compose.yaml down       (add -v to drop the database's volume)
MSG
