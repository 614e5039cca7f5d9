#!/bin/bash
# Images of many layers, as real images and long Dockerfiles have them:
# 127 (Docker's limit) run, a Dockerfile of 120 steps builds and runs, and
# an image volume's subpath across many layers mounts, on any kernel
# (nothing newer than 5.15 is used for it). And a layer is an attacker's
# input: the overlay xattrs it carries (redirects) steer nothing.
. "$(dirname "$0")/lib.sh"
export COMPOSE_PROJECT_NAME=berthly$$
proj=$COMPOSE_PROJECT_NAME
cleanup_hooks+=("cd '$WORK/app' 2>/dev/null && '$BERTH' down -v -t 0 >/dev/null 2>&1")
load_busybox -t busybox:latest || not_ok "the busybox image loads"
mkdir -p "$WORK/app" "$WORK/layers" && cd "$WORK/app" || exit 1

# 126 layers over busybox's: layer N adds /layers/N; the last one deletes
# the first one's file again (a whiteout), as an image's later step does.
for i in $(seq 1 126); do
	d=$WORK/layers/d$i
	mkdir -p "$d/layers"
	echo "layer $i" >"$d/layers/$i"
	[ "$i" -eq 126 ] && touch "$d/layers/.wh.1"
	tar -C "$d" -cf "$WORK/layers/$i.tar" layers
	tops+=(--top-layer "$WORK/layers/$i.tar")
done
"$REPO/examples/images/build-image.sh" -t many:127 "${tops[@]}" "$WORK/many.tar" >/dev/null &&
	"$BERTH" image load -i "$WORK/many.tar" >/dev/null
expect "an image of 127 layers loads with them all" 0 '^127$' sh -c \
	"tar -xOf '$WORK/many.tar' ./manifest.json | grep -o 'layer.tar' | wc -l"
cat >compose.yaml <<'YAML'
services:
  many:
    image: many:127
    command: sh -c 'ls /layers | wc -l; cat /layers/2 /layers/126'
  vol:
    image: busybox
    command: sh -c 'ls /m | wc -l; cat /m/64'
    volumes:
      - {type: image, source: many:127, target: /m, image: {subpath: layers}}
  whole:
    image: busybox
    command: sh -c 'ls /m/layers | wc -l'
    volumes:
      - {type: image, source: many:127, target: /m}
YAML
expect "a container of an image of 127 layers runs, every layer in it (a whiteout too)" 0 \
	'^125 layer 2 layer 126 $' sh -c "'$BERTH' run --rm -T many | tr '\n' ' '"
expect "an image volume's subpath across 127 layers mounts" 0 '^125 layer 64 $' \
	sh -c "'$BERTH' run --rm -T vol | tr '\n' ' '"
expect "an image volume of 127 layers mounts whole" 0 '^125$' "$BERTH" run --rm -T whole
expect "and so does it under up" 0 'Started' "$BERTH" up -d vol
wait_until 10 sh -c "'$BERTH' logs vol | grep -q 'layer 64'"
expect "... reading the layers' files" 0 'layer 64' "$BERTH" logs vol
"$BERTH" down -t 0 >/dev/null 2>&1

# A Dockerfile of 120 steps: a layer for each RUN, built and run.
mkdir -p "$WORK/long" && cd "$WORK/long" || exit 1
{
	echo "FROM busybox"
	for i in $(seq 1 118); do echo "RUN echo $i >/step-$i"; done
	echo 'CMD ["sh", "-c", "ls / | grep -c ^step-; cat /step-1 /step-118"]'
} >Dockerfile
printf 'services:\n  long: {build: ., image: long:1}\n' >compose.yaml
expect "a Dockerfile of 120 steps builds" 0 '' "$BERTH" build
expect "its image has a layer for each RUN (119 with busybox's)" 0 '^119$' sh -c \
	"'$BERTH' image inspect long:1 | tr -d ' \n' | grep -o '\"RootFS\".*' | grep -o 'sha256:' | wc -l"
expect "and runs" 0 '^118 1 118 $' sh -c "'$BERTH' run --rm -T long | tr '\n' ' '"
"$BERTH" down -t 0 >/dev/null 2>&1
cd "$WORK/app" || exit 1

# An attacker's layer: a directory whose trusted.overlay.redirect points at
# another layer's directory. Followed, /looks-empty would show /secret's
# files; and overlay xattrs in a layer store would steer every container.
if command -v setfattr >/dev/null; then
	mkdir -p "$WORK/evil/low/secret" "$WORK/evil/high/looks-empty"
	echo hidden >"$WORK/evil/low/secret/data"
	setfattr -n trusted.overlay.redirect -v /secret "$WORK/evil/high/looks-empty"
	setfattr -n trusted.overlay.metacopy -v '' "$WORK/evil/high/looks-empty" 2>/dev/null
	setfattr -n user.kept -v yes "$WORK/evil/high/looks-empty"
	tar -C "$WORK/evil/low" -cf "$WORK/evil/low.tar" secret
	tar -C "$WORK/evil/high" --xattrs --xattrs-include='*' -cf "$WORK/evil/high.tar" looks-empty
	check "the attacker's layer carries the redirect" sh -c \
		"tar --xattrs --xattrs-include='*' -tvvf '$WORK/evil/high.tar' | grep -q trusted.overlay.redirect"
	"$REPO/examples/images/build-image.sh" -t evil:1 --top-layer "$WORK/evil/low.tar" --top-layer "$WORK/evil/high.tar" \
		"$WORK/evil.tar" >/dev/null && "$BERTH" image load -i "$WORK/evil.tar" >/dev/null
	cat >evil.yaml <<'YAML'
services:
  evil:
    image: evil:1
    command: sh -c 'ls -A /looks-empty | grep . || echo none'
YAML
	expect "a redirect in a layer steers nothing in the container" 0 '^none$' "$BERTH" -f evil.yaml run --rm -T evil
	expect "the unpacked layer keeps no trusted.* xattr" 0 '^none$' sh -c \
		"getfattr -R -h -d -m '^trusted\\.overlay\\.(redirect|metacopy)' '$BERTH_ROOT/images' 2>/dev/null | grep -q . && echo found || echo none"
	expect "other xattrs stay" 0 'user.kept="yes"' sh -c "getfattr -R -h -d -m '^user\\.' '$BERTH_ROOT/images' 2>/dev/null"
	"$BERTH" -f evil.yaml down -t 0 >/dev/null 2>&1
else
	not_ok "setfattr is installed (make test-deps installs attr)"
fi
check_no_leaks "after the many-layer images"
