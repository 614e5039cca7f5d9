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
