#!/usr/bin/env bash
# Prints the directory holding ArgoCD's CRDs (Application, ApplicationSet, AppProject), which the GitOps examples'
# test validates examples/gitops against. They come from ArgoCD's own Go module (github.com/argoproj/argo-cd/v3,
# whose module zip carries manifests/crds/), downloaded once from the Go module proxy into the cache, keyed by
# version. v3.5.8: the newest release whose go.mod this machine's Go (1.26) accepts. Needs Go.
set -euo pipefail
command -v go >/dev/null || [ ! -x /usr/local/go/bin/go ] || PATH="$PATH:/usr/local/go/bin"
. "$(dirname "$0")/k8s/lib.sh"
ARGOCD_VERSION="${PGTIDE_ARGOCD_VERSION:-v3.5.8}"
out="$PGTIDE_CACHE/argocd/$ARGOCD_VERSION/crds"
if [ ! -f "$out/application-crd.yaml" ]; then
  command -v go >/dev/null || die "Go is required to fetch ArgoCD's CRDs (https://go.dev/doc/install)"
  log "fetching ArgoCD $ARGOCD_VERSION's CRDs from its Go module"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  dir="$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION" \
    | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  [ -f "$dir/manifests/crds/application-crd.yaml" ] || die "ArgoCD $ARGOCD_VERSION: no manifests/crds in its module"
  mkdir -p "$tmp/crds"
  cp "$dir"/manifests/crds/application-crd.yaml "$dir"/manifests/crds/applicationset-crd.yaml \
    "$dir"/manifests/crds/appproject-crd.yaml "$tmp/crds/"
  mkdir -p "$(dirname "$out")"
  rm -rf "$out"; mv "$tmp/crds" "$out"
fi
echo "$out"
