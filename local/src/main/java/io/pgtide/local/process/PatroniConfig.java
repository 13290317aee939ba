package io.pgtide.local.process;

import io.pgtide.common.secrets.BasicCredentials;
import io.pgtide.common.secrets.ClusterSecrets;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Renders a member's {@code patroni.yml} for an etcd (v3) DCS on loopback. Everything on loopback is reachable by
 * every user of the machine, so: etcd is dialled with the cluster's client certificate, the REST API takes
 * credentials for whatever changes state, TCP logins need a password, and the socket (trusted) is the owner's only.
 */
final class PatroniConfig {
  private PatroniConfig() {
  }

  static String yaml(String scope, String name, Path dir, int pgPort, int restPort, String etcdHosts, Path etcdTls,
                     PatroniTiming t, Map<String, String> parameters, ClusterSecrets s, BasicCredentials rest,
                     String binDir) {
    Map<String, String> params = new TreeMap<>(Map.of(
        "max_connections", "100", "shared_buffers", "32MB", "wal_level", "replica", "hot_standby", "on",
        "max_wal_senders", "10", "max_replication_slots", "10", "wal_keep_size", "128MB",
        "shared_preload_libraries", "pg_stat_statements", "track_io_timing", "off"));
    params.putAll(parameters);
    StringBuilder pg = new StringBuilder();
    params.forEach((k, v) -> pg.append("        ").append(k).append(": ").append(quote(v)).append('\n'));
    return header(scope, name, restPort, rest, etcdHosts, etcdTls) + bootstrap(t, pg.toString())
        + postgresql(name, dir, pgPort, s, binDir) + TAGS;
  }

  /** Who the member is, its REST API (credentials for whatever changes state), and the DCS (etcd with TLS). */
  private static String header(String scope, String name, int restPort, BasicCredentials rest, String etcdHosts,
                               Path etcdTls) {
    return """
        scope: %s
        name: %s
        log:
          level: INFO
        restapi:
          listen: 127.0.0.1:%d
          connect_address: 127.0.0.1:%d
          authentication:
            username: %s
            password: %s
        etcd3:
          hosts: %s
          protocol: https
          cacert: %s
          cert: %s
          key: %s
        """.formatted(scope, name, restPort, restPort, quote(rest.username()), quote(rest.password()), etcdHosts,
        etcdTls.resolve("ca.crt"), etcdTls.resolve("tls.crt"), etcdTls.resolve("tls.key"));
  }

  /** What the first member writes to the DCS: timing, synchronous mode, and the cluster's parameters. */
  private static String bootstrap(PatroniTiming t, String parameters) {
    return """
        bootstrap:
          dcs:
            ttl: %d
            loop_wait: %d
            retry_timeout: %d
            maximum_lag_on_failover: %d
            synchronous_mode: %s
            postgresql:
              use_pg_rewind: true
              use_slots: true
              parameters:
        %s  initdb:
            - encoding: UTF8
            - data-checksums
        """.formatted(t.ttl(), t.loopWait(), t.retryTimeout(), t.maximumLagOnFailover(), t.synchronousMode(),
        parameters);
  }

  /** The member's PostgreSQL: where it listens and keeps its data, its users, csvlog, TLS and pg_hba. */
  private static String postgresql(String name, Path dir, int pgPort, ClusterSecrets s, String binDir) {
    Path tls = LocalServerTls.dir(dir.getParent());
    return """
        postgresql:
          listen: 127.0.0.1:%d
          connect_address: 127.0.0.1:%d
          data_dir: %s
          bin_dir: %s
          pgpass: %s
          authentication:
            superuser:
              username: %s
              password: %s
            replication:
              username: %s
              password: %s
            rewind:
              username: %s
              password: %s
          parameters:
            unix_socket_directories: %s
            unix_socket_permissions: '0700'
            # csvlog as on Spilo (configure_spilo.py), one directory per member under D/logs, read by the sidecar
            # for `pgtide logs`; times in UTC so every member's lines merge on one clock
            logging_collector: 'on'
            log_destination: csvlog
            log_directory: %s
            log_filename: 'postgresql-%%u.log'
            log_file_mode: '0600'
            log_rotation_age: '1d'
            log_truncate_on_rotation: 'on'
            log_timezone: 'UTC'
            # the certificate from the cluster's CA (LocalServerTls), as Spilo's on Kubernetes; TLS offered, not
            # required: loopback logins without it still work (pg_hba says host, not hostssl)
            ssl: 'on'
            ssl_cert_file: %s
            ssl_key_file: %s
            ssl_ca_file: %s
          pg_hba:
            # the socket's directory and the socket are the owner's only (0700)
            - local all all trust
            - host replication %s 127.0.0.1/32 scram-sha-256
            - host all all 127.0.0.1/32 scram-sha-256
            - host all all ::1/128 scram-sha-256
        """.formatted(pgPort, pgPort, dir.resolve("data"), binDir, dir.resolve("pgpass"),
        s.superuser(), quote(s.superuserPassword()), s.replicationUser(), quote(s.replicationPassword()),
        s.superuser(), quote(s.superuserPassword()), dir, PatroniMember.postgresLogDir(dir.getParent(), name),
        tls.resolve("tls.crt"), tls.resolve("tls.key"), tls.resolve("ca.crt"), s.replicationUser());
  }

  private static final String TAGS = """
        tags:
          nofailover: false
          noloadbalance: false
          clonefrom: false
          nosync: false
        """;

  private static String quote(String value) {
    return "'" + value.replace("'", "''") + "'";
  }
}
