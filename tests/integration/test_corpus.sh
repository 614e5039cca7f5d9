#!/bin/bash
# Every real-world compose file in ../shared/corpus loads with `berth config -q`.
. "$(dirname "$0")/lib.sh"

# A clone of the repository alone has no corpus beside it: say so once and pass.
if [ ! -d "$CORPUS/awesome-compose" ]; then
	echo "skip: no corpus at $CORPUS/awesome-compose (it is in shared/, beside the repository); the corpus test did not run"
	exit 0
fi
count=0
for f in $(find "$CORPUS/awesome-compose" -name 'compose.y*ml' -o -name 'docker-compose.y*ml' | sort); do
	d=$(dirname "$f")
	name=${d##*/}
	# Every .env the corpus ships sits beside its compose file and is read.
	run "$BERTH" -f "$f" config -q
	if [ "$RC" -eq 0 ] && [ -z "$OUT" ]; then
		ok "corpus $name loads"
	else
		not_ok "corpus $name loads: $ERR"
	fi
	# Secret and config files are named, not read, by config (as in docker
	# compose): each named as an absolute path, resolved from the file's
	# directory; one the corpus does not ship is said, not passed over.
	run "$BERTH" -f "$f" config --format json
	[ "$RC" -eq 0 ] || not_ok "corpus $name: config --format json: $ERR"
	for p in $(printf '%s\n' "$OUT" | sed -n 's/^ *"file": "\(.*\)",\{0,1\}$/\1/p'); do
		case $p in
		"$d"/*) ok "corpus $name: ${p#"$CORPUS"/} is resolved from the compose file's directory" ;;
		*) not_ok "corpus $name: $p is not resolved from $d" ;;
		esac
		[ -e "$p" ] || echo "note: corpus $name names $p, which the corpus does not ship (config does not read it)"
	done
	count=$((count + 1))
done
check "the corpus holds compose files ($count)" test "$count" -ge 39
