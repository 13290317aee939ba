#!/usr/bin/env bash
# Prints the path of the Helm binary the chart's tests run (charts/pgtide: `helm lint`, `helm template`), building it
# first when it is not there: `go install helm.sh/helm/v4/cmd/helm@$HELM_VERSION` from the Go module proxy into the
# cache scripts/k8s/lib.sh names, keyed by Helm's and Go's version (about 3 minutes and 1 GB of memory once, at the
# lowest CPU priority). Needs Go (on PATH, or in /usr/local/go/bin where Go's own archive installs it).
# Usage: bash scripts/helm.sh            prints the path
#        bash scripts/helm.sh ARGS...    runs helm with ARGS
set -euo pipefail
command -v go >/dev/null || [ ! -x /usr/local/go/bin/go ] || PATH="$PATH:/usr/local/go/bin"
. "$(dirname "$0")/k8s/lib.sh"
if [ ! -x "$HELM_BIN/helm" ]; then
  command -v go >/dev/null || die "Go is required to build Helm (https://go.dev/doc/install)"
  log "building helm $HELM_VERSION into $HELM_BIN"
  tmp="$HELM_BIN.tmp.$$"
  trap 'rm -rf "$tmp"' EXIT
  GOBIN="$tmp" nice -n 19 go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" >&2
  mkdir -p "$(dirname "$HELM_BIN")"
  # another process may have finished first: keep whichever is complete
  [ -x "$HELM_BIN/helm" ] || mv "$tmp" "$HELM_BIN"
fi
if [ $# -eq 0 ]; then echo "$HELM_BIN/helm"; else exec "$HELM_BIN/helm" "$@"; fi
