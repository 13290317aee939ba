package io.pgtide.operator.pooler;

import io.pgtide.common.crd.PostgresClusterSpec;
import java.nio.file.Path;

/**
 * Renders {@code pgbouncer.ini} (PgBouncer 1.18, Debian 12's) from {@code spec.pooler}, where PgBouncer listens,
 * where the primary is and which TLS files it has. Every database goes to the one target ({@code *}); clients log in
 * with their own passwords, looked up through {@link PoolerSql#AUTH_QUERY}. Pure: the caller writes the file and
 * reloads PgBouncer (SIGHUP) when the target moves, which keeps client connections.
 */
public final class PgBouncerConfig {
  /** Where PgBouncer accepts clients. */
  public record Listen(String address, int port) {
  }

  /** The PostgreSQL it pools for (the primary, or the replicas' endpoint). */
  public record Target(String host, int port) {
  }

  /**
   * TLS files, each may be null: {@code serverCa} makes PgBouncer verify the server ({@code verify-full}: the CA and
   * the target's host name); {@code clientCert} and {@code clientKey} let clients ask for TLS.
   */
  public record Tls(Path serverCa, Path clientCert, Path clientKey) {
    public static final Tls NONE = new Tls(null, null, null);
  }

  private PgBouncerConfig() {
  }

  /**
   * The ini. {@code authFile} holds {@value PoolerSql#ROLE}'s own password (see {@link #authFileLine}); {@code
   * socketDir} null means no Unix socket (clients and the admin console use TCP).
   */
  public static String ini(PostgresClusterSpec.PoolerSpec spec, Listen listen, Target target, Tls tls, Path authFile,
                           Path socketDir) {
    StringBuilder out = new StringBuilder();
    out.append("; written by pgtide from spec.pooler; edits are overwritten\n");
    out.append("[databases]\n");
    out.append("* = host=").append(target.host()).append(" port=").append(target.port()).append('\n');
    out.append("\n[pgbouncer]\n");
    line(out, "listen_addr", listen.address());
    line(out, "listen_port", Integer.toString(listen.port()));
    line(out, "unix_socket_dir", socketDir == null ? "" : socketDir.toString());
    line(out, "auth_type", "scram-sha-256");
    line(out, "auth_file", authFile.toString());
    line(out, "auth_user", PoolerSql.ROLE);
    line(out, "auth_query", PoolerSql.AUTH_QUERY);
    line(out, "admin_users", PoolerSql.ROLE);
    line(out, "stats_users", PoolerSql.ROLE);
    line(out, "pool_mode", spec.poolMode);
    line(out, "default_pool_size", Integer.toString(spec.defaultPoolSize));
    line(out, "max_client_conn", Integer.toString(spec.maxClientConnections));
    // JDBC sends extra_float_digits, and some drivers options; PgBouncer refuses a login with a parameter it
    // does not know unless told to ignore it
    line(out, "ignore_startup_parameters", "extra_float_digits,options");
    // after a failed server login PgBouncer refuses new clients for this long (default 15 s): during a failover
    // that is 15 s more outage once the new primary is there
    line(out, "server_login_retry", "1");
    line(out, "server_connect_timeout", "5");
    if (tls.serverCa() != null) {
      line(out, "server_tls_sslmode", "verify-full");
      line(out, "server_tls_ca_file", tls.serverCa().toString());
    } else {
      line(out, "server_tls_sslmode", "prefer"); // encrypted when the server offers it, not verified
    }
    if (tls.clientCert() != null && tls.clientKey() != null) {
      line(out, "client_tls_sslmode", "prefer");
      line(out, "client_tls_cert_file", tls.clientCert().toString());
      line(out, "client_tls_key_file", tls.clientKey().toString());
    } else {
      line(out, "client_tls_sslmode", "disable");
    }
    // its output goes to the process's stderr, which the caller keeps in a log; nothing it logs is a password
    line(out, "logfile", "");
    line(out, "pidfile", "");
    return out.toString();
  }

  /**
   * The auth_file's only line: {@value PoolerSql#ROLE} with its plaintext password, which PgBouncer needs to log in
   * to the server itself for the auth query (a verifier would only check a client). The file must be the pooler's
   * only (0600).
   */
  public static String authFileLine(String password) {
    if (password.contains("\n") || password.contains("\r")) {
      throw new IllegalArgumentException("the pooler role's password cannot hold a line break");
    }
    return "\"" + PoolerSql.ROLE + "\" \"" + password.replace("\"", "\"\"") + "\"\n";
  }

  private static void line(StringBuilder out, String key, String value) {
    if (value.contains("\n")) {
      throw new IllegalArgumentException(key + " cannot hold a line break");
    }
    out.append(key).append(" = ").append(value).append('\n');
  }
}
