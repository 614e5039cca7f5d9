# Shared by bench/run.sh and bench/pull.sh (sourced; BERTH names berth).

compose() { # TOOL ARGS...: the tool's compose command
	local t=$1
	shift
	case $t in
	berth) "$BERTH" "$@" ;;
	docker) docker-compose "$@" ;;
	podman) podman-compose "$@" ;;
	esac
}

# bash's own clock: no process per reading
ms_now() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# "median min max" of the numbers on stdin
stats() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR] = $1} END {if (NR) printf "%d %d %d", v[int((NR + 1) / 2)], v[1], v[NR]}'; }

# rows WORKLOAD NAME: the Markdown rows of a workload, a row a tool, from
# the caller's samples[WORKLOAD|TOOL] ("ms ms ...") and TOOLS, with
# berth's median over each tool's
rows() {
	local w=$1 name=$2 t s med min max ratio bmed
	read -r bmed _ _ <<<"$(echo "${samples[$w|berth]:-}" | stats)"
	for t in "${TOOLS[@]}"; do
		s=${samples[$w|$t]:-}
		[ -n "$s" ] || continue
		read -r med min max <<<"$(echo "$s" | stats)"
		ratio=—
		[ "$t" != berth ] && [ -n "${bmed:-}" ] && [ "$med" -gt 0 ] && ratio=$(awk -v a="$bmed" -v b="$med" 'BEGIN {printf "%.3f", a / b}')
		echo "| $name | $t | $med ms | $min | $max | $ratio |"
	done
}
