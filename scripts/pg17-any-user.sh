#!/usr/bin/env bash
# PostgreSQL 17's programs runnable on this Debian 12 machine by any user, without chroot: a copy of the Debian 13
# root filesystem scripts/pg17-root.sh builds, and beside it a tree laid out like Debian's (usr/lib/postgresql/17/bin,
# …/lib, usr/share/postgresql/17) whose programs are two-line wrappers starting the real ones with Debian 13's own
# loader and libraries. --argv0 keeps PostgreSQL's path resolution on the wrapper tree: pg_ctl starts the postgres
# wrapper, the server finds its share and lib directories there. Local mode's major upgrade tests run it as the
# PostgreSQL 17 of PGTIDE_PG_BIN_DIR_17; pg_upgrade from it runs the host's 15 natively. Lives where the postgres user
# can read it (root's ~/.cache is 0700): /var/cache/pgtide as root. Keyed by its inputs, built once, atomically,
# under a lock; prints the bin directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/k8s/lib.sh"
log() { echo "pgtide pg17-any-user: $*" >&2; }

root=$(bash "$here/pg17-root.sh")
key=$( (basename "$root"; cat "$here/pg17-any-user.sh") | sha256sum | cut -c1-16)
if [ "$(id -u)" -eq 0 ]; then base=/var/cache/pgtide; else base="$PGTIDE_CACHE"; fi
dest="$base/pg17-any-user-$key"
bin="$dest/tree/usr/lib/postgresql/17/bin"
if [ -e "$dest/.pgtide-complete" ]; then echo "$bin"; exit 0; fi
mkdir -p "$base"
chmod 755 "$base"
exec 9>"$base/.pg17-any-user.lock"
flock 9
if [ -e "$dest/.pgtide-complete" ]; then echo "$bin"; exit 0; fi
tmp="$dest.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
cp -a "$root" "$tmp/root"
r="$dest/root" # the final path: the wrappers name it
mkdir -p "$tmp/tree/usr/lib/postgresql/17/bin" "$tmp/tree/usr/share/postgresql"
ln -s "$r/usr/lib/postgresql/17/lib" "$tmp/tree/usr/lib/postgresql/17/lib"
ln -s "$r/usr/share/postgresql/17" "$tmp/tree/usr/share/postgresql/17"
for program in "$tmp/root/usr/lib/postgresql/17/bin/"*; do
  name=$(basename "$program")
  printf '#!/bin/sh\nexec %s/lib64/ld-linux-x86-64.so.2 --library-path %s/usr/lib/x86_64-linux-gnu:%s/lib/x86_64-linux-gnu --argv0 "$0" %s/usr/lib/postgresql/17/bin/%s "$@"\n' \
    "$r" "$r" "$r" "$r" "$name" > "$tmp/tree/usr/lib/postgresql/17/bin/$name"
  chmod 755 "$tmp/tree/usr/lib/postgresql/17/bin/$name"
done
chmod 755 "$tmp"
mv -T "$tmp" "$dest"
"$bin/postgres" -V >&2 || die "$bin/postgres does not run"
touch "$dest/.pgtide-complete"
log "laid out $dest"
echo "$bin"
