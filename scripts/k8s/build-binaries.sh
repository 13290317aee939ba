#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy and kubectl from the Go module
# proxy into $K8S_BIN (keyed by Kubernetes and Go version); does nothing when they are there.
# k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces the k8s.io staging modules with ./staging paths),
# so a throw-away wrapper module requires it and pins every staging module to the matching v0.x release.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cmds=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
command -v go >/dev/null || die "Go is required to build Kubernetes"
# cluster DNS (what pods resolve Service names with), built from its own module; it answers cluster.local only
if [ ! -x "$DNS_BIN/coredns" ]; then
  log "building coredns $COREDNS_VERSION"
  GOBIN="$DNS_BIN.tmp" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
  rm -rf "$DNS_BIN"; mv "$DNS_BIN.tmp" "$DNS_BIN"
fi
# the S3-compatible server of the backup tests (MinIO from its module: 2.5 min and 1.5 GB of memory once, then cached)
if [ ! -x "$MINIO_BIN/minio" ]; then
  log "building minio $MINIO_VERSION"
  GOBIN="$MINIO_BIN.tmp" go install -trimpath -ldflags "-s -w" "github.com/minio/minio@$MINIO_VERSION"
  rm -rf "$MINIO_BIN"; mv "$MINIO_BIN.tmp" "$MINIO_BIN"
fi
# NetworkPolicy enforcement for the NetworkPolicy test (scripts/k8s/netpol.sh)
if [ ! -x "$KUBE_ROUTER_BIN/kube-router" ]; then
  log "building kube-router $KUBE_ROUTER_VERSION"
  GOBIN="$KUBE_ROUTER_BIN.tmp" go install -trimpath -ldflags "-s -w" \
    "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION"
  rm -rf "$KUBE_ROUTER_BIN"; mv "$KUBE_ROUTER_BIN.tmp" "$KUBE_ROUTER_BIN"
fi
# Sealed Secrets' controller (an image of its own, build-images.sh), kubeseal and the project's Helm chart. v0.40.0's
# go.mod names the module github.com/bitnami/sealed-secrets while the proxy serves it as bitnami-labs: a throw-away
# wrapper module requires the one and replaces it with the other.
if [ ! -x "$SEALED_SECRETS_DIR/bin/controller" ]; then
  log "building sealed-secrets $SEALED_SECRETS_VERSION (controller, kubeseal)"
  ss_work="$(mktemp -d)"
  (
    cd "$ss_work"
    printf 'module pgtide.local/sealedsecrets\n\ngo 1.26.8\n\nrequire github.com/bitnami/sealed-secrets %s\n\nreplace github.com/bitnami/sealed-secrets => github.com/bitnami-labs/sealed-secrets %s\n' \
      "$SEALED_SECRETS_VERSION" "$SEALED_SECRETS_VERSION" > go.mod
    printf '//go:build tools\npackage tools\nimport (\n  _ "github.com/bitnami/sealed-secrets/cmd/controller"\n  _ "github.com/bitnami/sealed-secrets/cmd/kubeseal"\n)\n' > tools.go
    go mod tidy >/dev/null 2>&1 || go mod tidy
    mkdir -p out/bin
    for c in controller kubeseal; do
      CGO_ENABLED=0 nice -n 10 go build -trimpath -ldflags "-s -w -X main.VERSION=$SEALED_SECRETS_VERSION" \
        -o "out/bin/$c" "github.com/bitnami/sealed-secrets/cmd/$c"
    done
    src="$(go list -m -f '{{.Dir}}' github.com/bitnami/sealed-secrets)"
    cp -r "$src/helm/sealed-secrets" out/chart
    chmod -R u+w out/chart
    rm -rf "$SEALED_SECRETS_DIR"; mkdir -p "$(dirname "$SEALED_SECRETS_DIR")"; mv out "$SEALED_SECRETS_DIR"
  )
  rm -rf "$ss_work"
fi
have=1
for c in "${cmds[@]}"; do [ -x "$K8S_BIN/$c" ] || have=0; done
[ $have = 1 ] && { log "binaries cached in $K8S_BIN"; exit 0; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
staging_version="v0.${K8S_VERSION#v1.}"
cd "$work"
cat > go.mod <<MOD
module pgtide.local/k8sbuild

go 1.24.0

godebug default=go1.24
MOD
log "resolving k8s.io/kubernetes $K8S_VERSION"
gomod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
[ -f "$gomod" ] || die "could not download k8s.io/kubernetes@$K8S_VERSION"
echo "require k8s.io/kubernetes $K8S_VERSION" >> go.mod
grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging' "$gomod" | awk '{print $1}' | sort -u | while read -r m; do
  echo "replace $m => $m $staging_version" >> go.mod
done
{
  echo "//go:build tools"
  echo "package tools"
  echo "import ("
  for c in "${cmds[@]}"; do echo "  _ \"k8s.io/kubernetes/cmd/$c\""; done
  echo ")"
} > tools.go
go mod tidy >/dev/null 2>&1 || go mod tidy
mkdir -p "$K8S_BIN.tmp"
for c in "${cmds[@]}"; do
  log "building $c"
  go build -p 2 -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION" \
    -o "$K8S_BIN.tmp/$c" "k8s.io/kubernetes/cmd/$c"
done
rm -rf "$K8S_BIN"
mkdir -p "$(dirname "$K8S_BIN")"
mv "$K8S_BIN.tmp" "$K8S_BIN"
log "built into $K8S_BIN"
