#!/bin/bash
# berth convert: the project as Kubernetes objects, one file per object,
# named as docker compose bridge names them; what has no mapping is said.
# (Validation against the Kubernetes API schema is still to come.)
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
expect "convert writes the objects" 0 '' "$BERTH" convert -o out
check "one file per object, named as docker compose bridge names them" test "$(ls out | LC_ALL=C sort | tr '\n' ' ')" = \
	"0-$proj-namespace.yaml back-network-policy.yaml $proj-configs.yaml db-deployment.yaml db-expose.yaml default-network-policy.yaml front-network-policy.yaml migrate-job.yaml pw-secret.yaml web-data-persistentVolumeClaim.yaml web-deployment.yaml web-expose.yaml web-service.yaml "
check "a key with no mapping is named on stderr" grep -qx 'ignored: services.web.devices' "$WORK/err"
check "... and a bind mount, with what would carry it" grep -q 'ignored: services.web.volumes: bind mount .*/conf at /etc/nginx/conf.d' "$WORK/err"
d=out/web-deployment.yaml
check "a service is a Deployment in the project's namespace" sh -c "grep -qx 'kind: Deployment' $d && grep -qx '  namespace: $proj' $d"
check "... with its image, command as args, environment" sh -c "grep -q 'image: nginx:1.25' $d && grep -A3 '  args:' $d | grep -q 'daemon off;' && grep -A1 -- '- name: B' $d | grep -q 'value: two'"
check "... its user, read_only and cap_drop as the securityContext" sh -c "grep -q 'runAsUser: 1000' $d && grep -q 'runAsGroup: 1000' $d && grep -q 'readOnlyRootFilesystem: true' $d && grep -A2 'drop:' $d | grep -q -- '- ALL'"
check "... its limits" sh -c "grep -q 'cpu: \"0.5\"' $d && grep -q 'memory: \"268435456\"' $d"
check "... its healthcheck as probes" sh -c "grep -q 'livenessProbe:' $d && grep -q 'readinessProbe:' $d && grep -q 'periodSeconds: 30' $d && grep -q 'initialDelaySeconds: 10' $d && grep -q 'failureThreshold: 3' $d"
check "... its named volume as a claim, its secret and config mounted at their targets" sh -c "grep -q 'claimName: web-data' $d && grep -q 'mountPath: /run/secrets/pw' $d && grep -q 'mountPath: /etc/app.conf' $d"
check "... on the labels of its networks" sh -c "grep -q 'com.docker.compose.network.front: \"true\"' $d && grep -q 'com.docker.compose.network.back: \"true\"' $d"
check "the claim takes the size x-kubernetes gives" grep -q 'storage: 1Gi' out/web-data-persistentVolumeClaim.yaml
check "published ports are a Service NAME-published" sh -c "grep -q 'name: web-published' out/web-service.yaml && grep -q 'port: 8080' out/web-service.yaml && grep -q 'targetPort: web-80' out/web-service.yaml"
check "exposed ports a Service of the service's name (its DNS name)" sh -c "grep -q '^  name: db$' out/db-expose.yaml && grep -q 'port: 5432' out/db-expose.yaml"
check "init and stop_grace_period" sh -c "grep -q 'shareProcessNamespace: true' out/db-deployment.yaml && grep -q 'terminationGracePeriodSeconds: 20' out/db-deployment.yaml"
check "a service that runs once (restart: no) is a Job" sh -c "grep -qx 'kind: Job' out/migrate-job.yaml && grep -q 'restartPolicy: Never' out/migrate-job.yaml"
check "each network a NetworkPolicy of its pods" sh -c "grep -q 'com.docker.compose.network.front: \"true\"' out/front-network-policy.yaml && grep -q '0.0.0.0/0' out/front-network-policy.yaml"
check "... an internal one without a way out" sh -c "! grep -q '0.0.0.0/0' out/back-network-policy.yaml"
check "secrets are Secrets (base64), configs a ConfigMap" sh -c "grep -q 'pw: czNjcmV0' out/pw-secret.yaml && grep -q 'cfg: hello config' out/$proj-configs.yaml"
"$BERTH" convert -o out2 >/dev/null 2>&1
check "the same input gives the same bytes" diff -r out out2
expect "--strict makes an unmapped key an error" 1 'services.web.devices has no Kubernetes mapping' "$BERTH" convert --strict -o out3
expect "--allow-hostpath makes a bind mount a hostPath" 0 '' "$BERTH" convert --allow-hostpath -o out4
check "... there" grep -q "path: $WORK/app/conf" out4/web-deployment.yaml
expect "SERVICE… converts only those" 0 '' "$BERTH" convert -o out5 db
check "... and no other's objects" sh -c "test -e out5/db-deployment.yaml && ! ls out5 | grep -q web"
expect "--publish-type LoadBalancer" 0 '' "$BERTH" convert --publish-type LoadBalancer -o out6
check "... is the published Service's type" grep -q 'type: LoadBalancer' out6/web-service.yaml
expect "--to kustomize writes base/ and an overlay" 0 '' "$BERTH" convert --to kustomize -o k
check "... a kustomization listing every object" sh -c "grep -q -- '- web-deployment.yaml' k/base/kustomization.yaml && grep -q -- '- ../../base' k/overlays/desktop/kustomization.yaml"
expect "--to helm is refused, saying so" 2 'helm is not supported yet' "$BERTH" convert --to helm
expect "an unknown service is refused" 1 'no such service: nosuch' "$BERTH" convert -o out7 nosuch

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
