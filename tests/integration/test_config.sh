#!/bin/bash
# berth config as a user runs it: discovery, flags, output forms, errors.
. "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/app/sub"
cat >"$WORK/app/compose.yaml" <<'YAML'
name: shop
services:
  web:
    image: "nginx:${TAG:-1.25}"
    ports: ["8080:80"]
    depends_on: [api]
    profiles: []
  api:
    build: ./api
    environment:
      - MODE
    volumes: ["data:/data"]
  debug:
    image: busybox
    profiles: [debug]
volumes:
  data: {}
YAML
cd "$WORK/app/sub"

expect "config finds compose.yaml in a parent directory" 0 'name: shop' "$BERTH" config
expect "config interpolates from the environment" 0 'image: nginx:1.27' env TAG=1.27 "$BERTH" config
expect "--no-interpolate keeps the variables" 0 'image: nginx:\$\{TAG:-1.25\}' "$BERTH" config --no-interpolate
expect_quiet "config -q prints nothing" 0 "$BERTH" config -q
expect "--services lists enabled services in dependency order" 0 $'^api\nweb$' "$BERTH" config --services
expect "--profile enables a profile" 0 'debug' "$BERTH" --profile debug config --services
expect "--profiles lists profiles" 0 '^debug$' "$BERTH" config --profiles
expect "--volumes lists volumes" 0 '^data$' "$BERTH" config --volumes
expect "--images names build-only services project-service" 0 $'shop-api\nnginx:1.25' "$BERTH" config --images
expect "--format json" 0 '"published": "8080"' "$BERTH" config --format json
expect "--hash prints a sha256 per service" 0 '^web [0-9a-f]{64}$' "$BERTH" config --hash web
run "$BERTH" config --hash '*'
check "--hash '*' covers every service" test "$(printf '%s\n' "$OUT" | wc -l)" -eq 2
expect_quiet "-o writes a file, not stdout" 0 "$BERTH" config -o "$WORK/out.yaml"
check "-o file holds the model" grep -q 'name: shop' "$WORK/out.yaml"
expect "-p overrides the name" 0 'name: other' "$BERTH" -p other config
expect "COMPOSE_PROJECT_NAME overrides name:" 0 'name: fromenv' env COMPOSE_PROJECT_NAME=fromenv "$BERTH" config
expect "-f - reads standard input" 0 'image: from-stdin' sh -c "printf 'services:\n  s:\n    image: from-stdin\n' | '$BERTH' -f - config"
expect "a named service turns on its profile" 0 'image: busybox' "$BERTH" config debug

# output written by config loads again and gives the same model
"$BERTH" config >"$WORK/round.yaml"
run "$BERTH" -f "$WORK/round.yaml" --project-directory "$WORK/app" config
check "config output reads back to the same model" diff <(printf '%s\n' "$OUT") "$WORK/round.yaml"

# errors a user can hit
cd "$WORK"
mkdir -p bad && cd bad
printf 'services:\n  web:\n    image: nginx\n    prots: ["80"]\n' >compose.yaml
expect "an unknown key names file, line and a near miss" 1 'compose.yaml:4:5: services.web: unknown key "prots"; did you mean "ports"\?' "$BERTH" config
printf 'services:\n  web:\n    image: [nginx\n' >compose.yaml
expect "bad YAML names the file and line" 1 'compose.yaml:[0-9]+:[0-9]+: invalid YAML' "$BERTH" config
printf 'services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [a]}\n' >compose.yaml
expect "a dependency cycle is named in full" 1 'dependency cycle: a -> b -> a' "$BERTH" config
printf 'services:\n  a: {image: "${NEED:?set NEED}"}\n' >compose.yaml
expect "a required variable explains itself" 1 'required variable NEED is missing a value: set NEED' "$BERTH" config
printf 'services:\x80\x81\x00binary' >compose.yaml
expect "invalid UTF-8 and NUL bytes are a clean error" 1 'compose.yaml:1:10: invalid YAML' "$BERTH" config
head -c 4096 /dev/urandom >compose.yaml
expect "random bytes are a clean error" 1 'compose.yaml' "$BERTH" config
rm compose.yaml
expect "no compose file says what it looked for" 1 'no compose file found' "$BERTH" config
expect "an unknown command is a usage error" 2 'unknown command "confgi" \(did you mean "config"\?\)' "$BERTH" confgi
expect "an unknown flag is a usage error" 2 'unknown flag: --servics \(did you mean --services\?\)' "$BERTH" config --servics
expect "an invalid project name is refused" 1 'invalid project name "Bad!"' "$BERTH" -p 'Bad!' -f "$WORK/app/compose.yaml" config
expect "berth --help lists commands" 0 'config' "$BERTH" --help
expect "berth config --help shows flags" 0 '--no-interpolate' "$BERTH" config --help
expect "berth version" 0 '^berth version [0-9]' "$BERTH" version
