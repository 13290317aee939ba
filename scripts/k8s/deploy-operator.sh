#!/usr/bin/env bash
# Deploys pgtide into the running test cluster the way a user does: `kubectl apply` of the CRDs, the RBAC and the
# operator manifests, unchanged; then points the Deployment at the images built here (the project's own from its
# Dockerfiles, and the Spilo stand-in: no registry is reachable) and waits until one replica leads (is Ready).
# Needs `mvn package` (the jars) and scripts/k8s/up.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
. "$here/lib.sh"
K() { "$here/kubectl.sh" "$@"; }
bash "$here/build-images.sh" project
bash "$here/build-images.sh" import
K apply -f "$repo/manifests/crd/" -f "$repo/manifests/rbac/" -f "$repo/manifests/operator/" >/dev/null
K wait --for condition=established --timeout=60s crd/postgresclusters.pgtide.io crd/postgresusers.pgtide.io >/dev/null
K -n pgtide-system set image deployment/pgtide-operator operator=localhost/pgtide/pgtide-operator:test >/dev/null
K -n pgtide-system set env deployment/pgtide-operator PGTIDE_SPILO_IMAGE=localhost/pgtide/spilo-standin:15 \
  PGTIDE_SIDECAR_IMAGE=localhost/pgtide/pgtide-sidecar:test >/dev/null
# a rebuilt image under the same tag: restart so the pods run it
K -n pgtide-system rollout restart deployment/pgtide-operator >/dev/null
K -n pgtide-system rollout status deployment/pgtide-operator --timeout=300s >/dev/null || true
deadline=$(( $(date +%s) + 300 ))
until [ "$(K -n pgtide-system get pods -l app.kubernetes.io/name=pgtide-operator \
      -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)" -ge 1 ]; do
  [ "$(date +%s)" -lt $deadline ] || die "no operator replica became Ready (leader) within 300 s"
  sleep 1
done
log "operator deployed; leader: $(K -n pgtide-system get lease pgtide-operator -o jsonpath='{.spec.holderIdentity}')"
