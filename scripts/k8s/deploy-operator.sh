#!/usr/bin/env bash
# Deploys pgtide into the running test cluster the way a user does: `kubectl apply` of the CRDs, the RBAC and the
# operator manifests, unchanged; then points the Deployment at the images built here (the project's own from its
# Dockerfiles, and Spilo built from its sources: no registry is reachable) and waits until one replica leads (is Ready).
# Needs `mvn package` (the jars) and scripts/k8s/up.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
. "$here/lib.sh"
K() { "$here/kubectl.sh" "$@"; }
bash "$here/build-images.sh" project
bash "$here/build-images.sh" import
# the manifests as they are, but for the images (what a kustomize overlay would change): one apply, one rollout;
# the image ID as a pod annotation rolls the Deployment when the image changed under the same tag
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
image_id=$(cat "$IMAGES_DIR/pgtide-operator-test.id")
sed -e 's#image: ghcr.io/pgtide/pgtide-operator:.*#image: localhost/pgtide/pgtide-operator:test#' \
    -e 's#value: "ghcr.io/zalando/spilo-[^"]*"#value: "localhost/pgtide/spilo:17"#' \
    -e 's#value: "ghcr.io/pgtide/pgtide-sidecar:[^"]*"#value: "localhost/pgtide/pgtide-sidecar:test"#' \
    -e 's#value: "ghcr.io/pgtide/pgtide-backup:[^"]*"#value: "localhost/pgtide/pgtide-backup:test"#' \
    -e "s#^      labels: {app.kubernetes.io/name: pgtide-operator}#      labels: {app.kubernetes.io/name: pgtide-operator}\n      annotations: {pgtide.io/test-image: \"$image_id\"}#" \
    "$repo/manifests/operator/10-deployment.yaml" > "$tmp/10-deployment.yaml"
grep -q "localhost/pgtide/pgtide-operator:test" "$tmp/10-deployment.yaml" || die "operator image not found in the manifest"
grep -q "pgtide.io/test-image" "$tmp/10-deployment.yaml" || die "pod template labels not found in the manifest"
K apply -f "$repo/manifests/crd/" >/dev/null
K wait --for condition=established --timeout=60s crd/postgresclusters.pgtide.io crd/postgresusers.pgtide.io >/dev/null
K apply -f "$repo/manifests/rbac/" -f "$repo/manifests/operator/00-namespace.yaml" -f "$tmp/10-deployment.yaml" >/dev/null
K -n pgtide-system rollout status deployment/pgtide-operator --timeout=300s >/dev/null \
  || die "the operator Deployment did not roll out within 300 s"
deadline=$(( $(date +%s) + 300 ))
until [ -n "$(K -n pgtide-system get pods -l app.kubernetes.io/name=pgtide-operator,pgtide.io/leader=true -o name)" ]; do
  [ "$(date +%s)" -lt $deadline ] || die "no operator replica labelled itself leader within 300 s"
  sleep 1
done
log "operator deployed; leader: $(K -n pgtide-system get lease pgtide-operator -o jsonpath='{.spec.holderIdentity}')"
