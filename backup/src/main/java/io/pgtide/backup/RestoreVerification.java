package io.pgtide.backup;

import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.process.OsUser;
import io.pgtide.common.process.Psql;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.function.IntSupplier;

/**
 * Proves a cluster's backups restore (local mode's, and the agent's in its pod): the newest base backup and the
 * archived WAL after it are restored into a scratch directory, started until consistent and promoted, and checked —
 * the check table the controller wrote before each base backup is readable and holds at least the rows it had
 * then — and the scratch copy is deleted.
 * The cluster itself is only read (and asked to archive its current WAL segment). Blocking.
 */
public final class RestoreVerification implements BackupController.Verification {
  static final String TABLE = "pgtide_backup_check";

  private final IntSupplier freePort;
  private final Path clusterDir;
  private final String cluster;
  private final String primaryHost;
  private final int primaryPort;
  private final String superuser;
  private final String password;
  private final Consumer<String> progress;

  public RestoreVerification(IntSupplier freePort, Path clusterDir, String cluster, String primaryHost, int primaryPort,
                           String superuser, String password, Consumer<String> progress) {
    this.primaryHost = primaryHost;
    this.freePort = freePort;
    this.clusterDir = clusterDir;
    this.cluster = cluster;
    this.primaryPort = primaryPort;
    this.superuser = superuser;
    this.password = password;
    this.progress = progress;
  }

  @Override
  public long mark() {
    String rows = Psql.query(primaryHost, primaryPort, superuser, password, "postgres",
        "CREATE TABLE IF NOT EXISTS " + TABLE + " (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());"
            + "INSERT INTO " + TABLE + " DEFAULT VALUES; SELECT count(*) FROM " + TABLE);
    String[] lines = rows.strip().split("\n");
    return Long.parseLong(lines[lines.length - 1].strip());
  }

  @Override
  public JsonObject verify(long expectedRows) {
    Path scratch = clusterDir.resolve("backup-verify");
    OsUser.deleteTree(scratch);
    PostgresClusterSpec.RecoverySpec spec = new PostgresClusterSpec.RecoverySpec();
    spec.source = cluster;
    spec.repository = clusterDir.toString();
    long started = System.currentTimeMillis();
    long[] found = {-1};
    try {
      Barman.BackupInfo restored = new Restore(freePort, spec, progress).restoreInto(scratch.resolve("data"), port ->
          found[0] = Long.parseLong(Psql.query(port, superuser, password, "postgres",
              "SELECT count(*) FROM " + TABLE).strip()));
      boolean ok = found[0] >= expectedRows;
      return new JsonObject().put("backupId", restored.id()).put("ok", ok).put("checkRows", found[0])
          .put("expectedRows", expectedRows)
          .put("durationSeconds", (System.currentTimeMillis() - started) / 1000.0)
          .put("reason", ok ? "restored, consistent, promoted; " + found[0] + " check rows (at least "
              + expectedRows + " expected)" : "the restored check table has " + found[0] + " rows, expected at least "
              + expectedRows);
    } finally {
      OsUser.deleteTree(scratch);
    }
  }
}
