#!/bin/bash
# make-rootfs.sh DIR PACKAGE...: DIR/rootfs.tar, a Debian root filesystem
# (bookworm, the essential packages and PACKAGE...) made by mmdebstrap from
# Debian's archive, kept under the state root so that it is made once.
set -euo pipefail
dir=$1
shift
cache=${BERTH_ROOT:-/var/lib/berth}/cache/rootfs
key=$(printf '%s\n' bookworm "$@" | sha256sum | cut -c1-16)
tar=$cache/$key.tar
if [ ! -s "$tar" ]; then
	mkdir -p "$cache"
	chmod 700 "${BERTH_ROOT:-/var/lib/berth}/cache"
	echo "== mmdebstrap: bookworm with $*, into $tar (once)"
	pkgs=$(IFS=,; echo "$*")
	# no device nodes: a container's /dev is its own
	mmdebstrap --quiet --variant=essential --include="$pkgs" --skip=output/dev \
		--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' bookworm "$cache/$key.partial.tar"
	mv "$cache/$key.partial.tar" "$tar"
fi
ln -f "$tar" "$dir/rootfs.tar" 2>/dev/null || cp "$tar" "$dir/rootfs.tar"
