#!/bin/bash
# berth convert: the project as Kubernetes objects, one file per object,
# named as docker compose bridge names them; what has no mapping is said.
# Every object written is validated against the Kubernetes API schema
# (kubernetes-models, installed by make deps into tests/k8s), offline.
. "$(dirname "$0")/lib.sh"
export COMPOSE_PROJECT_NAME=berthconv$$
proj=$COMPOSE_PROJECT_NAME
mkdir -p "$WORK/app" && cd "$WORK/app" || exit 1
cat >compose.yaml <<'YAML'
services:
  web:
    image: nginx:1.25
    ports: ["8080:80"]
    environment: {A: "1", B: two}
    command: ["nginx", "-g", "daemon off;"]
    healthcheck: {test: ["CMD-SHELL", "wget -q -O- http://localhost/"], interval: 30s, timeout: 5s, retries: 3, start_period: 10s}
    volumes: ["data:/usr/share/nginx/html:ro", "./conf:/etc/nginx/conf.d"]
    secrets: [pw]
    configs: [{source: cfg, target: /etc/app.conf}]
    networks: [front, back]
    deploy: {resources: {limits: {cpus: "0.5", memory: 256M}}}
    user: "1000:1000"
    cap_drop: [ALL]
    read_only: true
    devices: ["/dev/null:/dev/null2"]
  db:
    image: postgres:16
    expose: ["5432"]
    networks: [back]
    init: true
    stop_grace_period: 20s
  migrate:
    image: busybox
    restart: "no"
    command: echo migrate
networks:
  front: {}
  back: {internal: true}
volumes:
  data: {x-kubernetes: {size: 1Gi}}
secrets:
  pw: {environment: PW}
configs:
  cfg: {content: "hello config"}
YAML
export PW=s3cret
expect "convert writes the objects" 0 'Kubernetes resource web-deployment.yaml created' "$BERTH" convert -o out
check "one file per object, named as docker compose bridge names them" test "$(ls out | LC_ALL=C sort | tr '\n' ' ')" = \
	"0-$proj-namespace.yaml back-network-policy.yaml $proj-configs.yaml db-deployment.yaml db-expose.yaml default-network-policy.yaml front-network-policy.yaml migrate-job.yaml pw-secret.yaml web-data-persistentVolumeClaim.yaml web-deployment.yaml web-expose.yaml web-published-network-policy.yaml web-service.yaml "
check "a key with no mapping is named on stderr" grep -qx 'ignored: services.web.devices' "$WORK/err"
check "... and a bind mount, with what would carry it" grep -q 'ignored: services.web.volumes: bind mount .*/conf at /etc/nginx/conf.d' "$WORK/err"
d=out/web-deployment.yaml
check "a service is a Deployment in the project's namespace" sh -c "grep -qx 'kind: Deployment' $d && grep -qx '    namespace: $proj' $d"
check "... written as docker compose bridge writes it (its header, yaml.v3's four-space layout)" sh -c "head -2 $d | tr '\n' ' ' | grep -qx '#! web-deployment.yaml # Generated code, do not edit ' && grep -qx '                - name: web' $d"
check "... with its image, command as args, environment" sh -c "grep -q 'image: nginx:1.25' $d && grep -A3 '  args:' $d | grep -q 'daemon off;' && grep -A1 -- '- name: B' $d | grep -q 'value: \"two\"'"
check "... its user, read_only and cap_drop as the securityContext" sh -c "grep -q 'runAsUser: 1000' $d && grep -q 'runAsGroup: 1000' $d && grep -q 'readOnlyRootFilesystem: true' $d && grep -A2 'drop:' $d | grep -q -- '- ALL'"
check "... its limits" sh -c "grep -q 'cpu: \"0.5\"' $d && grep -q 'memory: \"268435456\"' $d"
check "... its healthcheck as probes" sh -c "grep -q 'livenessProbe:' $d && grep -q 'readinessProbe:' $d && grep -q 'periodSeconds: 30' $d && grep -q 'initialDelaySeconds: 10' $d && grep -q 'failureThreshold: 3' $d"
check "... its named volume as a claim, its secret and config mounted at their targets" sh -c "grep -q 'claimName: web-data' $d && grep -q 'mountPath: /run/secrets/pw' $d && grep -q 'mountPath: /etc/app.conf' $d"
check "... on the labels of its networks" sh -c "grep -q 'com.docker.compose.network.front: \"true\"' $d && grep -q 'com.docker.compose.network.back: \"true\"' $d"
check "the claim takes the size x-kubernetes gives" grep -q 'storage: 1Gi' out/web-data-persistentVolumeClaim.yaml
check "published ports are a Service NAME-published" sh -c "grep -q 'name: web-published' out/web-service.yaml && grep -q 'port: 8080' out/web-service.yaml && grep -q 'targetPort: web-80' out/web-service.yaml"
check "exposed ports a Service of the service's name (its DNS name)" sh -c "grep -q '^    name: db$' out/db-expose.yaml && grep -q 'port: 5432' out/db-expose.yaml"
check "published ports are open to anyone past the networks' policies" sh -c "grep -q 'com.docker.compose.service: web' out/web-published-network-policy.yaml && grep -A2 -- '- ports:' out/web-published-network-policy.yaml | grep -q 'port: 80'"
check "init and stop_grace_period" sh -c "grep -q 'shareProcessNamespace: true' out/db-deployment.yaml && grep -q 'terminationGracePeriodSeconds: 20' out/db-deployment.yaml"
check "a service that runs once (restart: no) is a Job" sh -c "grep -qx 'kind: Job' out/migrate-job.yaml && grep -q 'restartPolicy: Never' out/migrate-job.yaml"
check "each network a NetworkPolicy of its pods" sh -c "grep -q 'com.docker.compose.network.front: \"true\"' out/front-network-policy.yaml && grep -A1 'ingress:' out/front-network-policy.yaml | grep -q -- '- from:'"
check "... an internal one without a way out (only to its pods, and DNS)" sh -c "grep -qx '        - Egress' out/back-network-policy.yaml && grep -A4 'egress:' out/back-network-policy.yaml | grep -q 'com.docker.compose.network.back' && ! grep -q -- '- {}' out/back-network-policy.yaml"
check "... and front, which web reaches out by, opens its way out again" grep -qx -- '        - {}' out/front-network-policy.yaml
check "... a network none of whose pods is on an internal one is ingress only, as bridge writes it" sh -c "! grep -q Egress out/default-network-policy.yaml"
check "secrets are Secrets (base64), configs a ConfigMap" sh -c "grep -q 'pw: czNjcmV0' out/pw-secret.yaml && grep -q 'cfg: hello config' out/$proj-configs.yaml"
"$BERTH" convert -o out2 >/dev/null 2>&1
check "the same input gives the same bytes" diff -r out out2
check "the files are their owner's only (a Secret's data, passwords in environments)" sh -c "test \"\$(stat -c %a out/pw-secret.yaml out/web-deployment.yaml | sort -u)\" = 600"
if id nobody >/dev/null 2>&1; then
	chmod 755 "$WORK" "$WORK/app" "$WORK/app/out"
	echo readable >out/control && chmod 644 out/control
	check "... another user cannot read the secret (but reads a file left readable beside it)" sh -c "setpriv --reuid=nobody --regid=nogroup --clear-groups cat out/control >/dev/null && ! setpriv --reuid=nobody --regid=nogroup --clear-groups cat out/pw-secret.yaml >/dev/null 2>&1"
	rm -f out/control
fi
echo keep >"$WORK/victim"
mkdir -p out9 && ln -s "$WORK/victim" out9/web-deployment.yaml
"$BERTH" convert -o out9 >/dev/null 2>&1
check "a file in the way that is a symlink is replaced, not written through" sh -c "test \"\$(cat '$WORK/victim')\" = keep && test -f out9/web-deployment.yaml && ! test -L out9/web-deployment.yaml"
# Another user owns the directory convert writes into: they plant, at every
# temporary name berth's pid could give, a symlink to a file of root's.
# The temporary files are made new (O_EXCL) under names they cannot guess.
if id nobody >/dev/null 2>&1; then
	mkdir -p shared && chown nobody shared && chmod 755 shared
	echo keep >"$WORK/victim2"
	# one process plants them all, so that berth's pid comes right after
	setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 -c "
import os
last = int(open('/proc/sys/kernel/ns_last_pid').read())
for pid in range(last, last + 300):
    os.symlink('$WORK/victim2', 'shared/web-deployment.yaml.tmp.%d' % pid)"
	check "... the attacker's links are there" test "$(find shared -type l | wc -l)" -eq 300
	"$BERTH" convert -o shared >/dev/null 2>&1
	check "convert into another user's directory writes through none of their symlinks" sh -c \
		"test \"\$(cat '$WORK/victim2')\" = keep && test -f shared/web-deployment.yaml && ! test -L shared/web-deployment.yaml"
fi
expect "--strict makes an unmapped key an error" 1 'services.web.devices has no Kubernetes mapping' "$BERTH" convert --strict -o out3
expect "--allow-hostpath makes a bind mount a hostPath" 0 '' "$BERTH" convert --allow-hostpath -o out4
check "... there" grep -q "path: $WORK/app/conf" out4/web-deployment.yaml
expect "SERVICE… converts only those" 0 '' "$BERTH" convert -o out5 db
check "... and no other's objects" sh -c "test -e out5/db-deployment.yaml && ! ls out5 | grep -q web"
expect "--publish-type LoadBalancer" 0 '' "$BERTH" convert --publish-type LoadBalancer -o out6
check "... is the published Service's type" grep -q 'type: LoadBalancer' out6/web-service.yaml
check "... which is ClusterIP (no type) without it" sh -c "! grep -q 'type:' out/web-service.yaml"
expect "--to kustomize writes base/ and an overlay" 0 '' "$BERTH" convert --to kustomize -o k
check "... a kustomization listing every object" sh -c "grep -q -- '- web-deployment.yaml' k/base/kustomization.yaml && grep -q -- '- ../../base' k/overlays/desktop/kustomization.yaml"
check "... the desktop overlay makes the published Service a LoadBalancer and claims of Docker Desktop's storage" sh -c "grep -q 'type: LoadBalancer' k/overlays/desktop/web-service.yaml && grep -q 'storageClassName: hostpath' k/overlays/desktop/web-data-persistentVolumeClaim.yaml && grep -q -- '- path: web-service.yaml' k/overlays/desktop/kustomization.yaml"
expect "--to helm writes a chart" 0 '' "$BERTH" convert --to helm -o chart
check "... Chart.yaml, values.yaml and templates/" sh -c "grep -qx 'apiVersion: v2' chart/Chart.yaml && grep -qx 'name: $proj' chart/Chart.yaml && test -e chart/templates/web-deployment.yaml"
check "... the values hold the images, replicas and published ports" sh -c "grep -A3 '^web:' chart/values.yaml | grep -q 'image: nginx:1.25' && grep -A3 '^web:' chart/values.yaml | grep -q 'replicas: 1' && grep -q 'web-8080: 8080' chart/values.yaml"
check "... which the templates read" sh -c "grep -q 'image: {{ .Values.web.image }}' chart/templates/web-deployment.yaml && grep -q 'port: {{ index .Values.web.ports \"web-8080\" }}' chart/templates/web-service.yaml && grep -q 'namespace: {{ .Values.namespace }}' chart/templates/web-deployment.yaml"
expect "--publish-type takes ClusterIP, NodePort or LoadBalancer" 2 'publish-type takes ClusterIP, NodePort or LoadBalancer' "$BERTH" convert --publish-type Ingress
expect "--to something else is refused" 2 '--to takes kubernetes, kustomize or helm' "$BERTH" convert --to swarm
expect "an unknown service is refused" 1 'no such service: nosuch' "$BERTH" convert -o out7 nosuch
touch afile
expect "-o onto a file is refused, naming it" 1 'afile exists and is not a directory' "$BERTH" convert -o afile
expect "... and under one" 1 'cannot create directory afile/chart' "$BERTH" convert --to helm -o afile/chart
long=$(printf 'a%.0s' $(seq 60))
printf 'services:\n  %s:\n    image: busybox\n    ports: ["8080:80"]\n    volumes: [somedata:/d]\nvolumes:\n  somedata: {}\n' "$long" >long.yaml
expect "long names convert" 0 '' "$BERTH" -f long.yaml convert -o long
check "... every object name at most 63 characters, the claim the same in the pod and the claim" sh -c "! grep -hE '^    name: .{64,}|claimName: .{64,}' long/*.yaml && test \"\$(grep -h 'claimName:' long/*-deployment.yaml | awk '{print \$2}')\" = \"\$(grep -h '^    name:' long/*-persistentVolumeClaim.yaml | awk '{print \$2}')\""
printf 'services:\n  u:\n    image: busybox\n    user: app\n' >user.yaml
expect "a user given by name is said: Kubernetes takes a number" 0 'ignored: services.u.user: app is a name' "$BERTH" -f user.yaml convert -o out8

cat >more.yaml <<'YAML'
services:
  db:
    image: postgres:16
    scale: 2
    volumes: [pgdata:/var/lib/postgresql/data]
    expose: ["5432"]
    healthcheck: {test: ["CMD", "pg_isready"]}
    x-kubernetes:
      metadata: {annotations: {team: data}}
      spec: {template: {spec: {priorityClassName: high}}}
  app:
    image: app:1
    depends_on:
      db: {condition: service_healthy}
      job: {condition: service_completed_successfully}
  job:
    image: busybox
    restart: "no"
volumes:
  pgdata: {}
YAML
expect "convert of a replicated service with a named volume" 0 '' "$BERTH" -f more.yaml convert -o more
check "... is a StatefulSet whose replicas each claim their own volume" sh -c "grep -qx 'kind: StatefulSet' more/db-statefulset.yaml && grep -q 'volumeClaimTemplates:' more/db-statefulset.yaml && grep -A1 'volumeMounts:' more/db-statefulset.yaml | grep -q 'name: pgdata' && ! ls more | grep -q persistentVolumeClaim"
check "x-kubernetes is merged into the object as given" sh -c "grep -q 'team: data' more/db-statefulset.yaml && grep -q 'priorityClassName: high' more/db-statefulset.yaml"
check "depends_on service_healthy: an init container waits for the dependency's port" sh -c "grep -A6 'initContainers:' more/app-deployment.yaml | grep -q 'until nc -z db 5432'"
check "... a condition with no such check is said" grep -q 'ignored: services.app.depends_on.job: service_completed_successfully has no Kubernetes check' "$WORK/err"
expect "... and refused with --strict" 1 'services.app.depends_on.job: service_completed_successfully has no Kubernetes check' "$BERTH" -f more.yaml convert --strict -o more-strict

# A project shaped like docker compose bridge's own test: the files are
# those bridge writes, byte for byte, but for the differences
# docs/kubernetes.md gives (convert-golden/compose.yaml says which).
golden=$REPO/tests/integration/convert-golden
mkdir -p "$WORK/golden" && cp "$golden/compose.yaml" "$golden/site.conf" "$golden/api-key.txt" "$WORK/golden/"
expect "convert --to kustomize of bridge's shape" 0 '' "$BERTH" -f "$WORK/golden/compose.yaml" -p golden convert --to kustomize -o "$WORK/golden/kubernetes"
check "... writes what docker compose bridge writes (base/ and overlays/desktop/)" diff -r "$golden/kubernetes" "$WORK/golden/kubernetes"
expect "convert --to helm of bridge's shape" 0 '' "$BERTH" -f "$WORK/golden/compose.yaml" -p golden convert --to helm -o "$WORK/golden/helm"
check "... writes bridge's chart: Chart.yaml, values.yaml, templates/" diff -r "$golden/helm" "$WORK/golden/helm"

# the examples and, when it is beside the repository, the corpus convert
for f in "$REPO"/examples/*/compose.yaml; do
	expect "example $(basename "$(dirname "$f")") converts" 0 '' "$BERTH" -f "$f" convert -o "$WORK/ex-$(basename "$(dirname "$f")")"
done
if [ -d "$CORPUS/awesome-compose" ]; then
	n=0 bad=0
	for f in $(find "$CORPUS/awesome-compose" -name 'compose.y*ml' -o -name 'docker-compose.y*ml' | sort); do
		n=$((n + 1))
		"$BERTH" -f "$f" convert -o "$WORK/corpus-$n" >/dev/null 2>"$WORK/corpus-err" || { bad=$((bad + 1)); echo "# $f: $(tail -1 "$WORK/corpus-err")"; }
	done
	check "every corpus file converts ($n, $bad failed)" test "$bad" -eq 0 -a "$n" -ge 39
else
	echo "skip: no corpus at $CORPUS/awesome-compose; the corpus conversions did not run"
fi

# a stack converted, and the same stack as berth runs it: both read
if command -v node >/dev/null && [ -d "$REPO/tests/k8s/node_modules/yaml" ]; then
	load_busybox -t busybox:latest || not_ok "the busybox image loads"
	mkdir -p "$WORK/run" && cd "$WORK/run" || exit 1
	cleanup_hooks+=("cd '$WORK/run' && '$BERTH' down -v -t 0 >/dev/null 2>&1")
	cat >compose.yaml <<'YAML'
services:
  web:
    image: busybox
    init: true
    command: ["httpd", "-f", "-p", "80"]
    environment: {GREETING: hi, MODE: test}
    ports: ["127.0.0.1::80"]
    volumes: [data:/data]
    networks: [front, back]
  db:
    image: busybox
    init: true
    command: ["sleep", "300"]
    environment: {ROLE: db}
    tmpfs: [/scratch]
    networks: [back]
networks:
  front: {}
  back: {internal: true}
volumes:
  data: {}
YAML
	expect "the stack runs under berth" 0 Started "$BERTH" up -d
	expect "... and converts" 0 '' "$BERTH" convert -o k8s
	for s in web db; do
		"$BERTH" inspect "$proj-$s-1" >"$WORK/$s.json" 2>/dev/null
		expect "$s: the same image, command, environment, ports, mount paths and networks in both" 0 '' \
			node "$REPO/tests/k8s/compare.js" k8s "$proj" "$s" "$WORK/$s.json"
	done
	check "... and the same isolation: db is on back only, in both" sh -c "jq -e '.[0].NetworkSettings.Networks | keys == [\"${proj}_back\"]' '$WORK/db.json' >/dev/null && ! grep -q 'network.front' k8s/db-deployment.yaml"
	"$BERTH" down -v -t 0 >/dev/null 2>&1
	check_no_leaks "after the compared stack"
	cd "$WORK" || exit 1
else
	echo "skip: no node or no tests/k8s/node_modules (make deps installs them); the converted stack was not compared with berth's"
fi

# every object written above, against the Kubernetes API schema
if command -v node >/dev/null && [ -d "$REPO/tests/k8s/node_modules/kubernetes-models" ]; then
	files=$(find "$WORK" -name '*.yaml' -path "$WORK/*/*" ! -name kustomization.yaml ! -name compose.yaml ! -path "$WORK/app/chart/*" ! -path "$WORK/chart-rendered/*" ! -path "$WORK/golden/helm/*" ! -path "$WORK/golden-rendered/*" | grep -v '/app/[^/]*\.yaml$' | sort)
	run node "$REPO/tests/k8s/render.js" "$WORK/app/chart" "$WORK/chart-rendered"
	check "the chart renders with its values" test "$RC" -eq 0
	run node "$REPO/tests/k8s/render.js" "$WORK/golden/helm" "$WORK/golden-rendered"
	check "... and so does bridge's shape" test "$RC" -eq 0
	for t in "$WORK/app/k" "$WORK/golden/kubernetes"; do
		expect "the kustomize tree $(basename "$(dirname "$t")")/$(basename "$t") reads as kustomize reads it (every file listed, every patch's object in base)" 0 '' node "$REPO/tests/k8s/kustomize.js" "$t"
	done
	cp -r "$WORK/app/k" "$WORK/k-broken" && rm "$WORK/k-broken/base/web-service.yaml"
	expect "... and the check does refuse a tree whose patch has no object" 1 'patches Service web-published, which base does not have' node "$REPO/tests/k8s/kustomize.js" "$WORK/k-broken"
	files="$files $(find "$WORK/chart-rendered" "$WORK/golden-rendered" -name '*.yaml' | sort)"
	run node "$REPO/tests/k8s/validate.js" $files
	check "every object written validates against the Kubernetes API schema ($(echo "$files" | wc -l) files)" test "$RC" -eq 0
	[ "$RC" -eq 0 ] || echo "$OUT" | head -20 | sed 's/^/# /'
	printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicas: two\n  selector: {matchLabels: {a: b}}\n  template: {spec: {containers: [{name: c, image: i}]}}\n' >"$WORK/invalid.yaml"
	expect "... and the validator does refuse an invalid one" 1 'replicas must be integer' node "$REPO/tests/k8s/validate.js" "$WORK/invalid.yaml"
else
	echo "skip: no node or no tests/k8s/node_modules (make deps installs them); the objects were not validated"
fi
