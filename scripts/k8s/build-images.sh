#!/usr/bin/env bash
# Container images for the real-Kubernetes tier, built here without a registry or a Docker engine:
#   system   pause (tini-static reaping, busybox-static sleeping), a Debian JRE base, the backup agent's base (JRE, Barman,
#            PostgreSQL 15) and the Spilo stand-in (Debian PostgreSQL 15 + Patroni), made with
#            mmdebstrap and packed by buildah as OCI archives into $IMAGES_DIR (keyed by their inputs; reused)
#   project  the operator, sidecar and backup agent images from Dockerfile.operator / .sidecar / .backup (buildah
#            bud, the JRE and backup bases above) with the jars Maven built; needs `mvn package` first
#   import   every archive into the running cluster's containerd (namespace k8s.io)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
. "$here/lib.sh"
mkdir -p "$IMAGES_DIR"
BUILDAH=(buildah --root "$PGTIDE_CACHE/buildah/root" --runroot /run/pgtide-buildah --storage-driver vfs)
SUITE=bookworm

key_of() { cat "$@" | sha256sum | cut -c1-16; }

pack_rootfs() { # name:tag rootfs.tar entrypoint-json user [env...]
  local ref=$1 tar=$2 entry=$3 user=$4; shift 4
  local c; c=$("${BUILDAH[@]}" from scratch)
  "${BUILDAH[@]}" add "$c" "$tar" / >/dev/null
  "${BUILDAH[@]}" config --entrypoint "$entry" --cmd '' --user "$user" "$c"
  for e in "$@"; do "${BUILDAH[@]}" config --env "$e" "$c"; done
  "${BUILDAH[@]}" commit -q "$c" "$ref" >/dev/null
  "${BUILDAH[@]}" rm "$c" >/dev/null
}

archive() { # ref file
  rm -f "$2.tmp"
  "${BUILDAH[@]}" push -q "$1" "oci-archive:$2.tmp:$1" >/dev/null
  mv "$2.tmp" "$2"
}

debian_image() { # ref archive-file packages-csv hook-script entrypoint-json user [essential-hook]
  local ref=$1 out=$2 pkgs=$3 hook=$4 entry=$5 user=$6 essential=${7:-true}
  [ -f "$out" ] && return 0
  log "building $ref (mmdebstrap $SUITE: $pkgs)"
  local tmp; tmp=$(mktemp -d)
  mmdebstrap --quiet --variant=minbase --include="$pkgs" --dpkgopt='path-exclude=/usr/share/man/*' \
    --essential-hook="$essential" \
    --setup-hook='mkdir -p "$1/usr/share/man/man1"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook="$hook" --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    "$SUITE" "$tmp/rootfs.tar"
  "${BUILDAH[@]}" rmi -f "$ref" >/dev/null 2>&1 || true
  pack_rootfs "$ref" "$tmp/rootfs.tar" "$entry" "$user"
  archive "$ref" "$out"
  rm -rf "$tmp"
}

system_images() {
  apt_install mmdebstrap buildah busybox-static tini uidmap
  # the sandbox's process is PID 1 of every pod that shares its process namespace (the cluster pods do): like
  # Kubernetes' own pause it must reap orphans, or a postmaster whose Patroni parent exited stays a zombie and
  # Patroni waits for it forever; tini-static reaps, busybox sleeps
  local pause="$IMAGES_DIR/pause-2.tar"
  if [ ! -f "$pause" ]; then
    log "building localhost/pgtide/pause:2 (tini-static, busybox-static)"
    local tmp; tmp=$(mktemp -d)
    mkdir -p "$tmp/root/bin"; cp /bin/busybox "$tmp/root/bin/busybox"; cp /usr/bin/tini-static "$tmp/root/bin/tini"
    tar -C "$tmp/root" -cf "$tmp/rootfs.tar" .
    "${BUILDAH[@]}" rmi -f localhost/pgtide/pause:2 >/dev/null 2>&1 || true
    pack_rootfs localhost/pgtide/pause:2 "$tmp/rootfs.tar" '["/bin/tini","--","/bin/busybox","sleep","2147483647"]' \
      65535
    archive localhost/pgtide/pause:2 "$pause"; rm -rf "$tmp"
  fi
  local jre_key; jre_key=$(echo "jre-1 $SUITE openjdk-17-jre-headless" | key_of -)
  debian_image localhost/pgtide/jre:17 "$IMAGES_DIR/jre-17-$jre_key.tar" \
    "openjdk-17-jre-headless,ca-certificates-java" 'true' '["java"]' 0
  ln -sf "jre-17-$jre_key.tar" "$IMAGES_DIR/jre-17.tar"
  local spilo_dir="$repo/images/spilo-standin"
  local spilo_pkgs="postgresql-15,postgresql-client-15,patroni,python3-kubernetes,python3-yaml,openssl,procps,util-linux,iproute2"
  # Spilo's postgres user is uid 101, gid 103 (what Zalando's spilo_runasuser/spilo_fsgroup default to); created
  # before the packages so postgresql-common keeps it, and the sidecar (same uid) may signal it when fencing
  local spilo_user='echo "postgres:x:103:" >> "$1/etc/group"; echo "postgres:!:103::" >> "$1/etc/gshadow";
    echo "postgres:x:101:103:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash" >> "$1/etc/passwd";
    echo "postgres:*:19000:0:99999:7:::" >> "$1/etc/shadow"'
  # two layers: the packages (slow, keyed by the package list) and the entrypoint on top (seconds)
  local base_key; base_key=$(echo "$SUITE $spilo_pkgs $spilo_user" | key_of -)
  debian_image localhost/pgtide/spilo-base:15 "$IMAGES_DIR/spilo-base-$base_key.tar" "$spilo_pkgs" 'true' \
    '["/bin/sh"]' 0 "$spilo_user"
  local spilo_key; spilo_key=$( (echo "$base_key"; cat "$spilo_dir"/*) | key_of -)
  if [ ! -f "$IMAGES_DIR/spilo-standin-$spilo_key.tar" ]; then
    log "building localhost/pgtide/spilo-standin:15 (entrypoint on spilo-base)"
    "${BUILDAH[@]}" rmi -f localhost/pgtide/spilo-base:15 >/dev/null 2>&1 || true
    "${BUILDAH[@]}" pull -q "oci-archive:$IMAGES_DIR/spilo-base-$base_key.tar" >/dev/null
    local c; c=$("${BUILDAH[@]}" from --pull=never localhost/pgtide/spilo-base:15)
    "${BUILDAH[@]}" copy --chmod 0755 "$c" "$spilo_dir/entrypoint.py" /opt/spilo-standin/entrypoint.py >/dev/null
    "${BUILDAH[@]}" config --entrypoint '["/usr/bin/python3","/opt/spilo-standin/entrypoint.py"]' --cmd '' \
      --user 0 "$c"
    "${BUILDAH[@]}" commit -q "$c" localhost/pgtide/spilo-standin:15 >/dev/null
    "${BUILDAH[@]}" rm "$c" >/dev/null
    archive localhost/pgtide/spilo-standin:15 "$IMAGES_DIR/spilo-standin-$spilo_key.tar"
  fi
  ln -sf "spilo-standin-$spilo_key.tar" "$IMAGES_DIR/spilo-standin-15.tar"
  # the backup agent's base: a JRE, Barman and PostgreSQL 15 (its client tools stream WAL and base backups; its
  # server is the scratch instance a verification restores into), the postgres user as in Spilo
  local backup_pkgs="openjdk-17-jre-headless,ca-certificates-java,barman,postgresql-15,postgresql-client-15,procps,tini,rclone"
  local backup_key; backup_key=$(echo "$SUITE $backup_pkgs $spilo_user" | key_of -)
  debian_image localhost/pgtide/backup-base:15 "$IMAGES_DIR/backup-base-$backup_key.tar" "$backup_pkgs" 'true' \
    '["java"]' 0 "$spilo_user"
  ln -sf "backup-base-$backup_key.tar" "$IMAGES_DIR/backup-base-15.tar"
}

project_images() {
  [ -f "$repo/operator/target/pgtide-operator.jar" ] && [ -f "$repo/sidecar/target/pgtide-sidecar.jar" ] \
    || die "build the jars first (mvn package)"
  [ -f "$repo/cli/target/pgtide.jar" ] || die "build the jars first (mvn package)"
  "${BUILDAH[@]}" images -q localhost/pgtide/jre:17 >/dev/null 2>&1 \
    || "${BUILDAH[@]}" pull -q "oci-archive:$IMAGES_DIR/jre-17.tar" >/dev/null
  "${BUILDAH[@]}" images -q localhost/pgtide/backup-base:15 >/dev/null 2>&1 \
    || "${BUILDAH[@]}" pull -q "oci-archive:$IMAGES_DIR/backup-base-15.tar" >/dev/null
  for kind in operator sidecar backup; do
    local ref="localhost/pgtide/pgtide-$kind:test"
    log "building $ref from Dockerfile.$kind"
    "${BUILDAH[@]}" bud -q --pull=never --isolation chroot --build-arg JRE_IMAGE=localhost/pgtide/jre:17 \
      --build-arg BACKUP_BASE_IMAGE=localhost/pgtide/backup-base:15 \
      -f "$repo/Dockerfile.$kind" -t "$ref" "$repo" >/dev/null
    archive "$ref" "$IMAGES_DIR/pgtide-$kind-test.tar"
    "${BUILDAH[@]}" images --noheading --no-trunc --format '{{.ID}}' "$ref" | head -1 > "$IMAGES_DIR/pgtide-$kind-test.id"
  done
  # the image each rebuild replaced is left untagged: with the vfs driver every one is a full copy (~380 MB), so
  # a machine that builds often fills its disk (seen: 37 GB after a day of runs) unless they go
  "${BUILDAH[@]}" rmi --prune >/dev/null 2>&1 || true
}

import_images() {
  local sock=/run/pgtide-k8s/containerd.sock
  for f in "$IMAGES_DIR"/pause-2.tar "$IMAGES_DIR"/jre-17.tar "$IMAGES_DIR"/spilo-standin-15.tar \
           "$IMAGES_DIR"/pgtide-operator-test.tar "$IMAGES_DIR"/pgtide-sidecar-test.tar \
           "$IMAGES_DIR"/pgtide-backup-test.tar; do
    [ -f "$f" ] || continue
    ctr --address "$sock" -n k8s.io images import --no-unpack=false "$f" >/dev/null
  done
  # a second name for the stand-in: an image change without another image (the rolling update tests)
  ctr --address "$sock" -n k8s.io images tag --force localhost/pgtide/spilo-standin:15 \
    localhost/pgtide/spilo-standin:15-next >/dev/null
}

case "${1:-}" in
  system) system_images ;;
  project) project_images ;;
  import) import_images ;;
  *) die "usage: build-images.sh system|project|import" ;;
esac
