# Shared settings of the real-Kubernetes test tier (sourced, not run).
# Everything built lands in a cache outside the repository, keyed by version; nothing here is committed.
K8S_VERSION="${PGTIDE_K8S_VERSION:-v1.34.4}"
PGTIDE_CACHE="${PGTIDE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pgtide}"
GO_VERSION="$(go env GOVERSION 2>/dev/null || echo nogo)"
K8S_BIN="$PGTIDE_CACHE/k8s/$K8S_VERSION-$GO_VERSION/bin"
COREDNS_VERSION="${PGTIDE_COREDNS_VERSION:-v1.14.7}"
DNS_BIN="$PGTIDE_CACHE/coredns/$COREDNS_VERSION-$GO_VERSION/bin"
# the S3-compatible server the backup tests copy to (a real one, built from its module; Debian packages none)
MINIO_VERSION="${PGTIDE_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
MINIO_BIN="$PGTIDE_CACHE/minio/$MINIO_VERSION-$GO_VERSION/bin"
# NetworkPolicy enforcement (kube-router's policy controller alone; scripts/k8s/netpol.sh). kube-network-policies
# would be the lighter choice, but it needs the kernel's nft_queue, which the test machines' kernels lack.
KUBE_ROUTER_VERSION="${PGTIDE_KUBE_ROUTER_VERSION:-v2.1.0}"
KUBE_ROUTER_BIN="$PGTIDE_CACHE/kube-router/$KUBE_ROUTER_VERSION-$GO_VERSION/bin"
# Helm, for the chart (charts/pgtide): scripts/helm.sh builds it from its module and prints its path
HELM_VERSION="${PGTIDE_HELM_VERSION:-v4.3.2}"
HELM_BIN="$PGTIDE_CACHE/helm/$HELM_VERSION-$GO_VERSION/bin"
# Sealed Secrets (controller, kubeseal and its Helm chart) for the sealed-password test; its module is served under
# bitnami-labs but names itself bitnami, hence the wrapper module in build-binaries.sh
SEALED_SECRETS_VERSION="${PGTIDE_SEALED_SECRETS_VERSION:-v0.40.0}"
SEALED_SECRETS_DIR="$PGTIDE_CACHE/sealed-secrets/$SEALED_SECRETS_VERSION-$GO_VERSION"
IMAGES_DIR="$PGTIDE_CACHE/images"
# the running cluster's state (certificates, etcd data, logs, PIDs); one cluster per machine
K8S_STATE="${PGTIDE_K8S_STATE:-/var/lib/pgtide-k8s}"
# private ranges that exist only on this machine: bridges with no route out and no masquerade.
# The control plane (API server, CoreDNS) listens on pgtide0's address; node i (1..NODES) has its own bridge
# pgtide<i> at 10.213.<i>.1 with its pods in 10.213.<i>.0/24, its own containerd and kubelet, and its own cgroup
# subtree, so that one node can be frozen or cut off alone (scripts/k8s/node.sh).
NODES="${PGTIDE_K8S_NODES:-3}"
NODE_IP="10.213.0.1"
CLUSTER_CIDR="10.213.0.0/16"
SERVICE_CIDR="10.214.0.0/24"
API_SERVICE_IP="10.214.0.1"
BRIDGE="pgtide0"
API_PORT=6443
node_name() { echo "pgtide-node-$1"; }
node_ip() { echo "10.213.$1.1"; }
node_cidr() { echo "10.213.$1.0/24"; }
node_bridge() { echo "pgtide$1"; }
node_sock() { echo "/run/pgtide-k8s/node-$1/containerd.sock"; }
node_dir() { echo "$K8S_STATE/node-$1"; }
# the cgroup (in every v1 hierarchy, or the v2 tree) that holds the node's kubelet, containerd, shims and pods
node_cgroup() { echo "pgtide-node-$1"; }

pki="$K8S_STATE/pki"

log() { echo "pgtide k8s: $*" >&2; }
die() { log "$*"; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Spilo's sources and the extensions it compiles (test fixtures kept beside the repository, never in it): the
# folder holding spilo/, bg_mon/ and pg_auth_mon/. PGTIDE_THIRD_PARTY names it; otherwise a shared/third-party
# folder beside the checkout or one of its parents.
third_party() {
  local d
  if [ -n "${PGTIDE_THIRD_PARTY:-}" ]; then d=$PGTIDE_THIRD_PARTY
  else
    d=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    while [ "$d" != / ] && [ ! -d "$d/../shared/third-party/spilo" ]; do d=$(dirname "$d"); done
    d="$d/../shared/third-party"
    [ -d "$d/spilo" ] || d=/work/shared/third-party
  fi
  [ -f "$d/spilo/postgres-appliance/launch.sh" ] && [ -d "$d/bg_mon" ] && [ -d "$d/pg_auth_mon" ] \
    || die "Spilo's sources not found (looked in $d): set PGTIDE_THIRD_PARTY to the folder with spilo/, bg_mon/, pg_auth_mon/"
  (cd "$d" && pwd)
}

# ---- used by up.sh and node.sh -----------------------------------------------------------------------------
# writes stdin to a file only when its content changes: kube-proxy exits when its configuration file changes
put() {
  local f=$1
  cat > "$f.new"
  if cmp -s "$f.new" "$f"; then rm -f "$f.new"; else mv "$f.new" "$f"; fi
}

cert() { # name CN O [SANs]
  local name=$1 cn=$2 o=$3 san=${4:-}
  # made once per state directory, again only when its names change (a node added)
  [ -f "$pki/$name.crt" ] && [ "$(cat "$pki/$name.names" 2>/dev/null)" = "$cn|$o|$san" ] && return 0
  openssl genrsa -out "$pki/$name.key" 2048 2>/dev/null
  local subj="/CN=$cn"; [ -n "$o" ] && subj="/O=$o/CN=$cn"
  openssl req -new -key "$pki/$name.key" -subj "$subj" -out "$pki/$name.csr" 2>/dev/null
  local ext="$pki/$name.ext"
  { echo "basicConstraints=CA:FALSE"; echo "keyUsage=digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"; [ -n "$san" ] && echo "subjectAltName=$san"; } > "$ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 3650 \
    -extfile "$ext" -out "$pki/$name.crt" 2>/dev/null
  echo "$cn|$o|$san" > "$pki/$name.names"
}
kubeconfig() { # name cert [API server address]
  put "$K8S_STATE/$1.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: pgtide, cluster: {server: "https://${3:-$NODE_IP}:$API_PORT", certificate-authority: "$pki/ca.crt"}}]
users: [{name: $1, user: {client-certificate: "$pki/$2.crt", client-key: "$pki/$2.key"}}]
contexts: [{name: pgtide, context: {cluster: pgtide, user: $1}}]
current-context: pgtide
KC
}
run() { # name command...: starts a process in the background, records its PID
  local name=$1; shift
  if [ -f "$K8S_STATE/run/$name.pid" ] && kill -0 "$(cat "$K8S_STATE/run/$name.pid")" 2>/dev/null; then return 0; fi
  setsid "$@" >> "$K8S_STATE/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$K8S_STATE/run/$name.pid"
}
wait_for() { # what seconds command...
  local what=$1 secs=$2; shift 2
  local deadline=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt $deadline ] || die "timed out after ${secs}s waiting for $what (logs: $K8S_STATE/logs)"
    sleep 0.5
  done
}

