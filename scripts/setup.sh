#!/usr/bin/env bash
# Installs the Debian packages pgtide runs and tests with. Idempotent: does nothing when they are present.
# Uses sudo only when not root. Needs: a JDK 17+ and Maven on PATH (checked, not installed).
set -euo pipefail

# pgbouncer: spec.pooler in local mode (its Debian service, where systemd starts it, is not used: pgtide runs its own)
# python3-idna: Patroni's etcd client (python3-etcd, through pyOpenSSL) needs it for TLS, which local mode's etcd demands
packages=(postgresql-15 postgresql-client-15 patroni python3-etcd python3-idna etcd-server prometheus-pushgateway
          prometheus-postgres-exporter prometheus barman barman-cli rclone pgbouncer
          lua5.1 lua-cjson) # lua: the ArgoCD health check (examples/gitops/health) run as ArgoCD runs it (Lua 5.1)
# the dashboard's end-to-end test drives Debian's Chromium headless; PGTIDE_NO_BROWSER=1 leaves it out (the failover part of that test still runs)
if [ "${PGTIDE_NO_BROWSER:-0}" != "1" ]; then
  packages+=(chromium)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "pgtide setup: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo_cmd=(sudo)
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Debian starts the packaged services on install where an init system runs; pgtide starts its own on free ports.
# (prometheus is here for promtool, which tests the alert rules)
for svc in etcd prometheus prometheus-pushgateway prometheus-postgres-exporter; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    ${sudo_cmd[@]+"${sudo_cmd[@]}"} systemctl stop "$svc" || true
  fi
done

command -v java >/dev/null || { echo "pgtide setup: a JDK 17+ is required (java not found)" >&2; exit 1; }
command -v mvn >/dev/null || { echo "pgtide setup: Maven is required (mvn not found)" >&2; exit 1; }
test -x /usr/lib/postgresql/15/bin/postgres || { echo "pgtide setup: PostgreSQL 15 binaries missing" >&2; exit 1; }
/usr/bin/python3 -c 'import etcd' 2>/dev/null || { echo "pgtide setup: python3-etcd missing" >&2; exit 1; }
/usr/bin/python3 -c 'import idna' 2>/dev/null || { echo "pgtide setup: python3-idna missing" >&2; exit 1; }
echo "pgtide setup: ok"
