#!/usr/bin/env bash
# Container images for the real-Kubernetes tier, built here without a registry or a Docker engine:
#   system   pause (tini-static reaping, busybox-static sleeping), a Debian JRE base, the backup agent's base (JRE, Barman,
#            PostgreSQL 17) and Spilo built from Spilo's own sources (PostgreSQL 17 and 15, Patroni 4.0.4), made with
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

# Spilo's postgres user is uid 101, gid 103 (what Zalando's spilo_runasuser/spilo_fsgroup default to); created
# before the packages so postgresql-common keeps it, and the sidecar (same uid) may signal it when fencing
# (passwd and group only: the passwd package's own postinst writes the shadow entries)
spilo_user='echo "postgres:x:103:" >> "$1/etc/group";
  echo "postgres:x:101:103:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash" >> "$1/etc/passwd"'

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
  mmdebstrap --quiet --variant=minbase --include="$pkgs" --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    --dpkgopt='path-exclude=/usr/share/man/*' \
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
  spilo_image
  sealed_secrets_image
  # the backup agent's base: a JRE, Barman and PostgreSQL 17 (its client tools stream WAL and base backups, which a
  # client of an older major refuses against a newer server; its server is the scratch instance a verification
  # restores into), the postgres user as in Spilo; Debian 13 like the Spilo image (its JRE is 21)
  # Spilo initialises its clusters with the en_US.UTF-8 locale: a restore or verification starts PostgreSQL on their
  # data here, which refuses to start without it
  local backup_pkgs="openjdk-21-jre-headless,ca-certificates-java,barman,postgresql-17,postgresql-client-17,procps,tini"
  backup_pkgs+=",rclone,locales"
  local backup_hook='chroot "$1" localedef -i en_US -c -f UTF-8 en_US.UTF-8'
  local backup_key; backup_key=$(echo "trixie $backup_pkgs $spilo_user $backup_hook" | key_of -)
  SUITE=trixie debian_image localhost/pgtide/backup-base:17 "$IMAGES_DIR/backup-base-$backup_key.tar" "$backup_pkgs" \
    "$backup_hook" '["java"]' 0 "$spilo_user"
  ln -sf "backup-base-$backup_key.tar" "$IMAGES_DIR/backup-base-17.tar"
}

# Sealed Secrets' controller (built by build-binaries.sh, static) on an empty root, as its own image is: the
# sealed-password test installs it with its project's Helm chart
sealed_secrets_image() {
  local out="$IMAGES_DIR/sealed-secrets-controller-$SEALED_SECRETS_VERSION-$GO_VERSION.tar"
  if [ ! -f "$out" ]; then
    [ -x "$SEALED_SECRETS_DIR/bin/controller" ] || die "build-binaries.sh builds the Sealed Secrets controller first"
    log "building localhost/pgtide/sealed-secrets-controller:$SEALED_SECRETS_VERSION"
    local tmp; tmp=$(mktemp -d)
    mkdir -p "$tmp/root/usr/local/bin" "$tmp/root/tmp"
    chmod 1777 "$tmp/root/tmp"
    cp "$SEALED_SECRETS_DIR/bin/controller" "$tmp/root/usr/local/bin/controller"
    tar -C "$tmp/root" -cf "$tmp/rootfs.tar" .
    local ref="localhost/pgtide/sealed-secrets-controller:$SEALED_SECRETS_VERSION"
    "${BUILDAH[@]}" rmi -f "$ref" >/dev/null 2>&1 || true
    pack_rootfs "$ref" "$tmp/rootfs.tar" '["/usr/local/bin/controller"]' 1001 "PATH=/usr/local/bin:/usr/bin:/bin"
    archive "$ref" "$out"
    rm -rf "$tmp"
  fi
  ln -sf "$(basename "$out")" "$IMAGES_DIR/sealed-secrets-controller.tar"
}

# Spilo built from Spilo's own sources (../shared/third-party, read in place): Debian 13's PostgreSQL 17 and the
# extensions Spilo preloads, bg_mon and pg_auth_mon compiled from Zalando's sources, Patroni from PyPI at Spilo's
# version, Spilo's scripts, runit services and launch.sh laid out as its Dockerfile does (scripts/k8s/spilo-rootfs.sh).
# Like Zalando's spilo-17 images it also holds an older major, for Spilo's in-place upgrade (major_upgrade/, pg_upgrade
# with both majors' binaries): Debian 12's PostgreSQL 15 (Debian 13 has only 17), from a second source, bookworm,
# pinned below trixie so that only what trixie lacks comes from it (PostgreSQL 15 and the libraries it was built
# against: ICU 72, LLVM 14, …); the source and its pin are removed again, the image's apt sees trixie only.
# Debian 12 has no pgvector and no TimescaleDB for 15 (spilo-rootfs.sh keeps Spilo from preloading the latter there)
SPILO_PGVERSION=17
SPILO_OLD_PGVERSION=15
SPILO_PATRONI=4.0.4
spilo_image() {
  local tp; tp=$(third_party)
  local build_pkgs="postgresql-server-dev-$SPILO_PGVERSION,gcc,make,libc6-dev,libevent-dev,libbrotli-dev,libkrb5-dev"
  build_pkgs+=",libssl-dev,python3-pip"
  local v=$SPILO_PGVERSION
  # (cron wants a sysusers: the standalone one rather than all of systemd)
  local pkgs="ca-certificates,curl,less,locales,jq,vim-tiny,cron,systemd-standalone-sysusers,runit,dumb-init,rsync"
  pkgs+=",sysstat,procps,iproute2"
  pkgs+=",openssl,passwd,python3,python3-yaml,python3-requests,python3-pystache,python3-psycopg2,python3-psutil"
  pkgs+=",python3-six,python3-dateutil,python3-click,python3-prettytable,python3-urllib3,python3-ydiff,python3-cdiff"
  pkgs+=",postgresql-common,postgresql-$v,postgresql-client-$v,postgresql-plpython3-$v,postgresql-$v-cron"
  pkgs+=",postgresql-$v-pgextwlist,postgresql-$v-pgq3,postgresql-$v-pg-stat-kcache,postgresql-$v-set-user"
  pkgs+=",postgresql-$v-timescaledb,postgresql-$v-pgvector,postgresql-$v-hypopg,pgqd,pgbouncer"
  pkgs+=",libevent-2.1-7t64,libevent-pthreads-2.1-7t64,libbrotli1"
  local o=$SPILO_OLD_PGVERSION
  pkgs+=",postgresql-$o,postgresql-client-$o,postgresql-plpython3-$o,postgresql-$o-cron,postgresql-$o-pgextwlist"
  pkgs+=",postgresql-$o-pgq3,postgresql-$o-pg-stat-kcache,postgresql-$o-set-user,postgresql-$o-hypopg"
  local deb=http://deb.debian.org/debian
  local pin='Package: *\nPin: release n=bookworm\nPin-Priority: 100\n'
  local key; key=$( (echo "$pkgs $build_pkgs $SPILO_PATRONI $spilo_user"; declare -f spilo_image; cat "$here/spilo-rootfs.sh";
    cd "$tp" && find spilo bg_mon pg_auth_mon -type f | LC_ALL=C sort | xargs sha256sum) | key_of -)
  local out="$IMAGES_DIR/spilo-$v-$key.tar"
  if [ ! -f "$out" ]; then
    log "building localhost/pgtide/spilo:$v from $tp (mmdebstrap trixie + bookworm: PostgreSQL $v and $o, Patroni $SPILO_PATRONI)"
    local tmp; tmp=$(mktemp -d)
    # (/usr/share/locale stays: the locales package and localedef read its locale.alias)
    # (/run kept: post_build.sh hands it, /run/postgresql among it, to the postgres user, as Spilo's image has it)
    # (the sources: the three mmdebstrap writes by itself for trixie, which naming one replaces, plus bookworm; the
    # pin is a setup hook, before the packages are chosen; spilo-rootfs.sh still fetches from bookworm)
    mmdebstrap --quiet --variant=minbase --include="$pkgs,$build_pkgs" --skip=cleanup/run \
      --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
      --essential-hook="$spilo_user" --setup-hook='mkdir -p "$1/usr/share/man/man1"' \
      --setup-hook="mkdir -p \"\$1/etc/apt/preferences.d\"; printf '$pin' > \"\$1/etc/apt/preferences.d/bookworm\"" \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
      --customize-hook="THIRD_PARTY='$tp' PGVERSION=$v OLD_PGVERSION=$o PATRONIVERSION=$SPILO_PATRONI BUILD_PACKAGES='$build_pkgs' PIP='$(command -v pip3)' bash $here/spilo-rootfs.sh \"\$1\"" \
      --customize-hook='sed -i "/ bookworm /d; /^$/d" "$1/etc/apt/sources.list"; rm "$1/etc/apt/preferences.d/bookworm"' \
      --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
      trixie "$tmp/rootfs.tar" "deb $deb trixie main" "deb $deb trixie-updates main" \
      "deb http://security.debian.org/debian-security trixie-security main" "deb $deb bookworm main"
    "${BUILDAH[@]}" rmi -f "localhost/pgtide/spilo:$v" >/dev/null 2>&1 || true
    local c; c=$("${BUILDAH[@]}" from scratch)
    "${BUILDAH[@]}" add "$c" "$tmp/rootfs.tar" / >/dev/null
    # the Dockerfile's ENV, WORKDIR and CMD
    "${BUILDAH[@]}" config --entrypoint '[]' --cmd '["/bin/sh", "/launch.sh", "init"]' --user 0 \
      --workingdir /home/postgres --port 5432 --port 8008 --port 8080 \
      --env PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/postgresql/$v/bin" \
      --env LC_ALL=en_US.utf-8 --env PGHOME=/home/postgres --env RW_DIR=/run --env DEMO=false \
      --env WALE_ENV_DIR=/run/etc/wal-e.d/env --env LOG_ENV_DIR=/run/etc/log.d/env \
      --env PGROOT=/home/postgres/pgdata/pgroot --env PGDATA=/home/postgres/pgdata/pgroot/data \
      --env PGLOG=/home/postgres/pgdata/pgroot/pg_log --env USE_OLD_LOCALES=false "$c"
    "${BUILDAH[@]}" commit -q "$c" "localhost/pgtide/spilo:$v" >/dev/null
    "${BUILDAH[@]}" rm "$c" >/dev/null
    archive "localhost/pgtide/spilo:$v" "$out"
    rm -rf "$tmp"
  fi
  ln -sf "spilo-$v-$key.tar" "$IMAGES_DIR/spilo-$v.tar"
}

project_images() {
  [ -f "$repo/operator/target/pgtide-operator.jar" ] && [ -f "$repo/sidecar/target/pgtide-sidecar.jar" ] \
    || die "build the jars first (mvn package)"
  [ -f "$repo/backup/target/pgtide-backup.jar" ] || die "build the jars first (mvn package)"
  "${BUILDAH[@]}" images -q localhost/pgtide/jre:17 >/dev/null 2>&1 \
    || "${BUILDAH[@]}" pull -q "oci-archive:$IMAGES_DIR/jre-17.tar" >/dev/null
  "${BUILDAH[@]}" images -q localhost/pgtide/backup-base:17 >/dev/null 2>&1 \
    || "${BUILDAH[@]}" pull -q "oci-archive:$IMAGES_DIR/backup-base-17.tar" >/dev/null
  for kind in operator sidecar backup; do
    local ref="localhost/pgtide/pgtide-$kind:test"
    log "building $ref from Dockerfile.$kind"
    "${BUILDAH[@]}" bud -q --pull=never --isolation chroot --build-arg JRE_IMAGE=localhost/pgtide/jre:17 \
      --build-arg BACKUP_BASE_IMAGE=localhost/pgtide/backup-base:17 \
      -f "$repo/Dockerfile.$kind" -t "$ref" "$repo" >/dev/null
    archive "$ref" "$IMAGES_DIR/pgtide-$kind-test.tar"
    "${BUILDAH[@]}" images --noheading --no-trunc --format '{{.ID}}' "$ref" | head -1 > "$IMAGES_DIR/pgtide-$kind-test.id"
  done
  # the image each rebuild replaced is left untagged: with the vfs driver every one is a full copy (~380 MB), so
  # a machine that builds often fills its disk (seen: 37 GB after a day of runs) unless they go
  "${BUILDAH[@]}" rmi --prune >/dev/null 2>&1 || true
}

import_images() { # into one node's containerd (PGTIDE_CONTAINERD_SOCK), or into every node's
  if [ -z "${PGTIDE_CONTAINERD_SOCK:-}" ]; then
    # every node at once: an import is mostly reading and unpacking, and three in a row cost ~95 s each
    local pids=() i failed=0
    for i in $(seq 1 "$NODES"); do (PGTIDE_CONTAINERD_SOCK=$(node_sock "$i") import_images) & pids+=($!); done
    for i in "${pids[@]}"; do wait "$i" || failed=1; done
    [ $failed = 0 ] || die "importing the images into a node's containerd failed"
    return
  fi
  local sock=$PGTIDE_CONTAINERD_SOCK
  for f in "$IMAGES_DIR"/pause-2.tar "$IMAGES_DIR"/jre-17.tar "$IMAGES_DIR"/spilo-17.tar \
           "$IMAGES_DIR"/pgtide-operator-test.tar "$IMAGES_DIR"/pgtide-sidecar-test.tar \
           "$IMAGES_DIR"/pgtide-backup-test.tar "$IMAGES_DIR"/sealed-secrets-controller.tar; do
    [ -f "$f" ] || continue
    # what this node's containerd already holds from this very archive is not imported again (~30 s each)
    local stamp; stamp="$(dirname "$sock")/imported-$(basename "$f").stamp"
    [ "$(cat "$stamp" 2>/dev/null)" = "$(stat -c '%s %Y' "$f")" ] && continue
    ctr --address "$sock" -n k8s.io images import --no-unpack=false "$f" >/dev/null
    stat -c '%s %Y' "$f" > "$stamp"
  done
  # a second name for the Spilo image: an image change without another image (the rolling update tests)
  ctr --address "$sock" -n k8s.io images tag --force localhost/pgtide/spilo:17 localhost/pgtide/spilo:17-next >/dev/null
}

case "${1:-}" in
  system) system_images ;;
  project) project_images ;;
  import) import_images ;;
  *) die "usage: build-images.sh system|project|import" ;;
esac
