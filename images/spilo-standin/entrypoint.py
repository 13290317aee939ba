#!/usr/bin/python3
"""A stand-in for Spilo's entrypoint, for the real-Kubernetes test tier only (pgtide's default image stays Spilo's).

It reads the part of Spilo's environment contract that pgtide's operator writes and produces what Spilo's own
configure_spilo.py produces from it (measured: ../shared/real-kubernetes.md), so what passes against this image
would pass against Spilo:
  - Patroni on the Kubernetes DCS, leader lock and config in ConfigMaps (KUBERNETES_USE_CONFIGMAPS), labels from
    KUBERNETES_LABELS / KUBERNETES_SCOPE_LABEL / KUBERNETES_ROLE_LABEL, leader labelled "master", bypass_api_service
  - PostgreSQL on *:5432, Patroni's REST API on :8008; remote clients must use SSL (hostnossl ... reject), a
    self-signed server certificate is generated; loopback and the local socket accept plain connections
  - superuser and standby users from PGUSER_/PGPASSWORD_SUPERUSER and _STANDBY; data in $PGROOT/data
  - SPILO_CONFIGURATION (JSON or YAML) merged over the defaults; its bootstrap.dcs is Patroni's bootstrap.dcs
  - pg_stat_statements preloaded and created after bootstrap (bg_mon is not packaged by Debian: not reproduced)
What differs: PostgreSQL is Debian's 15 whatever PGVERSION says (a mismatch is logged), no WAL-E/WAL-G, no cron.
"""
import json
import os
import pwd
import subprocess
import sys

import yaml

BIN_DIR = "/usr/lib/postgresql/15/bin"
CERT_DIR = "/run/certs"
CONFIG = "/home/postgres/postgres.yml"


def env(name, default=None):
    value = os.environ.get(name)
    return default if value in (None, "") else value


def merge(base, override):
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def config():
    pgroot = env("PGROOT", "/home/postgres/pgdata/pgroot")
    pod_ip = env("POD_IP", "127.0.0.1")
    superuser = env("PGUSER_SUPERUSER", "postgres")
    standby = env("PGUSER_STANDBY", "standby")
    labels = json.loads(env("KUBERNETES_LABELS", '{"application": "spilo"}'))
    use_configmaps = env("KUBERNETES_USE_CONFIGMAPS", "false").lower() == "true"
    c = {
        "scope": env("SCOPE", "spilo"),
        "name": env("HOSTNAME", "postgres"),
        "log": {"level": "INFO"},
        "restapi": {"listen": "0.0.0.0:8008", "connect_address": pod_ip + ":8008"},
        "kubernetes": {
            "namespace": env("POD_NAMESPACE", "default"),
            "labels": labels,
            "scope_label": env("KUBERNETES_SCOPE_LABEL", "cluster-name"),
            "role_label": env("KUBERNETES_ROLE_LABEL", "spilo-role"),
            "use_endpoints": not use_configmaps,
            "pod_ip": pod_ip,
            "ports": [{"name": "postgresql", "port": 5432}],
            "bypass_api_service": True,
        },
        "bootstrap": {
            "dcs": {
                "ttl": 30, "loop_wait": 10, "retry_timeout": 10, "maximum_lag_on_failover": 33554432,
                "postgresql": {
                    "use_pg_rewind": True, "use_slots": True,
                    "parameters": {
                        "wal_level": "replica", "hot_standby": "on", "max_connections": 100,
                        "max_wal_senders": 10, "max_replication_slots": 10, "wal_keep_size": "128MB",
                        "wal_log_hints": "on", "track_commit_timestamp": "off",
                    },
                },
            },
            "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}, "data-checksums"],
            "post_bootstrap": "/usr/bin/python3 /opt/spilo-standin/entrypoint.py post-bootstrap",
        },
        "postgresql": {
            "listen": "*:5432",
            "connect_address": pod_ip + ":5432",
            "data_dir": pgroot + "/data",
            "bin_dir": BIN_DIR,
            "pgpass": "/run/postgresql/pgpass",
            # a new replica must not wait for a spread checkpoint (up to 0.9 x checkpoint_timeout on a busy primary,
            # which is when the autoscaler adds one). A difference from Spilo: its basebackup.sh leaves
            # pg_basebackup's default (spread) checkpoint
            "basebackup": [{"checkpoint": "fast"}],
            "authentication": {
                "superuser": {"username": superuser, "password": env("PGPASSWORD_SUPERUSER", "")},
                "replication": {"username": standby, "password": env("PGPASSWORD_STANDBY", "")},
            },
            "parameters": {
                "unix_socket_directories": "/var/run/postgresql",
                "shared_preload_libraries": "pg_stat_statements",
                "ssl": "on",
                "ssl_cert_file": CERT_DIR + "/server.crt",
                "ssl_key_file": CERT_DIR + "/server.key",
            },
            "pg_hba": [
                "local all all trust",
                "host all all 127.0.0.1/32 md5",
                "host all all ::1/128 md5",
                "local replication " + standby + " trust",
                "hostssl replication " + standby + " all md5",
                "hostnossl all all all reject",
                "hostssl all all all md5",
            ],
        },
    }
    spilo = env("SPILO_CONFIGURATION")
    if spilo:
        merge(c, yaml.safe_load(spilo) or {})
    return c


def server_certificate():
    if os.path.exists(CERT_DIR + "/server.crt"):
        return
    os.makedirs(CERT_DIR, exist_ok=True)
    subprocess.run(["openssl", "req", "-nodes", "-new", "-x509", "-subj", "/CN=spilo.dummy.org", "-days", "3650",
                    "-keyout", CERT_DIR + "/server.key", "-out", CERT_DIR + "/server.crt"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def post_bootstrap():
    # what Spilo's post_init does that pgtide relies on: pg_stat_statements exists in every new database
    # (Patroni runs this as postgres on the new primary; the local socket trusts it)
    for db in ("postgres", "template1"):
        subprocess.run(["psql", "-X", "-q", "-h", "/var/run/postgresql", "-d", db, "-c",
                        "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"], check=True)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "post-bootstrap":
        post_bootstrap()
        return
    if env("PGVERSION", "15") != "15":
        print("spilo-standin: PGVERSION=%s requested; this stand-in runs PostgreSQL 15" % env("PGVERSION"),
              flush=True)
    c = config()
    postgres = pwd.getpwnam("postgres")
    pgroot = os.path.dirname(c["postgresql"]["data_dir"])
    for d in (pgroot, "/home/postgres", "/var/run/postgresql", "/run/postgresql", CERT_DIR):
        os.makedirs(d, exist_ok=True)
        os.chown(d, postgres.pw_uid, postgres.pw_gid)
    server_certificate()
    for f in ("server.crt", "server.key"):
        os.chown(CERT_DIR + "/" + f, postgres.pw_uid, postgres.pw_gid)
    os.chmod(CERT_DIR + "/server.key", 0o600)
    with open(CONFIG, "w") as out:
        yaml.safe_dump(c, out, default_flow_style=False)
    os.chown(CONFIG, postgres.pw_uid, postgres.pw_gid)
    os.chmod(CONFIG, 0o600)
    os.setgroups([])
    os.setgid(postgres.pw_gid)
    os.setuid(postgres.pw_uid)
    os.environ["HOME"] = "/home/postgres"
    os.environ["PGHOST"] = "/var/run/postgresql"
    os.execvp("patroni", ["patroni", CONFIG])


if __name__ == "__main__":
    main()
