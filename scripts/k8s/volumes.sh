#!/usr/bin/env bash
# Keeps N hostPath PersistentVolumes per node of the default "local" StorageClass available (there is no dynamic
# provisioner): creates missing ones and recycles Released ones (data wiped, claim reference dropped), all under
# $K8S_STATE/volumes. Each is local to its node (node affinity), as local disks are: a member whose node is lost
# cannot be started elsewhere on the same data.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
n=${1:-8}
K="$K8S_BIN/kubectl --kubeconfig $K8S_STATE/admin.kubeconfig"
# one listing of every test volume's phase (a kubectl call per volume cost seconds per test class)
declare -A phases=()
while read -r name phase; do
  [ -n "$name" ] && phases[$name]=$phase
done < <($K get pv -l pgtide.io/test-volume=true -o jsonpath='{range .items[*]}{.metadata.name} {.status.phase}{"\n"}{end}')
for node in $(seq 1 "$NODES"); do
for i in $(seq 1 "$n"); do
  name="pgtide-pv-$node-$i"; dir="$K8S_STATE/volumes/$name"
  phase=${phases[$name]:-}
  if [ "$phase" = "Released" ] || [ "$phase" = "Failed" ]; then
    $K delete pv "$name" --wait=true >/dev/null
    phase=""
  fi
  if [ -z "$phase" ]; then
    rm -rf "$dir"; mkdir -p "$dir"; chmod 0755 "$dir"
    $K apply -f - >/dev/null <<PV
apiVersion: v1
kind: PersistentVolume
metadata: {name: $name, labels: {pgtide.io/test-volume: "true"}}
spec:
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: local
  volumeMode: Filesystem
  hostPath: {path: "$dir", type: Directory}
  nodeAffinity:
    required:
      nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [$(node_name "$node")]}]}]
PV
  fi
done
done
