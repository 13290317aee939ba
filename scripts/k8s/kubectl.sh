#!/usr/bin/env bash
# kubectl built with the cluster (same version), pointed at the test cluster as its admin.
. "$(dirname "$0")/lib.sh"
exec "$K8S_BIN/kubectl" --kubeconfig "$K8S_STATE/admin.kubeconfig" "$@"
