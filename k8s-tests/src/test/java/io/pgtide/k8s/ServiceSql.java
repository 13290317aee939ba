package io.pgtide.k8s;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * SQL through a Kubernetes Service from the node, as a client in the cluster network sees it: Debian's psql to the
 * Service's ClusterIP (kube-proxy's rules route it), with SSL as Spilo requires of remote clients.
 */
final class ServiceSql {
  private final String host;
  private final String user;
  private final String password;
  private final String database;

  private ServiceSql(String host, String user, String password, String database) {
    this.host = host;
    this.user = user;
    this.password = password;
    this.database = database;
  }

  static ServiceSql of(RealKubernetes k8s, String namespace, String service, String user, String password) {
    String ip = k8s.client().services().inNamespace(namespace).withName(service).get().getSpec().getClusterIP();
    return new ServiceSql(ip, user, password, "postgres");
  }

  /** The same client to one address (a pod's), as a client of a Service without a selector reaches it. */
  static ServiceSql toAddress(String ip, String user, String password) {
    return new ServiceSql(ip, user, password, "postgres");
  }

  /** The same connection to another database. */
  ServiceSql database(String name) {
    return new ServiceSql(host, user, password, name);
  }

  /** Unaligned, tuples-only output of one statement; fails with psql's message. */
  String query(String sql) {
    return run("require", sql, true);
  }

  void exec(String sql) {
    run("require", sql, true);
  }

  /** Whether a plain (non-SSL) connection is refused by the server's pg_hba. */
  boolean refusedWithoutSsl() {
    String out = run("disable", "SELECT 1", false);
    return out.contains("no encryption") || out.contains("pg_hba.conf");
  }

  /** A conninfo value: a role name may hold spaces, quotes and backslashes. */
  private static String quoted(String value) {
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }

  private String run(String sslmode, String sql, boolean mustSucceed) {
    List<String> cmd = List.of("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d",
        "host=" + host + " port=5432 dbname=" + quoted(database) + " user=" + quoted(user) + " sslmode=" + sslmode
            + " connect_timeout=5",
        "-c", sql);
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().put("PGPASSWORD", password);
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      int rc = p.waitFor();
      if (mustSucceed && rc != 0) {
        throw new IllegalStateException("psql to " + host + " failed: " + out);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
