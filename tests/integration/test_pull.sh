#!/bin/bash
# Pulling from registries: Debian's docker-registry (distribution 2.8) run
# by the test on 127.0.0.1, plain and over TLS with a CA the test makes,
# with and without htpasswd logins; images pushed into it by skopeo, an
# independent client, from archives the test builds.
. "$(dirname "$0")/lib.sh"
for tool in docker-registry skopeo openssl htpasswd; do
	if ! command -v "$tool" >/dev/null; then
		echo "skip: $tool is not installed (make deps installs it); the pull test did not run"
		exit 0
	fi
done
export COMPOSE_PROJECT_NAME=berthpull$$
proj=$COMPOSE_PROJECT_NAME
export DOCKER_CONFIG=$WORK/dockercfg
export BERTH_CERTS_DIR=$WORK/certs.d
cleanup_hooks+=("cd '$WORK/app' 2>/dev/null && '$BERTH' down -t 0 >/dev/null 2>&1")
mkdir -p "$WORK/app" "$DOCKER_CONFIG" "$BERTH_CERTS_DIR"

# registry NAME PORT [YAML for http: and auth:]: runs one, until the test ends
registry() {
	local name=$1 port=$2 extra=${3:-}
	mkdir -p "$WORK/$name"
	cat >"$WORK/$name.yml" <<YAML
version: 0.1
log: {level: info, accesslog: {disabled: false}}
storage:
  filesystem: {rootdirectory: $WORK/$name}
  delete: {enabled: true}
http:
  addr: 127.0.0.1:$port
$extra
YAML
	docker-registry serve "$WORK/$name.yml" >"$WORK/$name.log" 2>&1 &
	cleanup_hooks+=("kill $! 2>/dev/null")
	for _ in $(seq 100); do
		curl -sk -o /dev/null "http://127.0.0.1:$port/v2/" && return 0
		curl -sk -o /dev/null "https://127.0.0.1:$port/v2/" && return 0
		sleep 0.1
	done
	not_ok "the registry $name starts"
}
# push ARCHIVE REF [skopeo options]: an independent client puts an image in
push() {
	local archive=$1 ref=$2
	shift 2
	skopeo copy -q --dest-tls-verify=false "$@" "docker-archive:$archive" "docker://$ref" >/dev/null 2>"$WORK/skopeo.err" ||
		not_ok "skopeo pushes $ref: $(head -c 300 "$WORK/skopeo.err")"
}
said() { printf '%s\n%s\n' "$OUT" "$ERR" >>"$WORK/said"; } # what berth printed, kept
blob_gets() { grep -c "GET /v2/[^ ]*/blobs/" "$WORK/$1.log"; }

PLAIN=$(free_port)
registry plain "$PLAIN"
R=127.0.0.1:$PLAIN
"$REPO/examples/images/build-image.sh" -t x:1 --cmd '["echo","pulled and running"]' "$WORK/bb.tar" >/dev/null
"$REPO/examples/images/build-image.sh" -t x:2 --add "$REPO/README.md:/README" "$WORK/bb2.tar" >/dev/null
"$REPO/examples/images/build-image.sh" -t x:3 --arch arm64/v8 "$WORK/arm.tar" >/dev/null
"$REPO/examples/images/build-image.sh" -t x:4 --add "$REPO/Makefile:/Makefile" "$WORK/bb3.tar" >/dev/null
push "$WORK/bb.tar" "$R/test/busybox:1"

# a plain pull, then the image runs
expect "image pull from a registry on 127.0.0.1" 0 "Status: Downloaded newer image for $R/test/busybox:1" \
	"$BERTH" image pull "$R/test/busybox:1"
check "with docker's progress lines" grep -q ": Pull complete" <<<"$OUT"
check "and the digest" grep -qE "^Digest: sha256:[0-9a-f]{64}$" <<<"$OUT"
expect "images lists it" 0 "$R/test/busybox +1 " "$BERTH" image ls
cd "$WORK/app"
printf 'services:\n  app:\n    image: %s/test/busybox:1\n' "$R" >compose.yaml
expect "run of the pulled image" 0 "pulled and running" "$BERTH" run --rm app
before=$(blob_gets plain)
expect "the same pull again" 0 "Status: Image is up to date for $R/test/busybox:1" "$BERTH" image pull "$R/test/busybox:1"
check "says the layer is there" grep -q ": Already exists" <<<"$OUT"
check "and fetches no blob" test "$(blob_gets plain)" = "$before"
expect "pull -q prints only the name" 0 "^$R/test/busybox:1$" "$BERTH" image pull -q "$R/test/busybox:1"
digest=$(sed -n 's/^Digest: //p' <<<"$(cd / && "$BERTH" image pull "$R/test/busybox:1")")
expect "a pull by digest" 0 "Status: " "$BERTH" image pull "$R/test/busybox@$digest"

# zstd and uncompressed layers (OCI manifests)
push "$WORK/bb2.tar" "$R/test/zstd:1" -f oci --dest-compress-format zstd
expect "a zstd layer" 0 "Status: Downloaded newer image" "$BERTH" image pull "$R/test/zstd:1"
printf 'services:\n  app:\n    image: %s/test/zstd:1\n    command: head -n 1 /README\n' "$R" >compose.yaml
expect "unpacked as it is" 0 "^# berth" "$BERTH" run --rm app
expect "image rm" 0 "Deleted" "$BERTH" image rm "$R/test/zstd:1"
push "$WORK/bb2.tar" "$R/test/plain:1" -f oci --dest-oci-accept-uncompressed-layers
expect "an uncompressed layer" 0 "Status: Downloaded newer image" "$BERTH" image pull "$R/test/plain:1"
printf 'services:\n  app:\n    image: %s/test/plain:1\n    command: head -n 1 /README\n' "$R" >compose.yaml
expect "runs too" 0 "^# berth" "$BERTH" run --rm app

# a multi-platform index: the host's image is picked, or the one asked for
push "$WORK/bb.tar" "$R/test/multi:amd" -f v2s2
push "$WORK/arm.tar" "$R/test/multi:arm" -f v2s2
mt=application/vnd.docker.distribution.manifest.v2+json
desc() {
	local d s
	d=$(curl -sI -H "Accept: $mt" "http://$R/v2/test/multi/manifests/$1" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
	s=$(curl -s -H "Accept: $mt" "http://$R/v2/test/multi/manifests/$1" | wc -c)
	printf '{"mediaType":"%s","digest":"%s","size":%s,"platform":{"os":"linux","architecture":"%s"%s}}' "$mt" "$d" "$s" "$2" "$3"
}
index=$(printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[%s,%s]}' \
	"$(desc arm arm64 ',"variant":"v8"')" "$(desc amd amd64 '')")
check "the index is pushed" curl -sf -X PUT -H "Content-Type: application/vnd.docker.distribution.manifest.list.v2+json" \
	--data-binary "$index" "http://$R/v2/test/multi/manifests/all" -o /dev/null
expect "a pull of the index" 0 "Status: Downloaded newer image" "$BERTH" image pull "$R/test/multi:all"
expect "gives the host's image" 0 '"Architecture": "amd64"' "$BERTH" image inspect "$R/test/multi:all"
expect "--platform linux/arm64 gives the other" 0 "Status: Downloaded newer image" \
	"$BERTH" image pull --platform linux/arm64 "$R/test/multi:all"
expect "(arm64)" 0 '"Architecture": "arm64"' "$BERTH" image inspect "$R/test/multi:all"
expect "a platform the index lacks is refused, naming those it has" 1 \
	"has no image for linux/s390x \(it has linux/arm64/v8, linux/amd64\)" \
	"$BERTH" image pull --platform linux/s390x "$R/test/multi:all"
expect "an image of another architecture pulled by tag is refused" 1 "is an image for linux/arm64, not for linux/amd64" \
	"$BERTH" image pull "$R/test/multi:arm"
expect "a bad --platform" 2 "OS/ARCH" "$BERTH" image pull --platform amd64 "$R/test/multi:all"

# up, run and berth pull fetch what the services need, as pull_policy says
expect "image rm" 0 "Untagged" "$BERTH" image rm "$R/test/busybox:1"
cat >compose.yaml <<YAML
services:
  web:
    image: $R/test/busybox:1
    command: sleep 1000
  job:
    image: $R/test/zstd:1
    pull_policy: never
    profiles: [never]
YAML
expect "up pulls a missing image" 0 "Image $R/test/busybox:1  Pulled" "$BERTH" up -d
expect "and starts its service" 0 "$proj-web-1 .*Up" "$BERTH" ps
expect "up --pull always pulls again" 0 "Image $R/test/busybox:1  Pulling" "$BERTH" up -d --pull always
check "(the layer was there)" grep -q "Already exists" <<<"$ERR"
expect "up --pull never with the image there" 0 "$proj-web-1  Running" "$BERTH" up -d --pull never
expect "pull_policy: never with the image missing fails, naming it" 1 "no such image.*$R/test/zstd:1|$R/test/zstd:1.*(not|no such)" \
	"$BERTH" --profile never up -d job
expect "berth pull" 0 "Image $R/test/busybox:1  Pulled" "$BERTH" pull
expect "berth pull -q prints nothing" 0 '' "$BERTH" pull -q
check "(nothing at all)" test -z "$OUT$ERR"
cat >missing.yaml <<YAML
services:
  ok:
    image: $R/test/busybox:1
  gone:
    image: $R/test/gone:1
YAML
expect "an image that cannot be pulled fails up before anything is made, with the registry's answer" 1 \
	"service gone: cannot pull $R/test/gone:1: manifest for 1 not found in $R/test/gone" "$BERTH" -f missing.yaml -p "${proj}m" up -d
check "(nothing was made)" sh -c "! ls '$BERTH_ROOT/containers' | grep -q '${proj}m-'"
expect "pull --ignore-pull-failures pulls the rest and says what failed" 0 "service gone: manifest for 1 not found" \
	"$BERTH" -f missing.yaml -p "${proj}m" pull --ignore-pull-failures
expect "down" 0 "Removed" "$BERTH" down -t 0

# digests, pinning and pruning
expect "images --digests shows the digest it was pulled by" 0 "$R/test/busybox +1 +sha256:[0-9a-f]{64} " "$BERTH" image ls --digests
expect "and a loaded image has none" 0 "^x +1 +<none> " sh -c "'$BERTH' image load -i '$WORK/bb.tar' >/dev/null; '$BERTH' image ls --digests"
pulled=$(sed -n "s|^$R/test/busybox  *1  *\(sha256:[0-9a-f]*\) .*|\1|p" <<<"$OUT")
expect "config --resolve-image-digests pins the image" 0 "image: $R/test/busybox:1@$pulled" "$BERTH" config --resolve-image-digests
expect "config --lock-image-digests writes only the pins" 0 "^services:" "$BERTH" config --lock-image-digests
check "(nothing else)" test "$(grep -c 'command\|networks' <<<"$OUT")" = 0
check "(the pin)" grep -q "image: $R/test/busybox:1@$pulled" <<<"$OUT"
printf 'services:\n  x:\n    image: %s/test/zstd:1\n' "$R" >pin.yaml
expect "an image not in the store is pinned by the registry's answer" 0 "image: $R/test/zstd:1@sha256:" \
	"$BERTH" -f pin.yaml config --resolve-image-digests
printf 'services:\n  x:\n    image: %s/test/zstd:nope\n' "$R" >pin.yaml
expect "one the registry does not have fails, naming the service" 1 "service x: manifest for nope not found" \
	"$BERTH" -f pin.yaml config --resolve-image-digests
cat >policy.yaml <<YAML
services:
  often:
    image: $R/test/busybox:1
    command: sleep 1000
    pull_policy: every_1s
  daily:
    image: $R/test/busybox:1
    command: sleep 1000
    pull_policy: daily
YAML
expect "up with every_1s and daily policies" 0 "Started" "$BERTH" -f policy.yaml -p "${proj}p" up -d
sleep 2
expect "every_1s pulls again once a second has gone" 0 "Image $R/test/busybox:1  Pulling" "$BERTH" -f policy.yaml -p "${proj}p" up -d often
expect_quiet "daily does not, the image being fresh" 1 sh -c "'$BERTH' -f policy.yaml -p '${proj}p' up -d daily 2>&1 | grep Pulling"
"$BERTH" -f policy.yaml -p "${proj}p" down -t 0 >/dev/null 2>&1
expect "image prune removes untagged images only" 0 "Total reclaimed space" "$BERTH" image prune -f
"$BERTH" image pull "$R/test/plain:1" >/dev/null
expect "up -d of the plain image" 0 "Started" sh -c "printf 'services:\n  p:\n    image: %s/test/plain:1\n    command: sleep 1000\n' '$R' >prune.yaml; '$BERTH' -f prune.yaml -p '${proj}q' up -d"
expect "image prune -a" 0 "Total reclaimed space" "$BERTH" image prune -a -f
expect "keeps the image a container uses" 0 "$R/test/plain +1 " "$BERTH" image ls
expect_quiet "and removes those none uses" 1 sh -c "'$BERTH' image ls | grep '$R/test/busybox '"
"$BERTH" -f prune.yaml -p "${proj}q" down -t 0 >/dev/null 2>&1
expect "image prune -a then removes it too" 0 "untagged: $R/test/plain:1" "$BERTH" image prune -a -f

# berth pull --include-deps and run: what they pull
cat >deps.yaml <<YAML
services:
  app:
    image: $R/test/busybox:1
    command: echo ran
    depends_on: [db]
  db:
    image: $R/test/plain:1
    command: sleep 1000
YAML
"$BERTH" image rm "$R/test/busybox:1" "$R/test/plain:1" >/dev/null 2>&1
expect "pull app pulls app's image only" 0 "Image $R/test/busybox:1  Pulled" "$BERTH" -f deps.yaml -p "${proj}d" pull app
check "(not db's)" test "$(grep -c "test/plain" <<<"$ERR")" = 0
expect "pull --include-deps app pulls db's too" 0 "Image $R/test/plain:1  Pulled" "$BERTH" -f deps.yaml -p "${proj}d" pull --include-deps app
"$BERTH" image rm "$R/test/busybox:1" "$R/test/plain:1" >/dev/null 2>&1
expect "run pulls the images of the service and of what it depends on" 0 "ran" "$BERTH" -f deps.yaml -p "${proj}d" run --rm app
check "(both were pulled)" test "$(grep -c "Pulled" <<<"$ERR")" = 2
"$BERTH" -f deps.yaml -p "${proj}d" down -t 0 >/dev/null 2>&1

printf 'services:\n  b:\n    image: %s/test/busybox:1\n    pull_policy: build\n    command: "true"\n' "$R" >build.yaml
expect "pull_policy: build without a build section is refused, with its line" 1 \
	"build.yaml:4:[0-9]+: service b: pull_policy: build, but it has no build section" "$BERTH" -f build.yaml -p "${proj}b" up -d
"$BERTH" -f build.yaml -p "${proj}b" down -t 0 >/dev/null 2>&1

# a hostile layer served by a registry meets the same unpacker as a loaded one
mkdir -p "$WORK/h/inner" && touch "$WORK/h/escape-file"
(cd "$WORK/h/inner" && tar -P -cf "$WORK/dotdot-layer.tar" ../escape-file)
"$REPO/examples/images/build-image.sh" -t hostile:1 --layer-tar "$WORK/dotdot-layer.tar" "$WORK/hostile.tar" >/dev/null
push "$WORK/hostile.tar" "$R/test/hostile:1"
expect "a pulled layer with a .. member is refused, naming it" 1 'member "../escape-file" has an absolute path or a ".." part' \
	"$BERTH" image pull "$R/test/hostile:1"
check "nothing landed outside the store" test ! -e "$BERTH_ROOT/images/escape-file"
check "no layer or temporary directory is kept" sh -c "[ -z \"\$(ls -A '$BERTH_ROOT/images/tmp')\" ]"
expect_quiet "and no image" 1 "$BERTH" image inspect "$R/test/hostile:1"

# usage errors name what to give
expect "up --pull takes a policy it knows" 2 "--pull takes always, missing, never or policy" "$BERTH" up -d --pull sometimes
expect "pull --policy likewise" 2 "--policy takes missing or always" "$BERTH" pull --policy never
expect "image pull wants one reference" 2 "image pull takes one image reference" "$BERTH" image pull
expect "image prune takes no arguments" 2 "image prune takes no arguments" "$BERTH" image prune x
expect "logout takes one server at most" 2 "logout takes at most one server" "$BERTH" logout a b

# errors a user meets
expect "a tag that is not there" 1 "manifest for nope not found in $R/test/busybox" "$BERTH" image pull "$R/test/busybox:nope"
expect "a repository that is not there" 1 "not found in $R/no/such" "$BERTH" image pull "$R/no/such:1"
port=$(free_port)
expect "an image of Docker Hub goes nowhere in the tests (lib.sh's proxy on a closed loopback port)" 1 \
	"cannot reach registry-1.docker.io: .*127.0.0.1 port 9" "$BERTH" image pull busybox:nope
expect "a registry that does not answer" 1 "cannot reach 127.0.0.1:$port" "$BERTH" image pull "127.0.0.1:$port/x:1"

# a corrupted blob: refused, naming the layer and both digests; nothing kept
push "$WORK/bb3.tar" "$R/test/bad:1" -f v2s2
layer=$(curl -s -H "Accept: $mt" "http://$R/v2/test/bad/manifests/1" | grep -o '"digest":"sha256:[0-9a-f]*"' | tail -n 1 | cut -d'"' -f4)
data="$WORK/plain/docker/registry/v2/blobs/sha256/${layer:7:2}/${layer:7}/data"
check "the layer's blob is in the registry's store" test -f "$data"
printf 'garbage' | dd of="$data" bs=1 seek=2000 conv=notrunc status=none
expect "a corrupted layer is refused, naming both digests" 1 "layer ${layer:7:12} does not match its digest: expected $layer, got sha256:" \
	"$BERTH" image pull "$R/test/bad:1"
expect_quiet "and no image is tagged" 1 "$BERTH" image inspect "$R/test/bad:1"
check "nothing is left in the store's temporary directory" sh -c "[ -z \"\$(ls -A '$BERTH_ROOT/images/tmp')\" ]"

# Basic logins (htpasswd), kept in config.json
AUTHP=$(free_port)
htpasswd -Bbc "$WORK/htpasswd" tester 's3cret-pass' >/dev/null 2>&1
registry authed "$AUTHP" "auth:
  htpasswd: {realm: test, path: $WORK/htpasswd}"
A=127.0.0.1:$AUTHP
push "$WORK/bb.tar" "$A/priv/app:1" --dest-creds 'tester:s3cret-pass'
expect "a registry that wants a login says so" 1 "requires a login: run berth login $A" "$BERTH" image pull "$A/priv/app:1"
said
expect "login refuses a password in its arguments" 2 "takes no password in its arguments" "$BERTH" login -u tester -p 's3cret-pass' "$A"
check "(nor saves anything)" test ! -e "$DOCKER_CONFIG/config.json"
expect "login with a wrong password fails" 1 "refused" sh -c "echo wrong | '$BERTH' login -u tester --password-stdin $A"
said
expect "login --password-stdin" 0 "Login Succeeded" sh -c "echo 's3cret-pass' | '$BERTH' login -u tester --password-stdin $A"
check "writes config.json with mode 0600" test "$(stat -c %a "$DOCKER_CONFIG/config.json")" = 600
check "without the password in clear" sh -c "! grep -q 's3cret-pass' '$DOCKER_CONFIG/config.json'"
said
expect "then the pull works" 0 "Status: Downloaded newer image for $A/priv/app:1" "$BERTH" image pull "$A/priv/app:1"
said
expect "logout" 0 "Removing login credentials for $A" "$BERTH" logout "$A"
said
expect "and the login is gone" 1 "requires a login" "$BERTH" image pull "$A/priv/app:1"
said
check "the password never appeared in berth's output" sh -c "! grep -q 's3cret-pass' '$WORK/said'"

# credentials written in config.json by another tool (docker login's format)
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$A" "$(printf 'tester:s3cret-pass' | base64)" >"$DOCKER_CONFIG/config.json"
expect "credentials from config.json's auths" 0 "Status: .* for $A/priv/app:1" "$BERTH" image pull "$A/priv/app:1"
rm -f "$DOCKER_CONFIG/config.json"

# a Docker Hub mirror (berth's configuration): images come from it; what it
# lacks falls back to Docker Hub itself (here: the closed loopback port)
push "$WORK/bb.tar" "$R/library/mirrored:1"
printf '{"registry-mirrors": ["http://%s"], "proxies": {"https-proxy": "http://127.0.0.1:9", "no-proxy": "127.0.0.1"}}\n' \
	"$R" >"$WORK/mirror.json"
expect "a Docker Hub image comes from the mirror" 0 "Status: Downloaded newer image for mirrored:1" \
	env BERTH_CONFIG="$WORK/mirror.json" "$BERTH" image pull mirrored:1
expect "what the mirror lacks is asked of Docker Hub" 1 "cannot reach registry-1.docker.io" \
	env BERTH_CONFIG="$WORK/mirror.json" "$BERTH" image pull notmirrored:1

# a registry on a name that is not loopback speaks plain HTTP only when
# berth's configuration names it insecure: here the gateway of a bridge this
# test makes
printf 'services:\n  hold:\n    image: %s/test/busybox:1\n    command: sleep 1000\n' "$R" >gw.yaml
expect "a network for the gateway address" 0 "Started" "$BERTH" -f gw.yaml -p "${proj}g" up -d
GW=$(ip -4 -o addr show | grep -F "$(sed -n 's/.*"bridge": *"\([^"]*\)".*/\1/p' "$BERTH_ROOT/net/networks/${proj}g_default.json")" | awk '{print $4}' | cut -d/ -f1)
GWP=$(free_port)
printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s/gwreg}}\nhttp: {addr: "%s:%s"}\n' "$WORK" "$GW" "$GWP" >"$WORK/gwreg.yml"
docker-registry serve "$WORK/gwreg.yml" >"$WORK/gwreg.log" 2>&1 &
cleanup_hooks+=("kill $! 2>/dev/null")
wait_until 10 curl -s -o /dev/null "http://$GW:$GWP/v2/"
push "$WORK/bb.tar" "$GW:$GWP/ins/app:1"
printf '{"proxies": {"https-proxy": "http://127.0.0.1:9", "http-proxy": "http://127.0.0.1:9", "no-proxy": "127.0.0.1,%s"}}\n' "$GW" >"$WORK/strict.json"
expect "plain HTTP to a registry that is not loopback is refused" 1 "cannot reach $GW:$GWP" \
	env BERTH_CONFIG="$WORK/strict.json" "$BERTH" image pull "$GW:$GWP/ins/app:1"
printf '{"insecure-registries": ["%s/8"], "proxies": {"https-proxy": "http://127.0.0.1:9", "http-proxy": "http://127.0.0.1:9", "no-proxy": "127.0.0.1,%s"}}\n' \
	"$(cut -d. -f1 <<<"$GW").0.0.0" "$GW" >"$WORK/insecure.json"
expect "unless insecure-registries names it (by network here)" 0 "Status: Downloaded newer image for $GW:$GWP/ins/app:1" \
	env BERTH_CONFIG="$WORK/insecure.json" "$BERTH" image pull "$GW:$GWP/ins/app:1"
"$BERTH" -f gw.yaml -p "${proj}g" down -t 0 >/dev/null 2>&1

# TLS: a CA the test makes, trusted through certs.d
TLSP=$(free_port)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=berth test CA" -keyout "$WORK/ca.key" -out "$WORK/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$WORK/srv.key" -out "$WORK/srv.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$WORK/san.ext"
openssl x509 -req -in "$WORK/srv.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial -days 2 \
	-extfile "$WORK/san.ext" -out "$WORK/srv.crt" 2>/dev/null
registry tls "$TLSP" "  tls: {certificate: $WORK/srv.crt, key: $WORK/srv.key}"
T=127.0.0.1:$TLSP
push "$WORK/bb.tar" "$T/sec/app:1"
expect "a certificate berth cannot verify is refused" 1 "cannot reach $T: .*(certificate|SSL)" "$BERTH" image pull "$T/sec/app:1"
mkdir -p "$BERTH_CERTS_DIR/$T" && cp "$WORK/ca.crt" "$BERTH_CERTS_DIR/$T/ca.crt"
expect "with the CA in certs.d, the pull works over TLS" 0 "Status: Downloaded newer image for $T/sec/app:1" \
	"$BERTH" image pull "$T/sec/app:1"
# a registry that wants a client certificate: the one in certs.d
MTLSP=$(free_port)
openssl req -newkey rsa:2048 -nodes -subj "/CN=berth client" -keyout "$WORK/client.key" -out "$WORK/client.csr" 2>/dev/null
openssl x509 -req -in "$WORK/client.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial -days 2 \
	-out "$WORK/client.cert" 2>/dev/null
registry mtls "$MTLSP" "  tls:
    certificate: $WORK/srv.crt
    key: $WORK/srv.key
    clientcas: [$WORK/ca.crt]"
M=127.0.0.1:$MTLSP
mkdir -p "$WORK/skopeo-certs" && cp "$WORK/client.cert" "$WORK/client.key" "$WORK/ca.crt" "$WORK/skopeo-certs/"
skopeo copy -q --dest-cert-dir "$WORK/skopeo-certs" "docker-archive:$WORK/bb.tar" "docker://$M/mtls/app:1" \
	>/dev/null 2>"$WORK/skopeo.err" || not_ok "skopeo pushes to the registry that wants a client certificate: $(head -c 300 "$WORK/skopeo.err")"
mkdir -p "$BERTH_CERTS_DIR/$M" && cp "$WORK/ca.crt" "$BERTH_CERTS_DIR/$M/ca.crt"
expect "without a client certificate, the registry refuses, with TLS's own words" 1 "cannot reach $M( over TLS)?: .*(certificate|SSL|TLS)" \
	"$BERTH" image pull "$M/mtls/app:1"
cp "$WORK/client.cert" "$WORK/client.key" "$BERTH_CERTS_DIR/$M/"
expect "with client.cert and client.key in certs.d, the pull works" 0 "Status: Downloaded newer image for $M/mtls/app:1" \
	"$BERTH" image pull "$M/mtls/app:1"

# Token auth, as Docker Hub does it: a token service the test runs signs
# JWTs the registry checks against its certificate; pub/ is anonymous
TOKP=$(free_port)
REGP=$(free_port)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=berth token signer" -keyout "$WORK/tok.key" \
	-out "$WORK/tok.crt" 2>/dev/null
/usr/bin/python3 "$REPO/tests/helpers/tokenserver.py" --listen "$TOKP" --key "$WORK/tok.key" --cert "$WORK/tok.crt" \
	--issuer berth-test --user 'tester:tok-pass' --log "$WORK/tok.log" &
cleanup_hooks+=("kill $! 2>/dev/null")
wait_until 10 curl -s -o /dev/null "http://127.0.0.1:$TOKP/token"
registry token "$REGP" "auth:
  token: {realm: 'http://127.0.0.1:$TOKP/token', service: berth-registry, issuer: berth-test, rootcertbundle: $WORK/tok.crt}"
K=127.0.0.1:$REGP
push "$WORK/bb.tar" "$K/pub/app:1" --dest-creds 'tester:tok-pass'
push "$WORK/bb.tar" "$K/priv/app:1" --dest-creds 'tester:tok-pass'
: >"$WORK/tok.log"
expect "an anonymous token pulls a public repository" 0 "Status: Downloaded newer image for $K/pub/app:1" \
	"$BERTH" image pull "$K/pub/app:1"
check "(the token service was asked, without credentials, for that repository)" \
	grep -q "scope=repository%3Apub%2Fapp%3Apull anonymous -> 200" "$WORK/tok.log"
expect "a private one is denied, saying to log in" 1 "pull access denied for $K/priv/app.*berth login $K" \
	"$BERTH" image pull "$K/priv/app:1"
expect "login through the token service" 0 "Login Succeeded" sh -c "echo tok-pass | '$BERTH' login -u tester --password-stdin $K"
said
expect "then the private pull works" 0 "Status: Downloaded newer image for $K/priv/app:1" "$BERTH" image pull "$K/priv/app:1"
said
check "(with the credentials sent to the token service, not the password to the registry)" \
	grep -q "priv%2Fapp%3Apull creds -> 200" "$WORK/tok.log"
expect "logout" 0 "Removing login credentials" "$BERTH" logout "$K"
check "the password never appeared in berth's output" sh -c "! grep -q 'tok-pass' '$WORK/said'"

# a network and registries that misbehave, through tests/helpers/regproxy.py;
# each pull into a fresh store so that the layer is fetched
front() { # NAME [faults]: a proxy before the plain registry; its port in $FRONT
	local name=$1
	shift
	FRONT=$(free_port)
	/usr/bin/python3 "$REPO/tests/helpers/regproxy.py" --listen "$FRONT" --upstream "127.0.0.1:$PLAIN" \
		--log "$WORK/$name.log" "$@" >"$WORK/$name.ready" &
	cleanup_hooks+=("kill $! 2>/dev/null")
	wait_until 10 grep -q ready "$WORK/$name.ready"
}
fresh() { BERTH_ROOT=$WORK/root-$1 "$BERTH" image pull "127.0.0.1:$FRONT/test/zstd:1"; }
front cut --cut-after 300000
expect "a connection dropped in the middle of a layer" 0 "Status: Downloaded newer image" fresh cut
check "(it was cut)" grep -q "cut after 300000" "$WORK/cut.log"
check "is resumed where it broke, with Range" grep -q "range=bytes=300000- .* -> 206" "$WORK/cut.log"
front norange --cut-after 300000 --ignore-range
expect "from a registry that ignores Range, it starts again and keeps each byte once" 0 "Status: Downloaded newer image" \
	fresh norange
check "(the second answer was the whole blob)" grep -q "range=bytes=300000- .* -> 200" "$WORK/norange.log"
front busy --fail-blobs 2 --throttle 1
expect "503s and a 429 with Retry-After are waited out" 0 "Status: Downloaded newer image" fresh busy
check "(two 503s, one 429, then the blob)" sh -c "[ \$(grep -c ' -> 503' '$WORK/busy.log') = 2 ] && grep -q ' -> 429' '$WORK/busy.log'"
STORE=$(free_port)
FRONT=$(free_port)
/usr/bin/python3 "$REPO/tests/helpers/regproxy.py" --listen "$FRONT" --upstream "$A" --log "$WORK/redir.log" \
	--storage "$STORE" --storage-auth 'tester:s3cret-pass' >"$WORK/redir.ready" &
cleanup_hooks+=("kill $! 2>/dev/null")
wait_until 10 grep -q ready "$WORK/redir.ready"
push "$WORK/bb2.tar" "$A/priv/blob:1" --dest-creds 'tester:s3cret-pass'
expect "login to the registry behind the redirecting front" 0 "Login Succeeded" \
	sh -c "echo 's3cret-pass' | '$BERTH' login -u tester --password-stdin 127.0.0.1:$FRONT"
expect "a blob redirected to storage elsewhere (as S3)" 0 "Status: Downloaded newer image" \
	env BERTH_ROOT="$WORK/root-redir" "$BERTH" image pull "127.0.0.1:$FRONT/priv/blob:1"
check "is fetched there" grep -q "^GET /storage/v2/priv/blob/blobs/sha256:.* -> 200" "$WORK/redir.log"
check "without the registry's credentials" sh -c "! grep '^GET /storage/' '$WORK/redir.log' | grep -qv ' noauth '"
check "which the registry itself got" grep -q "^GET /v2/priv/blob/manifests/1 range=- auth -> 200" "$WORK/redir.log"
"$BERTH" logout "127.0.0.1:$FRONT" >/dev/null

# a push whose upload Location names another host (as a registry may send
# uploads to its storage, or an attacker's registry to its own host): the
# registry's credentials go to the registry alone
STORE=$(free_port)
FRONT=$(free_port)
/usr/bin/python3 "$REPO/tests/helpers/regproxy.py" --listen "$FRONT" --upstream "$A" --log "$WORK/upload.log" \
	--storage "$STORE" --storage-auth 'tester:s3cret-pass' --upload-elsewhere >"$WORK/upload.ready" &
cleanup_hooks+=("kill $! 2>/dev/null")
wait_until 10 grep -q ready "$WORK/upload.ready"
echo 's3cret-pass' | "$BERTH" login -u tester --password-stdin "127.0.0.1:$FRONT" >/dev/null 2>&1
"$REPO/examples/images/build-image.sh" -t "127.0.0.1:$FRONT/priv/pushed:1" "$WORK/pushed.tar" >/dev/null &&
	"$BERTH" image load -i "$WORK/pushed.tar" >/dev/null
expect "a push whose uploads go to another host" 0 '1: digest: sha256:' "$BERTH" image push "127.0.0.1:$FRONT/priv/pushed:1"
check "... uploads there" grep -q '^PUT /storage/v2/priv/pushed/blobs/uploads/.* -> 201' "$WORK/upload.log"
check "... without the registry's credentials" sh -c "! grep -E '^(PUT|PATCH|POST) /storage/' '$WORK/upload.log' | grep -qv ' noauth '"
check "... which the registry itself got" grep -q '^POST /v2/priv/pushed/blobs/uploads/ range=- auth -> 202' "$WORK/upload.log"
"$BERTH" logout "127.0.0.1:$FRONT" >/dev/null

# on a terminal, each layer's line is redrawn in place, with docker's bar
front bar --slow 400000
script -qc "BERTH_ROOT='$WORK/root-bar' '$BERTH' image pull 127.0.0.1:$FRONT/test/zstd:1" /dev/null >"$WORK/bar.out" 2>&1
check "a terminal shows the download as a bar" grep -q "Downloading \[=*>  *\]" "$WORK/bar.out"
check "redrawn in place (cursor up, erase line)" grep -q "$(printf '\033')\[1A$(printf '\033')\[2K" "$WORK/bar.out"
check "ending complete" grep -q "Pull complete" "$WORK/bar.out"

# what berth refuses from a registry: schema 1, a manifest past 4 MiB, endless redirects
front odd --schema1 old --huge big --loop loop
expect "a schema 1 manifest is refused, saying why" 1 "image manifest v1 format \(schema 1\), which berth does not pull" \
	"$BERTH" image pull "127.0.0.1:$FRONT/test/busybox:old"
expect "a manifest past 4 MiB is refused" 1 "with more than 4194304 bytes; berth refuses it" "$BERTH" image pull "127.0.0.1:$FRONT/test/busybox:big"
expect "a redirect loop ends" 1 "cannot reach 127.0.0.1:$FRONT: .*(redirect|Maximum)" "$BERTH" image pull "127.0.0.1:$FRONT/test/busybox:loop"

# kill -9 in the middle of a pull: nothing half-made, no fetcher left, the next pull finishes
front slow --slow 100000
BERTH_ROOT=$WORK/root-kill "$BERTH" image pull "127.0.0.1:$FRONT/test/zstd:1" >/dev/null 2>&1 &
puller=$!
disown "$puller"
wait_until 10 grep -q "GET /v2/test/zstd/blobs/" "$WORK/slow.log"
sleep 1
kill -9 "$puller"
wait_until 10 sh -c "! kill -0 $puller 2>/dev/null"
check "the layer fetchers die with the pull" sh -c "! pgrep -f 'berth[ ].*image pull 127.0.0.1:$FRONT' >/dev/null"
expect_quiet "no image is recorded" 1 env BERTH_ROOT="$WORK/root-kill" "$BERTH" image inspect "127.0.0.1:$FRONT/test/zstd:1"
check "no layer is half in place" sh -c "[ -z \"\$(ls -A '$WORK/root-kill/images/layers' 2>/dev/null)\" ]"
expect "the next pull finishes" 0 "Status: Downloaded newer image" env BERTH_ROOT="$WORK/root-kill" "$BERTH" image pull "$R/test/zstd:1"
check "and sweeps what the killed one left" sh -c "[ -z \"\$(ls -A '$WORK/root-kill/images/tmp')\" ]"

expect "down" 0 "" "$BERTH" down -t 0
check_no_leaks "after the pulls"
