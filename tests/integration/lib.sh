# Shared by the integration tests: run the real berth, record results as
# "ok DESC" / "not ok DESC" lines (read by tests/run-all), clean up on exit.
set -u
: "${BERTH:?set BERTH to the berth binary}"
RESULTS=${BERTH_RESULTS:-/dev/null}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CORPUS=${BERTH_CORPUS:-$(cd "$REPO/../shared/corpus" 2>/dev/null && pwd || echo "$REPO/../shared/corpus")}
WORK=$(mktemp -d /tmp/berth-it-XXXXXX)
export BERTH_ROOT=$WORK/root
cleanup_hooks=()
on_exit() {
	for h in "${cleanup_hooks[@]}"; do eval "$h"; done
	rm -rf "$WORK"
}
trap on_exit EXIT

ok() { echo "ok $*" | tee -a "$RESULTS"; }
not_ok() { echo "not ok $*" | tee -a "$RESULTS"; }

# check DESC CMD...: passes when CMD exits 0.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# run CMD...: runs it, keeping stdout in $OUT, stderr in $ERR, status in $RC.
run() {
	"$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
}

# expect DESC RC PATTERN CMD...: status must be RC and stdout+stderr match the ERE.
expect() {
	local desc=$1 want_rc=$2 pattern=$3
	shift 3
	run "$@"
	if [ "$RC" -eq "$want_rc" ] && printf '%s\n%s\n' "$OUT" "$ERR" | grep -Eq -- "$pattern"; then
		ok "$desc"
	else
		not_ok "$desc (exit $RC, wanted $want_rc; output: $(printf '%s %s' "$OUT" "$ERR" | head -c 400))"
	fi
}
