#!/usr/bin/env bash
# mmdebstrap customize hook for the test tier's Spilo image: lays Spilo's own sources out in the root filesystem "$1"
# the way Spilo's Dockerfile and build_scripts/ do, and builds what Debian does not package (bg_mon, pg_auth_mon,
# cron_unprivileged.so). Reads the sources in place from $THIRD_PARTY (never copied into pgtide's repository).
# Runs on the host as root; the packages it builds with were installed by mmdebstrap and are purged at the end.
# Every deviation from Spilo's Dockerfile is listed in the README (Kubernetes for real: the Spilo image).
set -euo pipefail
root=$1
: "${THIRD_PARTY:?THIRD_PARTY must name the folder holding spilo/, bg_mon/ and pg_auth_mon/}"
: "${PGVERSION:?}" "${OLD_PGVERSION:?}" "${PATRONIVERSION:?}" "${BUILD_PACKAGES:?}"
spilo="$THIRD_PARTY/spilo/postgres-appliance"
in_root() { chroot "$root" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }

mkdir -p "$root/builddeps"
cp -a "$THIRD_PARTY/bg_mon" "$THIRD_PARTY/pg_auth_mon" "$spilo/cron_unprivileged.c" \
  "$spilo/build_scripts/post_build.sh" "$root/builddeps/"

# prepare.sh: no recommends; envdir; chrt/renice without root; no distribution cron jobs
printf 'APT::Install-Recommends "0";\nAPT::Install-Suggests "0";\n' > "$root/etc/apt/apt.conf.d/01norecommend"
ln -sf chpst "$root/usr/bin/envdir"
rm -rf "$root"/etc/cron.??*
truncate --size 0 "$root/etc/crontab"
# locales.sh: en_US.UTF-8 only, in an archive that launch.sh selects through /run/locale-archive
echo "en_US.UTF-8 UTF-8" > "$root/usr/share/i18n/SUPPORTED"
in_root localedef -i en_US -c -f UTF-8 -A /usr/share/locale/locale.alias en_US.UTF-8
mv "$root/usr/lib/locale/locale-archive" "$root/usr/lib/locale/locale-archive.22"
ln -s /run/locale-archive "$root/usr/lib/locale/locale-archive"
ln -s /usr/lib/locale/locale-archive.22 "$root/run/locale-archive"

# base.sh: no main cluster from the packages; Zalando's extensions built with PGXS; cron without root
sed -ri 's/#(create_main_cluster) .*$/\1 = false/' "$root/etc/postgresql-common/createcluster.conf"
# For the older major (Debian 12's), postgresql-server-dev would bring clang-14 and llvm-14-dev (for JIT bitcode, which
# these builds skip with with_llvm=no): its files are unpacked in place without dpkg, where its pg_config and PGXS
# expect them (its pg_config and PGXS themselves are postgresql-client's), and removed after the build (what no
# installed package owns)
in_root sh -c "cd /builddeps && apt-get download -qq -o APT::Sandbox::User=root postgresql-server-dev-$OLD_PGVERSION"
dev_deb=$(echo "$root"/builddeps/postgresql-server-dev-"$OLD_PGVERSION"_*.deb)
dpkg-deb --fsys-tarfile "$dev_deb" | tar -t | sed 's|^\./|/|; s|/$||; /^$/d' | LC_ALL=C sort > "$root/builddeps/dev.files"
cat "$root"/var/lib/dpkg/info/*.list | LC_ALL=C sort -u > "$root/builddeps/owned.files"
dpkg-deb -x "$dev_deb" "$root"
for major in "$PGVERSION" "$OLD_PGVERSION"; do
  for n in bg_mon pg_auth_mon; do
    in_root make -s -C "/builddeps/$n" USE_PGXS=1 PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" with_llvm=no \
      clean install-strip >/dev/null
  done
done
# files first, then the directories left empty, deepest first
LC_ALL=C comm -23 "$root/builddeps/dev.files" "$root/builddeps/owned.files" > "$root/builddeps/unowned.files"
while read -r f; do
  if [ -L "$root$f" ] || [ ! -d "$root$f" ]; then rm -f "$root$f"; fi
done < "$root/builddeps/unowned.files"
sort -r "$root/builddeps/unowned.files" | while read -r f; do
  if [ -d "$root$f" ]; then rmdir --ignore-fail-on-non-empty "$root$f"; fi
done
in_root gcc -s -shared -fPIC -o /usr/local/lib/cron_unprivileged.so /builddeps/cron_unprivileged.c

# patroni_wale.sh: Patroni from PyPI at Spilo's version, its dependencies from Debian (installed by mmdebstrap).
# The host's pip fetches the wheel (it has the host's index and certificate settings); pip in the root installs it
# without an index, so a dependency Debian did not provide fails the build here rather than at Patroni's start
mkdir -p "$root/builddeps/wheels"
"${PIP:-pip3}" download --quiet --no-deps --dest "$root/builddeps/wheels" "patroni==$PATRONIVERSION"
in_root pip3 install --quiet --no-cache-dir --no-index --find-links /builddeps/wheels --break-system-packages \
  --root-user-action=ignore "patroni[kubernetes]==$PATRONIVERSION"
in_root apt-get purge -y -qq ${BUILD_PACKAGES//,/ } >/dev/null
in_root apt-get autoremove -y -qq >/dev/null

# the Dockerfile's COPY lines
cp "$spilo/motd" "$root/etc/motd"
# /etc/service is Ubuntu's link to runit's default service directory (configure_spilo.py links the services it
# enables from there into $RW_DIR/service, which post_build.sh makes /etc/service): the COPY lands there
mkdir -p "$root/etc/runit/runsvdir/default" "$root/scripts" "$root/home/postgres"
ln -sfn /etc/runit/runsvdir/default "$root/etc/service"
cp -a "$spilo/runit/." "$root/etc/runit/runsvdir/default/"
cp "$spilo/pgq_ticker.ini" "$root/home/postgres/"
# post_build.sh runs before the scripts are copied, as in the Dockerfile
in_root env PGHOME=/home/postgres RW_DIR=/run COMPRESS=false \
  PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/postgresql/$PGVERSION/bin" \
  sh /builddeps/post_build.sh >/dev/null 2>"$root/builddeps/post_build.log" \
  || { cat "$root/builddeps/post_build.log" >&2; exit 1; }
for d in scripts bootstrap major_upgrade; do cp -a "$spilo/$d/." "$root/scripts/"; done
# Debian 12 packages no TimescaleDB for the older major, and PostgreSQL refuses to start with a preloaded library it
# cannot find: Spilo preloads (and allows through pgextwlist) timescaledb from 9.6 on, here from 16 on, so a 15 cluster
# runs without it and 17 gets it (configure_spilo.py, and inplace_upgrade.py after an upgrade, add it by the same table)
sed -ri "s/^(    'timescaledb': +\()9\.6,/\116,/" "$root/scripts/spilo_commons.py"
grep -q "^    'timescaledb': *(16, " "$root/scripts/spilo_commons.py" \
  || { echo "spilo_commons.py: timescaledb's minimum major not found to patch" >&2; exit 1; }
cp "$spilo/launch.sh" "$root/launch.sh"
rm -rf "$root/builddeps"
