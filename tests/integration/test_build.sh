#!/bin/bash
# Building images as a compose user does (build: sections, berth build,
# up building what is missing) and as docker build does (berth image
# build), from a busybox image made by the test: stages, targets,
# .dockerignore, ARG and ENV, heredocs, cache and secret mounts, the build
# cache, failures, a build killed with kill -9, and what the image carries
# into its containers.
. "$(dirname "$0")/lib.sh"
export COMPOSE_PROJECT_NAME=berthbuild$$
proj=$COMPOSE_PROJECT_NAME
cleanup_hooks+=("cd '$WORK/app' 2>/dev/null && '$BERTH' down -t 0 >/dev/null 2>&1")
load_busybox || not_ok "the busybox image loads"
images=$BERTH_ROOT/images
mkdir -p "$WORK/app" && cd "$WORK/app" || exit 1

# the files of an image, as a container of it sees them: run CMD in it
in_image() { # IMAGE CMD
	printf 'services:\n  probe: {image: %s, entrypoint: ["sh", "-c"], user: "0"}\n' "$1" >"$WORK/probe.yaml"
	"$BERTH" -f "$WORK/probe.yaml" -p "${proj}probe" run --rm -T probe "$2"
}

# --- multi-stage, a stage as a base, COPY --from, .dockerignore ---
mkdir -p ms/logs ms/node_modules/pkg ms/src
echo top-secret >ms/secret.txt
echo a >ms/logs/a.log
echo keep >ms/logs/keep.log
echo module >ms/node_modules/pkg/index.js
echo main >ms/src/main.txt
printf 'secret.txt\nlogs/*.log\n!logs/keep.log\nnode_modules\n' >ms/.dockerignore
cat >ms/Dockerfile <<'DF'
# syntax=docker/dockerfile:1
ARG BASE=busybox:latest
FROM ${BASE} AS builder
RUN mkdir -p /out && echo built >/out/result.txt
FROM busybox AS broken
RUN exit 7
FROM ${BASE} AS base
ENV LAYER=base
FROM base AS final
COPY --from=builder /out /app
COPY . /ctx/
RUN echo "layer is $LAYER" >/app/layer.txt
DF
expect "a multi-stage build succeeds, skipping the stage nothing needs" 0 'naming to docker.io/library/ms:latest done' \
	"$BERTH" image build -t ms ms
check "the unneeded stage was not built" sh -c "! grep -q 'RUN exit 7' '$WORK/err'"
check "the stages are named in the progress" grep -q '^#[0-9]* \[builder 2/2\] RUN mkdir' "$WORK/err"
expect "COPY --from brings another stage's files" 0 '^built$' in_image ms 'cat /app/result.txt'
expect "a stage used as a base keeps its ENV" 0 '^layer is base$' in_image ms 'cat /app/layer.txt'
expect ".dockerignore leaves out files, globs and directories, but not its exceptions" 0 \
	'^/ctx/.dockerignore /ctx/Dockerfile /ctx/logs /ctx/logs/keep.log /ctx/src /ctx/src/main.txt$' \
	in_image ms 'find /ctx -mindepth 1 | sort | tr "\n" " " | sed "s/ $//"'
expect "--target builds that stage" 0 'naming to docker.io/library/ms-builder' "$BERTH" image build --target builder -t ms-builder ms
expect "the target's image lacks the later stages' files" 0 '^absent$' in_image ms-builder 'test -e /app || echo absent'
expect "a target that no stage is named fails" 1 'target stage "nope" could not be found' "$BERTH" image build --target nope ms

# --- independent stages are built at the same time ---
mkdir -p par
cat >par/Dockerfile <<'DF'
FROM busybox AS left
ARG RUN
RUN --mount=type=cache,target=/sync,id=sync-$RUN touch /sync/left && for i in $(seq 150); do [ -e /sync/right ] && echo met >/left.txt && exit 0; sleep 0.1; done; exit 1
FROM busybox AS right
ARG RUN
RUN --mount=type=cache,target=/sync,id=sync-$RUN touch /sync/right && for i in $(seq 150); do [ -e /sync/left ] && echo met >/right.txt && exit 0; sleep 0.1; done; exit 1
FROM busybox
COPY --from=left /left.txt /
COPY --from=right /right.txt /
DF
expect "two stages that wait for each other both finish: they ran at the same time" 0 'naming to' \
	"$BERTH" image build --build-arg RUN=$$ -t par par
expect "... and the last stage has both results" 0 '^met met$' in_image par 'echo $(cat /left.txt /right.txt)'
check "each step had a number of its own in the progress" \
	sh -c "[ \$(grep -Eo '^#[0-9]+ \[' '$WORK/err' | sort | uniq -d | wc -l) -eq 0 ]"

# --- ARG, ENV, WORKDIR, heredocs ---
mkdir -p vars
cat >vars/Dockerfile <<'DF'
FROM busybox
ARG VERSION=1.0
ARG FLAVOUR
ENV APP_VERSION=${VERSION} APP_HOME=/opt/app-${VERSION}
WORKDIR $APP_HOME
WORKDIR sub
RUN echo "v=$VERSION f=${FLAVOUR:-plain} home=$APP_HOME pwd=$(pwd)" >/info.txt
RUN <<EOT
set -e
echo "heredoc one $VERSION" >/here1.txt
echo second line >>/here1.txt
EOT
RUN cat <<A >/here2.txt && cat <<B >>/here2.txt
from a
A
from b
B
COPY <<EOF /etc/app.conf
name = app
EOF
COPY <<one <<two /docs/
first
one
second
two
DF
expect "ARG defaults and ENV expand" 0 'naming to' "$BERTH" image build -t vars vars
mkdir -p plat
cat >plat/Dockerfile <<'DF'
FROM --platform=$BUILDPLATFORM busybox AS build
ARG TARGETARCH
ARG TARGETPLATFORM
RUN echo "$TARGETPLATFORM $TARGETARCH" >/plat.txt
FROM --platform=$TARGETPLATFORM busybox
COPY --from=build /plat.txt /
DF
expect "FROM --platform=\$BUILDPLATFORM and the platform ARGs work for this machine" 0 'naming to' "$BERTH" image build -t plat plat
expect "... and a stage sees the ARGs it declares" 0 "^linux/$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/') " in_image plat 'cat /plat.txt'
printf 'FROM --platform=linux/s390x busybox\n' >plat/Dockerfile
expect "another platform is refused by name" 1 'Dockerfile:1: FROM: --platform=linux/s390x: berth builds for this machine' "$BERTH" image build plat
expect "RUN sees ARG and ENV, WORKDIR nests and is made" 0 '^v=1.0 f=plain home=/opt/app-1.0 pwd=/opt/app-1.0/sub$' \
	in_image vars 'cat /info.txt'
expect "--build-arg overrides a default and sets an unset ARG" 0 'naming to' \
	"$BERTH" image build --build-arg VERSION=2.5 --build-arg FLAVOUR=spicy -t vars2 vars
expect "... and RUN sees them" 0 '^v=2.5 f=spicy home=/opt/app-2.5 pwd=/opt/app-2.5/sub$' in_image vars2 'cat /info.txt'
expect "ENV is in the image, ARG is not" 0 '^APP_VERSION=2.5 FLAVOUR=$' in_image vars2 'echo "APP_VERSION=$APP_VERSION FLAVOUR=$FLAVOUR"'
expect "a RUN heredoc runs as a script" 0 $'^heredoc one 1.0\nsecond line$' in_image vars 'cat /here1.txt'
expect "heredocs inside a RUN command go to the shell" 0 $'^from a\nfrom b$' in_image vars 'cat /here2.txt'
expect "COPY <<EOF writes the file" 0 '^name = app$' in_image vars 'cat /etc/app.conf'
expect "COPY with two heredocs writes both into the directory" 0 '^first second$' in_image vars 'echo $(cat /docs/one /docs/two)'

# --- the cache ---
# how the last build's step whose line has TEXT ended: DONE, CACHED or ERROR
# (stages built side by side interleave their lines; a step's own are #N)
step_end() {
	local n
	n=$(grep -F "$1" "$WORK/err" | grep -Eo '^#[0-9]+' | head -1)
	grep -E "^$n (DONE|CACHED|ERROR)" "$WORK/err" | head -1 | awk '{print $2}'
}
# ended TEXT HOW [TEXT HOW...]: each of those steps ended so
ended() {
	while [ $# -ge 2 ]; do
		[ "$(step_end "$1")" = "$2" ] || return 1
		shift 2
	done
}
run "$BERTH" image build -t vars vars
first_id=$("$BERTH" image build -q -t vars vars)
run "$BERTH" image build -t vars vars
check "a rebuild of an unchanged context runs no step" sh -c "! grep -Eq '^#[0-9]+ [0-9]+\.[0-9]+ ' '$WORK/err' && [ \$(grep -c ' CACHED\$' '$WORK/err') -ge 5 ]"
check "... and gives the same image" test "$("$BERTH" image build -q -t vars vars)" = "$first_id"
echo more >ms/src/main.txt
run "$BERTH" image build -t ms ms
check "a changed file reruns its COPY and what follows, not what comes before" \
	ended 'COPY . /ctx/' DONE 'RUN mkdir -p /out' CACHED 'RUN echo "layer' DONE
echo another >ms/logs/a.log
run "$BERTH" image build -t ms ms
check "a change to an ignored file changes nothing" ended 'COPY . /ctx/' CACHED
run "$BERTH" image build --no-cache -t vars vars
check "--no-cache runs every step again" sh -c "! grep -q CACHED '$WORK/err' && [ \$(grep -c '^#[0-9]* DONE' '$WORK/err') -ge 9 ]"

# --- cache and secret mounts, network modes ---
mkdir -p mounts
echo s3cr3t-value >"$WORK/token.txt"
cat >mounts/Dockerfile <<'DF'
FROM busybox
RUN --mount=type=cache,target=/var/cache/app,id=appcache echo run >>/var/cache/app/log && wc -l </var/cache/app/log >/runs.txt
RUN --mount=type=secret,id=token cp /run/secrets/token /tmp/seen && wc -c </run/secrets/token >/secret-size.txt && rm /tmp/seen
RUN --mount=type=secret,id=token,target=/etc/tok,required=true grep -q s3cr3t /etc/tok && echo found >/found.txt
RUN --mount=type=tmpfs,target=/scratch echo tmp >/scratch/x && test "$(cat /scratch/x)" = tmp
RUN --network=none ls /sys/class/net | tr '\n' ' ' >/net-none.txt
RUN echo $(df -k /dev/shm | tail -1 | awk '{print $2}') $(ulimit -n) >/limits.txt
RUN ls /sys/class/net | tr '\n' ' ' >/net-default.txt && grep nameserver /etc/resolv.conf | head -1 >/resolv.txt && ip route | awk '/default/ {print $3}' >/gateway.txt
RUN --network=host ls /sys/class/net | tr '\n' ' ' >/net-host.txt
DF
expect "cache and secret mounts build" 0 'naming to' \
	"$BERTH" image build --allow network.host --secret id=token,src="$WORK/token.txt" --shm-size 96m --ulimit nofile=1234:2048 -t mounts mounts
expect "--shm-size and --ulimit reach RUN" 0 '^98304 1234$' in_image mounts 'cat /limits.txt'
expect "a cache mount starts empty" 0 '^1$' in_image mounts 'cat /runs.txt'
expect "a secret is readable during its step" 0 '^13 found$' in_image mounts 'echo $(cat /secret-size.txt /found.txt)'
expect "the cache and secret mount points are not in the image" 0 '^clean$' \
	in_image mounts 'test -e /var/cache/app/log || test -e /run/secrets || test -e /etc/tok || test -e /scratch || echo clean'
check "the secret is in no layer" sh -c "! (cd '$images/blobs/sha256' && for f in *; do (gzip -dc \$f 2>/dev/null || cat \$f); done | grep -qa s3cr3t-value)"
expect "--network=none gives RUN only loopback" 0 '^lo $' in_image mounts 'cat /net-none.txt'
expect "RUN has the build network by default" 0 '^eth0 lo $' in_image mounts 'cat /net-default.txt'
expect "... and asks berth's DNS responder on its gateway for names" 0 '^same$' \
	in_image mounts 'test "$(cat /resolv.txt)" = "nameserver $(cat /gateway.txt)" && echo same'
expect "--network=host gives RUN the host's interfaces (the build bridge among them)" 0 '(^| )berth-[0-9a-f]+ ' \
	in_image mounts 'cat /net-host.txt'
expect "the cache mount keeps its files across builds" 0 'naming to' \
	"$BERTH" image build --no-cache --network host --secret id=token,src="$WORK/token.txt" -t mounts mounts
expect "without them, RUN has Docker's 64 MiB /dev/shm" 0 '^65536 ' in_image mounts 'cat /limits.txt'
expect "... the second build saw the first one's" 0 '^2$' in_image mounts 'cat /runs.txt'
mkdir -p needs
printf 'FROM busybox\nRUN --mount=type=secret,id=token,required=true cat /run/secrets/token\n' >needs/Dockerfile
expect "a required secret that is missing fails, naming it" 1 'Dockerfile:2: RUN: --mount: secret token is required' "$BERTH" image build needs

# --- ADD: local archives, URLs, checksums; ONBUILD ---
mkdir -p adds/tree/sub
echo in-archive >adds/tree/sub/file.txt
tar -C adds/tree -czf adds/bundle.tar.gz .
echo served >"$WORK/served.txt"
HTTP=$(free_port)
(cd "$WORK" && exec python3 -m http.server --bind 127.0.0.1 "$HTTP" >"$WORK/http.log" 2>&1) &
cleanup_hooks+=("kill $! 2>/dev/null")
wait_until 10 curl -sf -o /dev/null "http://127.0.0.1:$HTTP/served.txt" || not_ok "the test's HTTP server starts"
sum=$(sha256sum "$WORK/served.txt" | cut -d' ' -f1)
cat >adds/Dockerfile <<DF
FROM busybox
ADD bundle.tar.gz /unpacked/
ADD --checksum=sha256:$sum http://127.0.0.1:$HTTP/served.txt /fetched/
ONBUILD RUN echo triggered >/onbuild.txt
ONBUILD COPY marker.txt /marker.txt
DF
expect "ADD extracts a local archive and fetches a URL" 0 'naming to' "$BERTH" image build -t adds adds
expect "the archive's files are unpacked in place" 0 '^in-archive$' in_image adds 'cat /unpacked/sub/file.txt'
expect "the fetched file is there, mode 0600 as Docker makes it" 0 '^served 600$' \
	in_image adds 'echo $(cat /fetched/served.txt) $(stat -c %a /fetched/served.txt)'
expect "ONBUILD is stored, not run, in the image that declares it" 0 '^not run$' in_image adds 'test -e /onbuild.txt || echo not run'
sed -i "s/sha256:$sum/sha256:$(printf '0%.0s' $(seq 64))/" adds/Dockerfile
expect "a wrong --checksum fails, naming both sums" 1 "checksum mismatch: it is sha256:$sum" "$BERTH" image build adds
mkdir -p child && echo marked >child/marker.txt && printf 'FROM adds\nRUN cat /onbuild.txt\n' >child/Dockerfile
expect "ONBUILD triggers run in a build FROM that image" 0 'triggered' "$BERTH" image build -t child child
expect "... COPY among them, from the child's context" 0 '^marked$' in_image child 'cat /marker.txt'
printf 'FROM busybox\nCOPY http://127.0.0.1:%s/served.txt /x\n' "$HTTP" >child/Dockerfile
expect "COPY refuses a URL" 1 'COPY: http://127.0.0.1:[0-9]+/served.txt: COPY cannot take a URL; use ADD' "$BERTH" image build child
printf 'FROM busybox\nADD http://127.0.0.1:%s/missing.txt /x\n' "$HTTP" >child/Dockerfile
expect "ADD of a URL that answers 404 fails, naming it" 1 'Dockerfile:2: ADD: cannot fetch http://127.0.0.1:[0-9]+/missing.txt' "$BERTH" image build child
printf 'FROM busybox\nADD --checksum=sha256:%s marker.txt /x\n' "$sum" >child/Dockerfile
expect "--checksum without a URL is refused" 1 'checksum is for sources from URLs' "$BERTH" image build child
printf 'FROM busybox\nADD http://127.0.0.1:%s/served.txt marker.txt /x/\n' "$HTTP" >child/Dockerfile
expect "a URL with other sources is refused" 1 'URLs in an ADD of their own' "$BERTH" image build child
printf 'FROM busybox\nADD https://example.invalid/repo.git /src\n' >child/Dockerfile
expect "a git source is refused, saying what to do" 1 'git sources are not supported by berth; clone it into the build context' "$BERTH" image build child
mkdir -p "$WORK/dotdot" && echo dotdot >"$WORK/dotdot/index.html"
printf 'FROM busybox\nADD http://127.0.0.1:%s/.. /fetched/\n' "$HTTP" >child/Dockerfile
expect "ADD of a URL whose last part is .. writes a file named download, inside the image" 0 'naming to' "$BERTH" image build -t urlname child
expect "(there)" 0 '^/fetched/download$' in_image urlname 'ls -d /fetched/*'

# --- bind mounts from stages and images, rw binds, named contexts ---
mkdir -p binds extra
echo from-extra >extra/extra.txt
echo ctx-file >binds/ctx.txt
cat >binds/Dockerfile <<'DF'
FROM busybox AS tools
RUN mkdir -p /out && echo one >/out/one.txt
RUN echo two >/out/two.txt && rm /out/one.txt
FROM busybox
RUN --mount=type=bind,from=tools,source=/out,target=/t ls /t | tr '\n' ' ' >/from-stage.txt
RUN --mount=type=bind,from=busybox,source=/bin,target=/b test -e /b/busybox && echo image-bin >/from-image.txt
RUN --mount=type=bind,rw,target=/ctx echo scribble >/ctx/ctx.txt && cat /ctx/ctx.txt >/rw.txt
RUN --mount=type=bind,target=/ctx cat /ctx/ctx.txt >/after.txt
RUN --mount=type=bind,from=extra,target=/e cat /e/extra.txt >/named.txt
COPY --from=extra extra.txt /copied-extra.txt
COPY --from=base /bin/busybox /copied-busybox
WORKDIR /w
RUN --mount=type=bind,target=. cat ctx.txt >/rel.txt
DF
expect "bind mounts from a stage, an image and named contexts build" 0 'naming to' \
	"$BERTH" image build --build-context extra=./extra --build-context base=docker-image://busybox:latest -t binds binds
expect "a stage's directory is its merged view (a deletion in a later layer included)" 0 '^two.txt $' \
	in_image binds 'cat /from-stage.txt'
expect "an image's directory is mounted" 0 '^image-bin$' in_image binds 'cat /from-image.txt'
expect "an rw bind takes writes during its step" 0 '^scribble$' in_image binds 'cat /rw.txt'
check "... and throws them away: the context is unchanged" test "$(cat binds/ctx.txt)" = ctx-file
expect "... also for the next step" 0 '^ctx-file$' in_image binds 'cat /after.txt'
expect "a named context of a directory mounts and copies" 0 '^from-extra from-extra$' \
	in_image binds 'echo $(cat /named.txt /copied-extra.txt)'
expect "a docker-image:// named context is copied from" 0 '^yes$' in_image binds 'test -x /copied-busybox && echo yes'
expect "a relative mount target is under WORKDIR, as BuildKit has it" 0 '^ctx-file$' in_image binds 'cat /rel.txt'
# What a bind mount binds is in the step's cache key: a changed bound file
# runs the step again, and another context with the same Dockerfile does
# not get the first one's layer.
mkdir -p keyed/a keyed/b
printf 'FROM busybox\nRUN --mount=type=bind,target=/c cat /c/data.txt >/out.txt\n' | tee keyed/a/Dockerfile >keyed/b/Dockerfile
echo one >keyed/a/data.txt
echo other-project >keyed/b/data.txt
"$BERTH" image build -q -t keyed keyed/a >/dev/null 2>&1
expect "a RUN with a bind of the context sees the file" 0 '^one$' in_image keyed 'cat /out.txt'
echo two >keyed/a/data.txt
expect "a changed bound file runs the step again" 0 'naming to' "$BERTH" image build -t keyed keyed/a
check "... not from the cache" sh -c "! grep -q CACHED '$WORK/out'"
expect "... and the image has the new content" 0 '^two$' in_image keyed 'cat /out.txt'
"$BERTH" image build -q -t keyed-b keyed/b >/dev/null 2>&1
expect "another context with the same RUN line gets its own layer" 0 '^other-project$' in_image keyed-b 'cat /out.txt'
printf 'FROM busybox\nRUN --mount=type=bind,from=marked,target=/m cat /m/marker >/out.txt\n' >keyed/a/Dockerfile
"$REPO/examples/images/build-image.sh" -t marked:latest --add "$WORK/token.txt:/marker" "$WORK/marked.tar" >/dev/null 2>&1 &&
	"$BERTH" image load -i "$WORK/marked.tar" >/dev/null
"$BERTH" image build -q -t keyed keyed/a >/dev/null 2>&1
echo changed-image >"$WORK/marker2"
"$REPO/examples/images/build-image.sh" -t marked:latest --add "$WORK/marker2:/marker" "$WORK/marked2.tar" >/dev/null 2>&1 &&
	"$BERTH" image load -i "$WORK/marked2.tar" >/dev/null
"$BERTH" image build -q -t keyed keyed/a >/dev/null 2>&1
expect "a from= image retagged to other content runs the step again" 0 '^changed-image$' in_image keyed 'cat /out.txt'
printf 'FROM busybox\nRUN --mount=type=cache,target=/c,from=busybox,source=/etc true\n' >binds/Dockerfile
expect "a field berth does not honour for its type is refused, not ignored" 1 \
	'Dockerfile:2: RUN: --mount: type=cache with source= is not supported by berth' "$BERTH" image build binds
printf 'FROM busybox\nRUN --mount=type=bind,from=busybox,source=/nope,target=/n true\n' >binds/Dockerfile
expect "a bind source that is not there is named" 1 'Dockerfile:2: RUN: --mount: source /nope is not in busybox' "$BERTH" image build binds
mkdir -p svcs
printf 'FROM busybox\nRUN echo base-layer >/base.txt\n' >svcs/Dockerfile.base
printf 'FROM base\nRUN cat /base.txt >/seen.txt\n' >svcs/Dockerfile.app
cat >svcs/compose.yaml <<'YAML'
services:
  app:
    build:
      context: .
      dockerfile: Dockerfile.app
      additional_contexts:
        base: service:base
  base:
    build:
      context: .
      dockerfile: Dockerfile.base
YAML
expect "build.additional_contexts service: builds that service first and uses its image" 0 'naming to docker.io/library/svcs-app' \
	"$BERTH" -f svcs/compose.yaml -p svcs build app
expect "... as the base" 0 '^base-layer$' in_image svcs-app 'cat /seen.txt'
cat >svcs/compose.yaml <<'YAML'
services:
  a:
    build: {context: ., dockerfile: Dockerfile.app, additional_contexts: {base: "service:b"}}
  b:
    build: {context: ., dockerfile: Dockerfile.app, additional_contexts: {base: "service:a"}}
YAML
expect "services whose images need each other are refused" 1 'their images need each other|its images need each other' \
	"$BERTH" -f svcs/compose.yaml -p svcs build

# --- compose: build:, up building what is missing, the image in its containers ---
mkdir -p web
cat >web/Dockerfile <<'DF'
FROM busybox
ARG GREETING=hello
RUN mkdir -p /srv/www && echo "$GREETING from the build" >/srv/www/index.html && chown -R 1000:1000 /srv/www && echo $(df -k /dev/shm | tail -1 | awk '{print $2}') $(ulimit -n) >/limits.txt
WORKDIR /srv/www
USER 1000
EXPOSE 8080/tcp
HEALTHCHECK --interval=1s --timeout=2s --retries=3 CMD test -f /srv/www/index.html
STOPSIGNAL SIGTERM
ENTRYPOINT ["sh", "-c"]
CMD ["echo started; exec sleep 1000"]
DF
cat >compose.yaml <<'YAML'
services:
  web:
    build:
      context: ./web
      args:
        GREETING: bonjour
      labels:
        org.example.role: frontend
      shm_size: 80m
      ulimits:
        nofile: {soft: 3000, hard: 4000}
  tool:
    build: ./web
    image: example/tool:1
    command: ["exit 0"]
  tool-shm:
    image: busybox
    shm_size: 48m
    command: sleep 1000
YAML
expect "up builds the missing images and starts them" 0 "Container ${proj}-web-1 +Started" "$BERTH" up -d
check "the build went to stderr with its steps" grep -q '\[web 3/10\] RUN mkdir' "$WORK/err"
expect "a build-only service's image is named <project>-<service>" 0 "^${proj}-web +latest" "$BERTH" image ls
expect "a service with image: gets that name" 0 '^example/tool +1 ' "$BERTH" image ls
expect "the build's args reached RUN" 0 '^bonjour from the build$' "$BERTH" exec web cat /srv/www/index.html
expect "build.shm_size and build.ulimits reached RUN" 0 '^81920 3000$' "$BERTH" exec web cat /limits.txt
expect "a service's shm_size sizes its /dev/shm" 0 '^49152$' "$BERTH" exec tool-shm sh -c "df -k /dev/shm | tail -1 | awk '{print \$2}'"
expect "USER is the container's user" 0 '^1000$' "$BERTH" exec web id -u
expect "WORKDIR is its working directory" 0 '^/srv/www$' "$BERTH" exec web pwd
check "ENTRYPOINT and CMD run it" wait_until 10 sh -c "'$BERTH' logs web | grep -q started"
check "HEALTHCHECK makes it healthy" wait_until 15 sh -c "'$BERTH' ps | grep -q 'healthy'"
expect "build labels are the image's" 0 '"org.example.role": "frontend"' "$BERTH" image inspect "${proj}-web"
run "$BERTH" up -d
check "a second up builds nothing" sh -c "! grep -q 'exporting to image' '$WORK/err'"
expect "up --build builds again, from the cache" 0 'CACHED' "$BERTH" up -d --build
expect "berth build SERVICE builds it" 0 'naming to docker.io/example/tool:1' "$BERTH" build tool
run "$BERTH" build -q web
check "build -q prints nothing, on either stream" test "$RC" = 0 -a -z "$OUT" -a -z "$ERR"
expect "build --check reads the Dockerfiles without building" 0 'Check complete, no warnings found' "$BERTH" build --check
printf 'FROM busybox AS Base\nMAINTAINER me\nCMD echo hi\n' >"$WORK/lint.Dockerfile"
expect "image build --check names what BuildKit's checks find, and exits 1" 1 \
	'Dockerfile:3: JSONArgsRecommended: JSON arguments recommended for CMD' "$BERTH" image build --check -f "$WORK/lint.Dockerfile" .
check "(each of them)" sh -c "grep -q 'StageNameCasing' '$WORK/out' && grep -q 'MaintainerDeprecated' '$WORK/out' && grep -q 'Check complete, 3 warnings have been found' '$WORK/out'"
expect "up --build and --no-build cannot go together" 2 'cannot go together' "$BERTH" up --build --no-build
"$BERTH" down -t 0 >/dev/null 2>&1

# --- the other build: keys, as docker compose takes them ---
mkdir -p keys
echo compose-secret >"$WORK/compose-secret.txt"
cat >keys/Dockerfile <<'DF'
FROM busybox AS first
RUN echo first >/stage.txt
FROM busybox AS second
ARG FROM_CLI=unset
RUN --mount=type=secret,id=api_key wc -c </run/secrets/api_key >/secret-seen.txt && grep -c host-alias /etc/hosts >/hosts.txt && ls /sys/class/net | tr '\n' ' ' >/net.txt && echo "$FROM_CLI" >/cli.txt && cat /proc/sys/kernel/random/uuid >/stamp.txt
DF
cat >keys.yaml <<'YAML'
services:
  keyed:
    build:
      context: ./keys
      target: second
      tags: ["example/keyed:extra"]
      network: none
      extra_hosts: ["host-alias=10.1.2.3"]
      secrets: [api_key]
      platforms: ["linux/amd64"]
      no_cache: false
    image: example/keyed:1
  inline:
    build:
      context: .
      dockerfile_inline: |
        FROM busybox
        RUN echo inline >/inline.txt
    pull_policy: build
    command: cat /inline.txt
secrets:
  api_key:
    file: ./compose-secret.txt
YAML
cp "$WORK/compose-secret.txt" .
expect "build: target, tags, network, extra_hosts, secrets and platforms build" 0 'naming to docker.io/example/keyed:extra' \
	"$BERTH" -f keys.yaml build --build-arg FROM_CLI=given keyed
expect "... the target's stage, not the last" 0 '^absent$' in_image example/keyed:1 'test -e /stage.txt && echo present || echo absent'
expect "... with the secret, the extra host, no network and the --build-arg" 0 '^15 1 lo given$' \
	in_image example/keyed:extra 'echo $(cat /secret-seen.txt /hosts.txt /net.txt) $(cat /cli.txt)'
check "the secret's file is in no layer" sh -c "! (cd '$images/blobs/sha256' && for f in *; do (gzip -dc \$f 2>/dev/null || cat \$f); done | grep -qa compose-secret)"
stamp=$(in_image example/keyed:1 'cat /stamp.txt')
"$BERTH" -f keys.yaml build --no-cache --build-arg FROM_CLI=given keyed >/dev/null 2>&1
check "build --no-cache runs the steps again" test "$(in_image example/keyed:1 'cat /stamp.txt')" != "$stamp"
expect "dockerfile_inline builds" 0 'naming to' "$BERTH" -f keys.yaml -p inl build inline
expect "pull_policy: build builds at every up" 0 'exporting to image' "$BERTH" -f keys.yaml -p inl up -d inline
expect "... and its image runs" 0 'inline' "$BERTH" -f keys.yaml -p inl logs inline
run "$BERTH" -f keys.yaml -p inl up -d inline
check "... also the second time" grep -q 'exporting to image' "$WORK/err"
expect "run --build builds before running" 0 'inline' "$BERTH" -f keys.yaml -p inl run --rm --build -T inline
check "(it built)" grep -q 'exporting to image' "$WORK/err"
"$BERTH" -f keys.yaml -p inl down -t 0 >/dev/null 2>&1
printf 'services:\n  p:\n    build:\n      context: ./keys\n      platforms: ["linux/s390x"]\n' >plat.yaml
expect "build.platforms other than this machine's is refused with its line" 1 'plat.yaml:5:[0-9]+: service p: build.platforms: berth builds for this machine' \
	"$BERTH" -f plat.yaml build

# deletions in a layer are whiteouts, and stay so through a registry
mkdir -p wh
printf 'FROM busybox\nRUN rm /etc/group && rm -rf /home && mkdir -p /home/fresh\n' >wh/Dockerfile
expect "a build that deletes files" 0 'naming to' "$BERTH" image build -t wh wh
expect "a deleted file is gone in the image, a replaced directory holds only its new content" 0 '^no-group fresh$' \
	in_image wh 'echo $(test -e /etc/group || echo no-group) $(ls /home)'
blob=$(find "$images/blobs/sha256" -newer wh/Dockerfile -type f | while read -r f; do gzip -dc "$f" 2>/dev/null | tar -t 2>/dev/null | grep -q '\.wh\.' && echo "$f"; done | head -1)
check "its layer has the .wh. files Docker writes" sh -c "gzip -dc '$blob' | tar -t | grep -qx 'etc/.wh.group' && gzip -dc '$blob' | tar -t | grep -qx 'home/.wh..wh..opq'"

# --- failures a user can meet ---
mkdir -p bad
printf 'FROM busybox\nRUN echo one\nRUN echo going; echo to stderr >&2; exit 3\nRUN echo never\n' >bad/Dockerfile
expect "a failing RUN names its line and its exit code" 1 \
	'Dockerfile:3: RUN: process "/bin/sh -c echo going; echo to stderr >&2; exit 3" did not complete successfully: exit code: 3' \
	"$BERTH" image build bad
check "its output was shown" grep -q 'to stderr' "$WORK/err"
check "the Dockerfile around the failing line was shown" grep -q '^   3 | >>> RUN echo going' "$WORK/err"
expect "with -q the error carries the step's last output" 1 'exit code: 3; its last output:' "$BERTH" image build -q bad
check "(the output itself)" grep -q '^to stderr$' "$WORK/err"
check "the steps after it did not run" sh -c "! grep -q 'echo never' '$WORK/err'"
printf 'FROM busybox\nFROBNICATE now\n' >bad/Dockerfile
expect "an unknown instruction is refused with its line" 1 'Dockerfile:2: unknown instruction FROBNICATE' "$BERTH" image build bad
printf 'FROM busybox\nCOPY missing.txt /x\n' >bad/Dockerfile
expect "a missing COPY source is named" 1 'Dockerfile:2: COPY: "missing.txt": not found in the build context' "$BERTH" image build bad
printf 'FROM busybox\nCOPY --frob=1 a /x\n' >bad/Dockerfile
expect "an unknown flag is refused" 1 'Dockerfile:2: COPY: unknown flag --frob' "$BERTH" image build bad
echo a >bad/a && echo b >bad/b
printf 'FROM busybox\nCOPY a b /dest\n' >bad/Dockerfile
expect "several sources to a destination that is no directory are refused" 1 'destination must be a directory and end with a /' "$BERTH" image build bad
for flag in '--security=bogus:use sandbox or insecure' '--network=bogus:use default, none or host' \
	'--mount=type=ssh:type=ssh is not supported by berth' '--mount=type=cache:type=cache needs a target' \
	'--mount=type=bind,target=/m,colour=blue:unknown or empty field "colour"'; do
	printf 'FROM busybox\nRUN %s true\n' "${flag%%:*}" >bad/Dockerfile
	expect "RUN ${flag%%:*} is refused, saying why" 1 "Dockerfile:2: RUN: .*${flag#*:}" "$BERTH" image build bad
done
printf 'FROM busybox\n' >bad/Dockerfile
expect "--ulimit takes NAME=SOFT[:HARD]" 1 'ulimit nofile: give NAME=SOFT' "$BERTH" image build --ulimit nofile bad
printf 'FROM busybox\nRUN true\n' >bad/Dockerfile
expect "a soft limit above the hard one is refused" 1 'ulimit nofile=9:1: give NAME=SOFT\[:HARD\], soft not above hard' "$BERTH" image build --no-cache --ulimit nofile=9:1 bad
expect "--shm-size takes a size" 2 'shm-size takes a size' "$BERTH" image build --shm-size lots bad
expect "--build-context takes NAME=VALUE" 2 'build-context takes NAME=DIR' "$BERTH" image build --build-context nothing bad
expect "builder takes prune only" 2 'the only builder command is: prune' "$BERTH" builder rebuild
printf 'services:\n  s:\n    build:\n      context: ./bad\n      additional_contexts: {more: ./nowhere}\n' >ac.yaml
expect "an additional context that is no directory is named" 1 'ac.yaml:5:[0-9]+: service s: build.additional_contexts: .*/nowhere is not a directory' "$BERTH" -f ac.yaml build
printf 'services:\n  s:\n    build:\n      context: ./bad\n      additional_contexts: {src: "https://example.invalid/x.git"}\n' >ac.yaml
expect "an additional context from git is refused" 1 'berth takes directories, docker-image:// and service: contexts only' "$BERTH" -f ac.yaml build
printf 'FROM nosuchimage:1\n' >bad/Dockerfile
expect "a base image that cannot be had fails, naming it" 1 'Dockerfile:1: FROM: base image nosuchimage:1' "$BERTH" image build bad
rm bad/Dockerfile
expect "a missing Dockerfile is named" 1 'cannot read the Dockerfile: .*bad/Dockerfile' "$BERTH" image build bad
printf 'services:\n  s:\n    build:\n      context: .\n      ssh: [default]\n' >ssh.yaml
expect "build.ssh is refused with the file and line" 1 'ssh.yaml:5:[0-9]+: services.s.build.ssh is not supported by berth' \
	"$BERTH" -f ssh.yaml build
printf 'services:\n  s:\n    build:\n      context: .\n      cache_from: ["type=local,src=/tmp/cache"]\n' >cf.yaml
printf 'FROM busybox\n' >Dockerfile
expect "build.cache_from of another kind than an image warns that it has no effect" 0 \
	'cf.yaml:5: service s: build.cache_from has no effect: berth takes its cache from images only' "$BERTH" -f cf.yaml build
printf 'services:\n  s:\n    build:\n      context: .\n      frobnicate: yes\n' >unknown.yaml
expect "an unknown build key is refused with its line" 1 'unknown.yaml:5:[0-9]+: ' "$BERTH" -f unknown.yaml build
check "no build container is left after the failures" sh -c "[ -z \"\$(ls -A '$BERTH_ROOT/containers' 2>/dev/null)\" ]"

# --- a build killed with kill -9 leaves nothing behind ---
mkdir -p slow
printf 'FROM busybox\nRUN echo started; sleep 60\n' >slow/Dockerfile
"$BERTH" image build --no-cache slow >"$WORK/slow.log" 2>&1 &
pid=$!
wait_until 20 grep -q started "$WORK/slow.log"
check "the RUN container is there while it runs" sh -c "ls '$BERTH_ROOT/containers' | grep -q ^build-$pid-"
kill -9 $pid
wait $pid 2>/dev/null
check "after kill -9 the RUN container goes" wait_until 20 sh -c "[ -z \"\$(ls -A '$BERTH_ROOT/containers')\" ]"
check "... and the build's scratch space" wait_until 10 sh -c "[ ! -e '$BERTH_ROOT/build/$pid' ]"
check "... and its network" wait_until 10 sh -c "[ ! -e '$BERTH_ROOT/net/networks/berth-build.json' ]"

# --- push to a registry, and pull back the same image ---
if command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
	REG=$(free_port)
	mkdir -p "$WORK/registry"
	printf 'version: 0.1\nlog: {level: info}\nstorage:\n  filesystem: {rootdirectory: %s}\nhttp:\n  addr: 127.0.0.1:%s\n' \
		"$WORK/registry" "$REG" >"$WORK/registry.yml"
	docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
	cleanup_hooks+=("kill $! 2>/dev/null")
	wait_until 10 curl -sf -o /dev/null "http://127.0.0.1:$REG/v2/" || not_ok "the registry starts"
	built=$("$BERTH" image build -q -t "127.0.0.1:$REG/team/vars:1" vars)
	expect "image push uploads every layer and the manifest" 0 '^1: digest: sha256:[0-9a-f]{64} size: [0-9]+$' \
		"$BERTH" image push "127.0.0.1:$REG/team/vars:1"
	pushed=$(sed -n 's/^1: digest: \(sha256:[0-9a-f]*\) .*/\1/p' <<<"$OUT")
	expect "a second push finds every layer there" 0 'Layer already exists' "$BERTH" image push "127.0.0.1:$REG/team/vars:1"
	check "skopeo, another client, reads what berth pushed" \
		sh -c "skopeo inspect --tls-verify=false docker://127.0.0.1:$REG/team/vars:1 | grep -q '\"Digest\": \"$pushed\"'"
	"$BERTH" image rm "127.0.0.1:$REG/team/vars:1" >/dev/null
	expect "pulling it back works" 0 'Downloaded newer image|Image is up to date' "$BERTH" image pull "127.0.0.1:$REG/team/vars:1"
	check "... and gives the very same image (same id)" \
		test "$("$BERTH" image inspect "127.0.0.1:$REG/team/vars:1" | sed -n 's/.*"Id": "\(sha256:[0-9a-f]*\)".*/\1/p' | head -1)" = "$built"
	expect "the pulled image runs as built" 0 '^heredoc one 1.0$' in_image "127.0.0.1:$REG/team/vars:1" 'head -1 /here1.txt'
	"$BERTH" image build -q -t "127.0.0.1:$REG/team/wh:1" wh >/dev/null
	"$BERTH" image push -q "127.0.0.1:$REG/team/wh:1" >/dev/null
	"$BERTH" image rm "127.0.0.1:$REG/team/wh:1" wh >/dev/null 2>&1
	"$BERTH" image pull -q "127.0.0.1:$REG/team/wh:1" >/dev/null
	expect "whiteouts survive a push and a pull" 0 '^no-group fresh$' \
		in_image "127.0.0.1:$REG/team/wh:1" 'echo $(test -e /etc/group || echo no-group) $(ls /home)'
	# --pull takes the registry's base image, not the store's
	"$REPO/examples/images/build-image.sh" -t base:old --add "$WORK/token.txt:/marker" "$WORK/old.tar" >/dev/null
	"$REPO/examples/images/build-image.sh" -t base:new --add "$WORK/compose-secret.txt:/marker" "$WORK/new.tar" >/dev/null
	skopeo copy -q --dest-tls-verify=false "docker-archive:$WORK/old.tar" "docker://127.0.0.1:$REG/team/base:1" >/dev/null
	mkdir -p pulls && printf 'FROM 127.0.0.1:%s/team/base:1\nRUN cat /marker >/seen.txt\n' "$REG" >pulls/Dockerfile
	"$BERTH" image build -q -t pulls pulls >/dev/null
	skopeo copy -q --dest-tls-verify=false "docker-archive:$WORK/new.tar" "docker://127.0.0.1:$REG/team/base:1" >/dev/null
	"$BERTH" image build -q -t pulls pulls >/dev/null
	expect "without --pull, the base image is the one the store has" 0 's3cr3t-value' in_image pulls 'cat /seen.txt'
	"$BERTH" image build -q --pull -t pulls pulls >/dev/null
	expect "with --pull, it is the registry's" 0 'compose-secret' in_image pulls 'cat /seen.txt'
	printf 'services:\n  app:\n    build: ./vars\n    image: 127.0.0.1:%s/team/app:2\n  local:\n    image: busybox\n' "$REG" >push.yaml
	"$BERTH" -f push.yaml build -q app
	expect "push SERVICE pushes the service's image" 0 '2: digest: sha256:' "$BERTH" -f push.yaml push app
	expect "push of an image that is not there fails, naming it" 1 'push 127.0.0.1:[0-9]+/team/none:1: no such image' \
		"$BERTH" image push "127.0.0.1:$REG/team/none:1"
else
	not_ok "docker-registry and skopeo are installed (make deps installs them)"
fi

# --- as an attacker: a hostile context, base image or archive, and RUN itself ---
mkdir -p evil/dir
echo host-only-secret >"$WORK/host-secret.txt"
ln -s "$WORK/host-secret.txt" evil/abs-link
ln -s ../../../../../../../../../.. evil/up-link
ln -s "$WORK/host-secret.txt" evil/dir/inner-link
echo fine >evil/file.txt
hostdir=$WORK/escape-target
printf 'FROM busybox\nCOPY abs-link /x\n' >evil/Dockerfile
expect "COPY of a context symlink to a host file finds nothing (it resolves inside the context)" 1 \
	'"abs-link": not found in the build context' "$BERTH" image build evil
printf 'FROM busybox\nCOPY up-link/%s /x\n' "${WORK#/}/host-secret.txt" >evil/Dockerfile
expect "COPY through a symlink climbing out of the context finds nothing" 1 'not found in the build context' \
	"$BERTH" image build evil
printf 'FROM busybox\nRUN --mount=type=bind,source=up-link,target=/m ls /m >/ls.txt\n' >evil/Dockerfile
expect "a bind mount of such a symlink gets the context's root, not the host's" 0 'naming to' "$BERTH" image build -t evil-bind evil
expect "... whose files are the context's" 0 'Dockerfile' in_image evil-bind 'cat /ls.txt'
check "... and not the host's" sh -c "! '$BERTH' -f '$WORK/probe.yaml' -p '${proj}probe' run --rm -T probe 'cat /ls.txt' | grep -qx etc"
printf 'FROM busybox\nRUN --mount=type=bind,source=../../../../../../etc,target=/m ls /m >/ls-up.txt\n' >evil/Dockerfile
expect "a bind source that climbs with .. stays in the context (there is no etc there)" 1 'source ../../../../../../etc is not in the build context' \
	"$BERTH" image build evil
# from= an image or a stage: the source resolves in that image's (or
# stage's) own root, .. and symlinks included; the host's files stay out.
printf 'FROM busybox\nRUN --mount=type=bind,from=busybox,source=../../../../../../../../etc,target=/x ls /x >/ls.txt\n' >evil/Dockerfile
expect "a bind from an image climbing with .. builds" 0 'naming to' "$BERTH" image build -t evil-from evil
expect "... and lists the image's /etc, not the host's (no shadow, no hostname)" 0 '^group passwd $' \
	in_image evil-from 'tr "\n" " " </ls.txt'
cat >evil/Dockerfile <<DF
FROM busybox AS stage
RUN mkdir /out && ln -s /etc /out/abs && ln -s ../../../../../../../../.. /out/up && ln -s $WORK /out/host
FROM busybox
RUN --mount=type=bind,from=stage,source=/out/abs,target=/a --mount=type=bind,from=stage,source=/out/up/etc,target=/u \\
    ls /a /u >/ls.txt
DF
expect "binds through a stage's symlinks build" 0 'naming to' "$BERTH" image build -t evil-stage evil
expect "... each resolved in the stage (its /etc), not on the host" 0 '^/a: group passwd /u: group passwd $' \
	in_image evil-stage 'grep -v "^\$" /ls.txt | tr "\n" " "'
sed -i 's|^RUN --mount=type=bind,from=stage,source=/out/abs.*|RUN --mount=type=bind,from=stage,source=/out/host,target=/h cat /h/host-secret.txt|; /^    ls/d' evil/Dockerfile
expect "a stage's symlink to a host directory leads nowhere" 1 "source /out/host is not in stage" "$BERTH" image build evil
printf 'FROM busybox\nRUN --mount=type=bind,from=busybox,source=/%s,target=/h cat /h/host-secret.txt\n' "${WORK#/}" >evil/Dockerfile
expect "a host path through an image's bind is not there" 1 "source /${WORK#/} is not in busybox" "$BERTH" image build evil
# .dockerignore leaves a file out of the context: a symlink to it (or to
# an ignored directory) dangles, as in BuildKit's filtered context.
mkdir -p ignored/private && cd ignored || exit 1
echo TOPSECRET >secret.env && echo key >private/key && echo fine >ok.txt
printf 'secret.env\nprivate\n' >.dockerignore
ln -sf secret.env link && ln -sf private dirlink && ln -sf ok.txt oklink
cd ..
printf 'FROM busybox\nCOPY link /x\n' >ignored/Dockerfile
expect "COPY of a symlink to an ignored file finds nothing" 1 '"link": not found' "$BERTH" image build ignored
printf 'FROM busybox\nCOPY dirlink/key /x\n' >ignored/Dockerfile
expect "nor through a symlink to an ignored directory" 1 'not found' "$BERTH" image build ignored
printf 'FROM busybox\nCOPY oklink /x\n' >ignored/Dockerfile
expect "a symlink to a file that is not ignored is copied from" 0 'naming to' "$BERTH" image build -t ign-ok ignored
expect "... its content" 0 '^fine$' in_image ign-ok 'cat /x'
check "no layer holds the ignored file's content" sh -c "! (cd '$images/blobs/sha256' && for f in *; do (gzip -dc \$f 2>/dev/null || cat \$f); done | grep -qa TOPSECRET)"
printf 'FROM busybox\nCOPY dir/ /d/\n' >evil/Dockerfile
expect "a symlink inside a copied directory is copied as a symlink" 0 'naming to' "$BERTH" image build -t evil-inner evil
expect "... which in a container does not reach the host's file" 0 '^link no-host-data$' \
	in_image evil-inner 'test -L /d/inner-link && echo link $(cat /d/inner-link 2>/dev/null || echo no-host-data)'
cat >evil/Dockerfile <<DF
FROM busybox
RUN ln -s $hostdir /abs-evil && ln -s ../../../../../../../..$hostdir /rel-evil
COPY file.txt /abs-evil/pwned
COPY file.txt /rel-evil/pwned2
WORKDIR /abs-evil/made-by-workdir
DF
expect "COPY into an image's symlinks to host paths builds" 0 'naming to' "$BERTH" image build -t evil-dest evil
check "nothing was written on the host through them" sh -c "[ ! -e '$hostdir' ]"
expect "the files went into the image, where the links point inside it" 0 '^fine fine dir$' \
	in_image evil-dest "echo \$(cat $hostdir/pwned $hostdir/pwned2) \$(test -d $hostdir/made-by-workdir && echo dir)"
mkdir -p "$WORK/tarsrc/in" && echo out >"$WORK/tarsrc/escaped.txt"
(cd "$WORK/tarsrc/in" && tar -P -cf "$WORK/app/evil/dotdot.tar" ../escaped.txt)
printf 'FROM busybox\nADD dotdot.tar /x/\n' >evil/Dockerfile
expect "ADD of an archive with a .. member is refused" 1 'ADD dotdot.tar: cannot extract it' "$BERTH" image build evil
check "nothing landed beside the target" sh -c "[ ! -e '$BERTH_ROOT/escaped.txt' ] && ! find '$BERTH_ROOT' -name escaped.txt | grep -q ."
cat >evil/Dockerfile <<'DF'
FROM busybox
RUN grep CapEff /proc/self/status >/caps.txt; mount -t tmpfs none /mnt 2>/dev/null && echo mounted >/mount.txt; ls /proc | grep -c '^[0-9]' >/procs.txt; cp /bin/busybox /suid && chmod 4755 /suid
RUN mknod /tmp/mem c 1 1 && (head -c 1 /tmp/mem >/dev/null 2>&1 && echo read >/mem.txt || echo denied >/mem.txt); mknod /tmp/null2 c 1 3 && echo fine >/tmp/null2 && echo null-ok >/null.txt; rm -f /tmp/mem /tmp/null2
DF
expect "RUN runs, as an attacker would write it" 0 'naming to' "$BERTH" image build -t evil-run evil
expect "RUN has Docker's default capabilities, no more" 0 '^CapEff:.00000000a80425fb$' in_image evil-run 'cat /caps.txt'
expect "RUN cannot mount" 0 '^no mount$' in_image evil-run 'test -e /mount.txt || echo no mount'
expect "RUN sees only its own processes" 0 '^[1-3]$' in_image evil-run 'cat /procs.txt'
expect "RUN may make device nodes but not open the host's memory through one (Docker's device rules)" 0 '^denied null-ok$' \
	in_image evil-run 'echo $(cat /mem.txt /null.txt)'
printf 'FROM busybox\nRUN --security=insecure grep CapEff /proc/self/status >/caps.txt\n' >evil/Dockerfile
expect "RUN --security=insecure is refused unless the build allows it" 1 'security=insecure: the build does not allow it' \
	"$BERTH" image build evil
expect "... and allowed, it runs with every capability" 0 'naming to' "$BERTH" image build --allow security.insecure -t evil-insecure evil
expect "... (all that berth itself has)" 0 "^CapEff:.$(awk '/CapBnd/ {print $2}' /proc/self/status)\$" \
	in_image evil-insecure 'cat /caps.txt'
# RUN --network=host reaches the host's loopback services and has raw
# sockets in its network namespace: only where the build grants it, as
# BuildKit's network.host entitlement.
printf 'FROM busybox\nRUN --network=host ls /sys/class/net >/net.txt\n' >evil/Dockerfile
expect "RUN --network=host is refused unless the build allows it, naming the entitlement" 1 \
	'network=host: the build does not allow it \(grant the network.host entitlement' "$BERTH" image build evil
expect "... image build --allow network.host grants it" 0 'naming to' "$BERTH" image build --allow network.host -t evil-nethost evil
printf 'services:\n  plain: {build: ./evil, image: evil-plain}\n  ent: {build: {context: ./evil, entitlements: [network.host]}, image: evil-ent}\n  net: {build: {context: ./evil, network: host}, image: evil-net}\n' >nethost.yaml
expect "... a compose build without it is refused" 1 'network.host' "$BERTH" -f nethost.yaml build --no-cache plain
expect "... build.entitlements: [network.host] grants it" 0 '' "$BERTH" -f nethost.yaml build --no-cache ent
expect "... and so does build.network: host" 0 '' "$BERTH" -f nethost.yaml build --no-cache net
other() { setpriv --reuid=4242 --regid=4242 --clear-groups "$@"; }
chmod 755 "$WORK"
check "the build directory under the state root is 0700" test "$(stat -c %a "$BERTH_ROOT/build")" = 700
suid=$(find "$images/layers" -name suid -perm -4000 | head -1)
check "the setuid file a RUN made is in its layer" test -n "$suid"
expect "another host user cannot run it" 126 'Permission denied' other sh -c "exec '$suid' id"
expect "another host user cannot build (nor read the store)" 1 'Permission denied' other "$BERTH" image build evil
check "... and made nothing" sh -c "[ -z \"\$(find '$BERTH_ROOT' -user 4242)\" ]"
chmod 700 "$WORK"

# --- Ctrl-C (SIGINT) in the middle of a step: the same ---
"$BERTH" image build --no-cache slow >"$WORK/slow.log" 2>&1 &
pid=$!
wait_until 20 grep -q started "$WORK/slow.log"
kill -INT $pid
wait $pid 2>/dev/null
check "after SIGINT the RUN container goes" wait_until 20 sh -c "[ -z \"\$(ls -A '$BERTH_ROOT/containers')\" ]"
check "... and the build's scratch space" wait_until 10 sh -c "[ ! -e '$BERTH_ROOT/build/$pid' ]"

# --- builder prune ---
vars_id=$("$BERTH" image build -q -t vars vars)
expect "builder prune frees the cache" 0 'Total reclaimed space' "$BERTH" builder prune -f
expect "--cache-from an image built here takes its steps up again" 0 'importing cache from vars' \
	"$BERTH" image build --cache-from vars -t vars-again vars
check "... every step is CACHED" sh -c "[ \$(grep -c ' CACHED\$' '$WORK/err') -ge 5 ] && ! grep -Eq '^#[0-9]+ [0-9]+\.[0-9]+ ' '$WORK/err'"
check "... and the image is the same" test "$("$BERTH" image build -q -t vars-again vars)" = "$vars_id"
expect "a cache_from image that is not here is said, and the build goes on" 0 'WARN: no local image nothere' \
	"$BERTH" image build --cache-from nothere -t vars vars
"$BERTH" builder prune -f >/dev/null
run "$BERTH" image build -t vars vars
check "after a prune, steps run again" sh -c "! grep -q CACHED '$WORK/err' && grep -q 'exporting to image' '$WORK/err'"
in_image vars true >/dev/null 2>&1

"$BERTH" -f "$WORK/probe.yaml" -p "${proj}probe" down -t 0 >/dev/null 2>&1
check_no_leaks "after the builds"
