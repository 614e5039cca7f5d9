#!/bin/bash
# Builds a small image from Debian's busybox-static as a docker-archive (the
# format `docker save` writes), without Docker: one layer holding busybox and
# its applets, /etc/passwd and /etc/group, plus any files added with --add.
#
#   build-image.sh [options] OUT.tar
#     -t, --tag NAME          repository:tag (default busybox:latest); repeatable
#     --cmd JSON              image CMD as a JSON array (default ["sh"])
#     --entrypoint JSON       image ENTRYPOINT as a JSON array
#     --env K=V               image ENV entry; repeatable
#     --workdir DIR           image WORKDIR
#     --user USER             image USER
#     --volume PATH           image VOLUME; repeatable
#     --healthcheck CMD       image HEALTHCHECK CMD (a shell command; 300ms interval, 20 retries)
#     --add SRC:DEST          copy a host file or directory into the image; repeatable
#     --layer-dir DIR         use DIR as the whole root filesystem instead
#     --layer-tar FILE        use FILE, as it is, as the only layer (for tests)
#     --top-layer FILE        a layer FILE, as it is, over the image's own; repeatable, lowest first
#     --arch ARCH[/VARIANT]   the architecture the config names (default amd64; for tests)
set -euo pipefail
tags=() tops=() envs=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") adds=() volumes=() healthcheck=
cmd='["sh"]' entrypoint='' workdir='' user='' layer_dir='' layer_tar='' arch=amd64
while [ $# -gt 1 ]; do
	case $1 in
	-t | --tag) tags+=("$2"); shift 2 ;;
	--cmd) cmd=$2; shift 2 ;;
	--entrypoint) entrypoint=$2; shift 2 ;;
	--env) envs+=("$2"); shift 2 ;;
	--workdir) workdir=$2; shift 2 ;;
	--user) user=$2; shift 2 ;;
	--volume) volumes+=("$2"); shift 2 ;;
	--healthcheck) healthcheck=$2; shift 2 ;;
	--add) adds+=("$2"); shift 2 ;;
	--layer-dir) layer_dir=$2; shift 2 ;;
	--layer-tar) layer_tar=$(realpath "$2"); shift 2 ;;
	--top-layer) tops+=("$(realpath "$2")"); shift 2 ;;
	--arch) arch=$2; shift 2 ;;
	*) echo "build-image.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ $# -eq 1 ] || { echo "usage: build-image.sh [options] OUT.tar" >&2; exit 2; }
out=$(realpath -m "$1")
[ ${#tags[@]} -gt 0 ] || tags=(busybox:latest)
busybox=$(command -v busybox || true)
[ -n "$layer_dir" ] || [ -x /bin/busybox ] || { echo "build-image.sh: install busybox-static (make deps)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
if [ -n "$layer_dir" ]; then
	cp -a "$layer_dir" "$root"
else
	mkdir -p "$root"/{bin,etc,tmp,root,home,var/tmp,proc,sys,dev,usr/bin,usr/sbin,sbin}
	cp /bin/busybox "$root/bin/busybox"
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
	done
	chmod 1777 "$root/tmp" "$root/var/tmp"
	chmod 0700 "$root/root"
	printf 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n' >"$root/etc/passwd"
	printf 'root:x:0:\ndaemon:x:1:\nwheel:x:10:app\nusers:x:100:app\nnogroup:x:65534:\napp:x:1000:\n' >"$root/etc/group"
	mkdir -p "$root/home/app"
	chown 1000:1000 "$root/home/app" 2>/dev/null || true
fi
for a in "${adds[@]+"${adds[@]}"}"; do
	src=${a%%:*} dest=${a#*:}
	mkdir -p "$root/$(dirname "$dest")"
	cp -a "$src" "$root/$dest"
done
[ -n "$busybox" ] || true

# One reproducible layer: sorted names, fixed times, numeric owners, xattrs.
if [ -n "$layer_tar" ]; then
	cp "$layer_tar" "$work/layer.tar"
else
	(cd "$root" && tar --sort=name --mtime='2026-01-01 00:00:00Z' --numeric-owner --format=posix --xattrs --xattrs-include='*' \
		--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf "$work/layer.tar" .)
fi
layer_sha=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir -p "$work/archive/$layer_sha"
mv "$work/layer.tar" "$work/archive/$layer_sha/layer.tar"
diff_ids="\"sha256:$layer_sha\"" layers="\"$layer_sha/layer.tar\""
for t in "${tops[@]+"${tops[@]}"}"; do
	sha=$(sha256sum "$t" | cut -d' ' -f1)
	mkdir -p "$work/archive/$sha"
	cp "$t" "$work/archive/$sha/layer.tar"
	diff_ids+=",\"sha256:$sha\"" layers+=",\"$sha/layer.tar\""
done

json_list() { # shell words -> JSON array of strings
	local first=1
	printf '['
	for w in "$@"; do
		[ $first -eq 1 ] || printf ','
		first=0
		printf '"%s"' "$(printf '%s' "$w" | sed 's/\\/\\\\/g; s/"/\\"/g')"
	done
	printf ']'
}
config="{\"Env\":$(json_list "${envs[@]}"),\"Cmd\":$cmd"
[ -z "$entrypoint" ] || config+=",\"Entrypoint\":$entrypoint"
[ -z "$workdir" ] || config+=",\"WorkingDir\":\"$workdir\""
[ -z "$user" ] || config+=",\"User\":\"$user\""
[ -z "$healthcheck" ] ||
	config+=",\"Healthcheck\":{\"Test\":$(json_list CMD-SHELL "$healthcheck"),\"Interval\":300000000,\"Retries\":20}"
if [ ${#volumes[@]} -gt 0 ]; then
	config+=",\"Volumes\":{"
	for i in "${!volumes[@]}"; do
		[ "$i" -eq 0 ] || config+=","
		config+="\"${volumes[$i]}\":{}"
	done
	config+="}"
fi
config+="}"
variant=
[[ $arch == */* ]] && variant=",\"variant\":\"${arch#*/}\"" && arch=${arch%%/*}
printf '{"architecture":"%s"%s,"os":"linux","created":"2026-01-01T00:00:00Z","config":%s,"rootfs":{"type":"layers","diff_ids":[%s]},"history":[{"created":"2026-01-01T00:00:00Z","created_by":"berth examples/images/build-image.sh"}]}' \
	"$arch" "$variant" "$config" "$diff_ids" >"$work/config.json"
config_sha=$(sha256sum "$work/config.json" | cut -d' ' -f1)

mv "$work/config.json" "$work/archive/$config_sha.json"
printf '[{"Config":"%s.json","RepoTags":%s,"Layers":[%s]}]\n' "$config_sha" "$(json_list "${tags[@]}")" \
	"$layers" >"$work/archive/manifest.json"
(cd "$work/archive" && tar --sort=name --mtime='2026-01-01 00:00:00Z' --numeric-owner -cf "$out" .)
echo "$out"
