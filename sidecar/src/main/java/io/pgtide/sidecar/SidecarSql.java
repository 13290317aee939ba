package io.pgtide.sidecar;

import io.pgtide.sidecar.users.UserSync;
import java.util.ArrayList;
import java.util.List;

/**
 * Every fixed statement the sidecar sends to PostgreSQL, as it sends it to a server of a given
 * {@code server_version_num}: the one list a test runs on real servers of the majors the sidecar supports, so no
 * statement is left out. Pure. The user sync's DDL (CREATE / ALTER / DROP ROLE, GRANT, CREATE DATABASE, default
 * privileges) is built per role by {@code RoleDiff}, {@code DatabaseDiff} and {@code DefaultRoles}, the same on every
 * supported major; a test runs it by applying syncs.
 */
public final class SidecarSql {
  /** The majors the sidecar supports. */
  public static final List<Integer> SUPPORTED_MAJORS = List.of(13, 14, 15, 16, 17);

  /** A statement and how many {@code $n} parameters it takes (those run with the extended protocol). */
  public record Statement(String name, String sql, int parameters) {
  }

  private SidecarSql() {
  }

  public static List<Statement> all(int serverVersionNum) {
    List<Statement> out = new ArrayList<>(List.of(
        new Statement("server version", PgCollector.SERVER_VERSION, 0),
        new Statement("sample", PgCollector.CORE, 0),
        new Statement("sample: standbys", PgCollector.REPLICATION, 0),
        new Statement("sample: pg_stat_statements", PgCollector.STATEMENTS, 0),
        new Statement("role watch", PgCollector.IN_RECOVERY, 0)));
    for (DatabaseHealth.Part part : DatabaseHealth.Part.values()) {
      out.add(new Statement("health: " + part.label, part.sql(serverVersionNum), 0));
    }
    out.add(new Statement("command: role verifiers", CommandDispatcher.STORED_VERIFIERS, 1));
    out.add(new Statement("command: checkpoint", CommandDispatcher.CHECKPOINT, 0));
    out.add(new Statement("command: switch WAL", CommandDispatcher.SWITCH_WAL, 0));
    out.add(new Statement("command: reload", CommandDispatcher.RELOAD, 0));
    out.add(new Statement("certificate files changed", ServerCertificateReload.CHANGED, 0));
    out.addAll(UserSync.statements());
    return out;
  }
}
