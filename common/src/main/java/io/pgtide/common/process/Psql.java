package io.pgtide.common.process;

import java.util.ArrayList;
import java.util.List;

/** Runs SQL with Debian's {@code psql} over loopback TCP; blocking, for tests, benchmarks and local mode checks. */
public final class Psql {
  private Psql() {
  }

  /** Runs {@code sql} on loopback and returns its unaligned, tuples-only output; fails with psql's message. */
  public static String query(int port, String user, String password, String database, String sql) {
    return query("127.0.0.1", port, user, password, database, sql);
  }

  /** The same on {@code host} (libpq's default sslmode, prefer: TLS where the server offers it, as Spilo requires). */
  public static String query(String host, int port, String user, String password, String database, String sql) {
    return query(host, port, user, password, database, sql, (String) null);
  }

  /** The same with libpq's {@code sslmode} ({@code PGSSLMODE}; null: libpq's default). */
  public static String query(String host, int port, String user, String password, String database, String sql,
                             String sslmode) {
    return query(host, port, user, password, database, sql, new PgClientTls(sslmode, null, null));
  }

  /** The same, checking the server's certificate as {@code tls} says. */
  public static String query(String host, int port, String user, String password, String database, String sql,
                             PgClientTls tls) {
    return run(List.of("-A", "-t"), host, port, user, password, database, sql, tls);
  }

  /** The result with its header, as CSV ({@code psql --csv}): for reading rows by column name. */
  public static String csv(String host, int port, String user, String password, String database, String sql) {
    return run(List.of("--csv"), host, port, user, password, database, sql, new PgClientTls(null, null, null));
  }

  /**
   * Runs {@code sql} on {@code host} (loopback, or a socket directory) read from psql's standard input, not its command line (which any process of the
   * machine can read): for statements that carry a secret. Fails with psql's message.
   */
  public static void script(String host, int port, String user, String password, String database, String sql) {
    List<String> cmd = List.of("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", host, "-p",
        Integer.toString(port), "-U", user, "-d", database, "-f", "-");
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().put("PGPASSWORD", password == null ? "" : password);
      pb.environment().put("PGCONNECT_TIMEOUT", "5");
      Process p = pb.start();
      try (var in = p.getOutputStream()) {
        in.write(sql.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
      String out = new String(p.getInputStream().readAllBytes()).trim();
      if (p.waitFor() != 0) {
        throw new IllegalStateException("psql on " + host + ":" + port + " failed: " + out);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static String run(List<String> format, String host, int port, String user, String password,
                            String database, String sql, PgClientTls tls) {
    List<String> cmd = new ArrayList<>(List.of("psql", "-X", "-q"));
    cmd.addAll(format);
    cmd.addAll(List.of("-v", "ON_ERROR_STOP=1", "-h", host, "-p", Integer.toString(port), "-U", user, "-d", database,
        "-c", sql));
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().put("PGPASSWORD", password == null ? "" : password);
      pb.environment().put("PGCONNECT_TIMEOUT", "5");
      pb.environment().putAll(tls.environment());
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      if (p.waitFor() != 0) {
        throw new IllegalStateException("psql on " + host + ":" + port + " failed: " + out);
      }
      return out;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
