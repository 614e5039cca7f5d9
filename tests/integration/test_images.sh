#!/bin/bash
# Images as a user handles them: build from busybox-static, load a
# docker-archive and OCI archives written by skopeo, list, inspect, remove;
# hostile layers are refused and leave nothing behind.
. "$(dirname "$0")/lib.sh"
BUILD="$REPO/examples/images/build-image.sh"
cd "$WORK"
images=$BERTH_ROOT/images

"$BUILD" -t busybox:latest -t example/app:1 --cmd '["echo","hello"]' --env GREETING=hi --workdir /srv bb.tar >/dev/null
expect "a docker-archive loads and names every tag" 0 $'Loaded image: busybox:latest\nLoaded image: example/app:1' "$BERTH" image load -i bb.tar
expect "images lists it" 0 'busybox +latest +[0-9a-f]{12} ' "$BERTH" image ls
expect "images -q prints ids" 0 '^[0-9a-f]{12}$' "$BERTH" image ls -q busybox
expect "image inspect shows the config" 0 '"Cmd": \[' "$BERTH" image inspect busybox
run "$BERTH" image inspect example/app:1
check "inspect shows env and workdir" grep -q '"WorkingDir": "/srv"' "$WORK/out"
layer=$(ls "$images/layers" | grep -v size | head -1)
check "the layer is unpacked with its symlinks" test "$(readlink "$images/layers/$layer/bin/sh")" = busybox
check "modes are kept" test "$(stat -c %a "$images/layers/$layer/tmp")" = 1777
check "owners are kept, numerically" test "$(stat -c %u "$images/layers/$layer/home/app")" = 1000
expect "loading again is harmless" 0 'Loaded image: busybox:latest' "$BERTH" image load -i bb.tar
expect "standard input works too" 0 'Loaded image: busybox:latest' sh -c "'$BERTH' image load < bb.tar"

if command -v skopeo >/dev/null; then
	skopeo copy -q docker-archive:bb.tar oci-archive:oci.tar:busybox:oci
	skopeo copy -q --dest-compress docker-archive:bb.tar oci-archive:ocigz.tar:localhost:5000/team/bb:gz
	expect "an OCI archive from skopeo loads" 0 'Loaded image: busybox:oci' "$BERTH" image load -i oci.tar
	expect "a gzip-compressed OCI archive loads" 0 'Loaded image: localhost:5000/team/bb:gz' "$BERTH" image load -i ocigz.tar
	expect "registry hosts show in images" 0 'localhost:5000/team/bb +gz' "$BERTH" image ls
	check "a layer shared by images is unpacked once" test "$(ls -d "$images"/layers/*/ | wc -l)" -eq 1
else
	not_ok "skopeo is installed (make deps installs it)"
fi

expect "removing one of several tags untags" 0 '^Untagged: example/app:1$' "$BERTH" image rm example/app:1
expect "removing a missing image says so" 1 'no such image: nothere' "$BERTH" image rm nothere
expect "an id with several tags needs --force" 1 'tagged more than once' "$BERTH" image rm "$("$BERTH" image ls -q busybox | head -1)"
"$BERTH" image rm busybox:oci localhost:5000/team/bb:gz >/dev/null
check "the layer stays while busybox:latest uses it" test "$(ls -d "$images"/layers/*/ | wc -l)" -eq 1
expect "removing the last tag deletes the image" 0 'Deleted: sha256:' "$BERTH" image rm busybox
check "no layer is left" test "$(ls -d "$images"/layers/*/ 2>/dev/null | wc -l)" -eq 0
check "no blob is left" test "$(ls "$images/blobs/sha256" | wc -l)" -eq 0
check "no image record is left" test "$(ls "$images/meta" | wc -l)" -eq 0

# Hostile layers: refused, and nothing is kept or written outside.
hostile() { # NAME EXPECTED-MESSAGE: builds NAME.tar from $WORK/NAME-layer.tar and tries it
	"$BUILD" -t "hostile/$1" --layer-tar "$1-layer.tar" "$1.tar" >/dev/null
	expect "hostile layer: $1 is refused" 1 "$2" "$BERTH" image load -i "$1.tar"
	check "hostile layer: $1 leaves no layer, blob or temporary file" \
		test "$(ls "$images/layers" "$images/blobs/sha256" "$images/tmp" "$images/meta" | grep -cv ':$\|^$')" -eq 0
}
mkdir -p h1/inner && echo escaped >h1/escape-file
(cd h1/inner && tar -P -cf "$WORK/dotdot-layer.tar" ../escape-file)
hostile dotdot 'member "../escape-file" has an absolute path or a ".." part'
check "nothing escaped through .." test ! -e "$images/escape-file" -a ! -e "$BERTH_ROOT/escape-file"

mkdir -p "$WORK/abs" && echo x >"$WORK/abs/file"
tar -P -cf absolute-layer.tar "$WORK/abs/file" 2>/dev/null
hostile absolute 'has an absolute path'

mkdir -p h3a h3b/link "$WORK/outside"
ln -s "$WORK/outside" h3a/link
echo pwned >h3b/link/pwned
tar -C h3a -cf symlink-layer.tar link
tar -C h3b -rf symlink-layer.tar link/pwned
hostile symlink 'cannot unpack "link/pwned"'
check "nothing was written through the symlink" test ! -e "$WORK/outside/pwned"

mkdir -p h4/dev && mknod h4/dev/evil c 1 3
tar -C h4 -cf device-layer.tar dev/evil
hostile device 'is a device node'

# Whiteouts become what overlayfs expects.
mkdir -p wo/etc/opaque && touch wo/etc/.wh.passwd wo/etc/opaque/.wh..wh..opq
tar -C wo -cf wo-layer.tar etc
"$BUILD" -t whiteout:1 --layer-tar wo-layer.tar wo.tar >/dev/null
expect "a layer with whiteouts loads" 0 'Loaded image: whiteout:1' "$BERTH" image load -i wo.tar
wl=$(ls -d "$images"/layers/*/ | head -1)
check "a .wh. file becomes a 0/0 character device" test "$(stat -c '%F %t %T' "$wl/etc/passwd")" = "character special file 0 0"
check "an opaque marker becomes trusted.overlay.opaque=y" \
	sh -c "getfattr --only-values -n trusted.overlay.opaque '$wl/etc/opaque' 2>/dev/null | grep -qx y"
check "the markers themselves are not kept" test ! -e "$wl/etc/.wh.passwd" -a ! -e "$wl/etc/opaque/.wh..wh..opq"

# owners, modes, xattrs and hard links survive unpacking
mkdir -p keep/data && echo linked >keep/data/a && ln keep/data/a keep/data/b
chown 1234:4321 keep/data/a && chmod 0640 keep/data/a
setfattr -n user.berth -v kept keep/data/a
tar --xattrs --xattrs-include='user.*' -C keep -cf keep-layer.tar data
"$BUILD" -t keep:1 --layer-tar keep-layer.tar keep.tar >/dev/null
expect "a layer with hard links and xattrs loads" 0 'Loaded image: keep:1' "$BERTH" image load -i keep.tar
kl=$(dirname "$(ls -d "$images"/layers/*/data | head -1)")
check "hard links stay hard links" test "$(stat -c %i "$kl/data/a")" = "$(stat -c %i "$kl/data/b")"
check "owner and mode are kept" test "$(stat -c '%u:%g %a' "$kl/data/a")" = "1234:4321 640"
check "xattrs are kept" sh -c "getfattr --only-values -n user.berth '$kl/data/a' 2>/dev/null | grep -qx kept"
if command -v skopeo >/dev/null; then
	"$BUILD" -t zbox:1 zsrc.tar >/dev/null
	skopeo copy -q --dest-compress-format zstd docker-archive:zsrc.tar oci-archive:zstd.tar:zbox:zstd
	expect "an OCI archive with zstd layers loads" 0 'Loaded image: zbox:zstd' "$BERTH" image load -i zstd.tar
fi

expect "junk is not an image archive" 1 'is not a (valid )?tar archive|neither a docker-archive' sh -c "head -c 5000 /dev/urandom | '$BERTH' image load"
echo '{}' >manifest.json && tar -cf empty.tar manifest.json
expect "an archive without images says so" 1 'manifest.json is not a list' "$BERTH" image load -i empty.tar

# an image without /etc/passwd runs as root when no user is named, as under Docker
mkdir -p "$WORK/nopw/bin" && cp "$(command -v busybox)" "$WORK/nopw/bin/busybox" && ln -sf busybox "$WORK/nopw/bin/sh" &&
	ln -sf busybox "$WORK/nopw/bin/id"
"$REPO/examples/images/build-image.sh" -t nopasswd:1 --layer-dir "$WORK/nopw" "$WORK/nopw.tar" >/dev/null &&
	"$BERTH" image load -i "$WORK/nopw.tar" >/dev/null
printf 'services:\n  a:\n    image: nopasswd:1\n    command: ["id", "-u"]\n  b:\n    image: nopasswd:1\n    user: root\n' >"$WORK/nopw.yaml"
expect "an image without /etc/passwd runs as uid 0 by default" 0 '^0$' "$BERTH" -f "$WORK/nopw.yaml" -p nopw$$ run --rm a
expect "but a user it cannot look up by name is refused" 1 'user "root" is not in the image.s /etc/passwd' \
	"$BERTH" -f "$WORK/nopw.yaml" -p nopw$$ run --rm b
"$BERTH" -f "$WORK/nopw.yaml" -p nopw$$ down -t 0 >/dev/null 2>&1
check_no_leaks "after the image without /etc/passwd"
