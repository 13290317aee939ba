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
IMAGES_DIR="$PGTIDE_CACHE/images"
# the running cluster's state (certificates, etcd data, logs, PIDs); one cluster per machine
K8S_STATE="${PGTIDE_K8S_STATE:-/var/lib/pgtide-k8s}"
# private ranges that exist only on this machine: a bridge with no route out and no masquerade
NODE_IP="10.213.0.1"
POD_CIDR="10.213.0.0/24"
SERVICE_CIDR="10.214.0.0/24"
API_SERVICE_IP="10.214.0.1"
BRIDGE="pgtide0"
API_PORT=6443

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
