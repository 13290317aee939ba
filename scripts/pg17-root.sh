#!/usr/bin/env bash
# A Debian 13 (trixie) root filesystem with PostgreSQL 17, for the tests that run the sidecar's queries against a
# real PostgreSQL 17 on this Debian 12 machine (testkit's Postgres17 starts it with chroot). Built once with
# mmdebstrap into the cache outside the repository, keyed by its inputs (this script), and reused; prints the
# directory. Idempotent and atomic: built into a .tmp directory and renamed when complete, under a lock, so
# concurrent callers wait for one build. Runs as root (mmdebstrap and chroot need it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/k8s/lib.sh"
log() { echo "pgtide pg17-root: $*" >&2; }

SUITE=trixie
PACKAGES=postgresql-17 # the contrib modules (pg_stat_statements among them) are inside it since Debian's PG 10
arch=$(dpkg --print-architecture)
key=$( (echo "$SUITE $PACKAGES $arch"; cat "$here/pg17-root.sh") | sha256sum | cut -c1-16)
roots="$PGTIDE_CACHE/pg-roots"
dest="$roots/$SUITE-postgresql-17-$key"

done_mark() { [ -x "$1/usr/lib/postgresql/17/bin/postgres" ] && [ -e "$1/.pgtide-complete" ]; }

if done_mark "$dest"; then
  echo "$dest"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || die "must run as root (mmdebstrap into a directory, and the tests' chroot)"
mkdir -p "$roots"
exec 9>"$roots/.lock"
flock 9
if done_mark "$dest"; then # another caller built it while we waited
  echo "$dest"
  exit 0
fi
apt_install mmdebstrap
tmp="$dest.tmp"
# a build interrupted earlier: mmdebstrap unmounts what it mounted, so a leftover is plain files (checked first)
if grep -q " $tmp/" /proc/self/mounts; then
  die "$tmp still has mounts under it (an interrupted build); unmount them, then rerun"
fi
rm -rf "$tmp"
started=$(date +%s)
log "building $dest (mmdebstrap $SUITE: $PACKAGES; a few minutes, once)"
# no main cluster from the package (the tests run their own initdb)
mmdebstrap --quiet --variant=minbase --include="$PACKAGES" \
  --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --setup-hook='mkdir -p "$1/usr/share/man/man1" "$1/etc/postgresql-common/createcluster.d"' \
  --setup-hook='echo "create_main_cluster = false" > "$1/etc/postgresql-common/createcluster.d/pgtide.conf"' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
  --customize-hook='chroot "$1" id postgres >/dev/null' \
  "$SUITE" "$tmp" >&2
# /dev/null for initdb's shell redirections and /dev/shm for POSIX shared memory, made once nothing is mounted
grep -q " $tmp/" /proc/self/mounts && die "mmdebstrap left mounts under $tmp"
[ -c "$tmp/dev/null" ] || { rm -f "$tmp/dev/null"; mknod -m 666 "$tmp/dev/null" c 1 3; }
mkdir -p "$tmp/dev/shm" && chmod 1777 "$tmp/dev/shm"
touch "$tmp/.pgtide-complete"
mv -T "$tmp" "$dest"
log "built in $(( $(date +%s) - started )) s"
echo "$dest"
