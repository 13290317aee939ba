package io.pgtide.backup;

import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.process.LoopbackPorts;
import io.pgtide.common.process.OsUser;
import io.pgtide.common.secrets.ClusterSecrets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * A restore on Kubernetes: the Job the operator runs for a new cluster that declares {@code bootstrap.recovery}, in
 * the backup image, with the source's backup volume and the new cluster's first data volume mounted. It restores
 * exactly as local mode does ({@link Restore}: the target checked against the source's catalogue, the chosen
 * base backup and the WAL after it, one run of PostgreSQL until the target is reached and promoted) into the
 * directory the new cluster's first Spilo member starts from, which Patroni then adopts. The source is only read.
 * Exit 2 when the target cannot be reached (nothing written), 1 when the restore failed (the partial directory is
 * removed). For a standby of an S3 copy ({@code PGTIDE_STANDBY_DYNAMIC} set) the newest base backup is laid down
 * and not replayed ({@link Restore#standbyInto}).
 */
@Command(name = "backup-restore", mixinStandardHelpOptions = true,
    description = "Restore a cluster's backups into a data directory (the operator's restore Job; configured by environment).")
public final class BackupRestore implements Callable<Integer> {

  @Override
  public Integer call() {
    Map<String, String> env = System.getenv();
    PostgresClusterSpec.RecoverySpec spec = new PostgresClusterSpec.RecoverySpec();
    spec.source = env.get("PGTIDE_SOURCE");
    spec.repository = env.getOrDefault("PGTIDE_REPOSITORY", "/var/lib/pgtide-backup");
    spec.targetTime = blankToNull(env.get("PGTIDE_TARGET_TIME"));
    spec.targetLSN = blankToNull(env.get("PGTIDE_TARGET_LSN"));
    Path data;
    Restore restore;
    ClusterSecrets wanted;
    String standbyDynamic;
    try {
      if (spec.source == null || spec.source.isBlank()) {
        throw new IllegalArgumentException("PGTIDE_SOURCE is not set");
      }
      // the operator always names it (Spilo's PGDATA, ClusterModel.PGDATA): its default lived in the operator
      String dataDir = env.get("PGTIDE_DATA_DIR");
      if (dataDir == null || dataDir.isBlank()) {
        throw new IllegalArgumentException("PGTIDE_DATA_DIR is not set");
      }
      data = Path.of(dataDir);
      fetchFromS3(spec, env);
      restore = new Restore(new LoopbackPorts(), spec, msg -> System.out.println("backup-restore: " + msg))
          .awaiting(blankToNull(env.get("PGTIDE_SOURCE_SEGMENT")));
      restore.check();
      wanted = newPasswords(env);
      standbyDynamic = blankToNull(env.get("PGTIDE_STANDBY_DYNAMIC"));
      if (standbyDynamic != null) {
        new io.vertx.core.json.JsonObject(standbyDynamic); // the operator's: refused before anything is written
      }
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      return 2;
    } catch (RuntimeException e) {
      System.err.println("the restore failed: " + e.getMessage()); // the copy could not be fetched
      return 1;
    }
    OsUser.deleteTree(data); // what an interrupted earlier run left: never adopted half-restored
    try {
      if (standbyDynamic != null) {
        restore.standbyInto(data, standbyDynamic);
        return 0;
      }
      restore.restoreInto(data, port -> {
        if (wanted != null) {
          restore.setPasswords(port, wanted);
        }
      });
      return 0;
    } catch (RuntimeException e) {
      OsUser.deleteTree(data); // Patroni must never adopt a half-restored directory
      System.err.println("the restore failed: " + e.getMessage());
      return e instanceof IllegalArgumentException ? 2 : 1;
    }
  }

  /**
   * A restore from S3 ({@code PGTIDE_S3_*} set): the copy is fetched into the (empty) repository directory and
   * Barman configured over it, as the agent's volume would be; the source's server is not reached (a name that
   * resolves nowhere). {@link IllegalArgumentException} when the copy has no backup, rclone's failure otherwise.
   */
  static void fetchFromS3(PostgresClusterSpec.RecoverySpec spec, Map<String, String> env) {
    RepositoryCopy.Target s3 = RepositoryCopy.Target.fromEnvironment(env);
    if (s3 == null) {
      return;
    }
    Path repository = Barman.localRepository(Path.of(spec.repository));
    System.out.println("backup-restore: fetching " + s3);
    new RepositoryCopy(repository.resolve("home").resolve(spec.source), s3).fetch();
    new Barman(repository, spec.source).configure("source-of-a-copy.invalid", 5432, "postgres", "", "standby", "",
        io.pgtide.common.backup.BackupPolicy.from(new PostgresClusterSpec.BackupSpec()));
  }

  /**
   * The new cluster's passwords (the operator passes its Secrets), for its superuser and replication user, Spilo's
   * {@code postgres} and {@code standby}; null when not given (the roles keep the source's).
   */
  static ClusterSecrets newPasswords(Map<String, String> env) {
    String superuser = blankToNull(env.get("PGTIDE_SUPERUSER_PASSWORD"));
    String replication = blankToNull(env.get("PGTIDE_REPLICATION_PASSWORD"));
    if (superuser == null && replication == null) {
      return null;
    }
    if (superuser == null || replication == null) {
      throw new IllegalArgumentException("PGTIDE_SUPERUSER_PASSWORD and PGTIDE_REPLICATION_PASSWORD go together");
    }
    return new ClusterSecrets("postgres", superuser, "standby", replication);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
