package io.pgtide.bench;

import io.pgtide.testkit.TestMachine;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.local.process.ManagedProcess;
import io.pgtide.common.process.OsUser;
import io.pgtide.common.process.Psql;
import io.pgtide.backup.BackupController;
import io.pgtide.backup.Restore;
import io.pgtide.backup.PrimaryArchivingLag;
import io.pgtide.cli.local.LocalRunner;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Backups on a local 1-member cluster filled by {@code pgbench -i -s SCALE} (68 ≈ 1 GB): plain {@code pg_basebackup}
 * to a local directory as the reference, pgtide's base backup (Barman, streaming), a restore of it into a scratch
 * directory up to the latest point (barman recover + replay + promote), and the WAL archiving lag sampled every
 * second under {@code pgbench -c 4} for {@code loadSeconds}.
 */
final class BackupBench {
  private BackupBench() {
  }

  public static void main(String[] args) throws Exception {
    int scale = args.length > 0 ? Integer.parseInt(args[0]) : 68;
    int loadSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 60;
    Path dir = Files.createTempDirectory("pgtide-backup-bench");
    OsUser.makeTraversable(dir);
    try (LocalRunner runner = new LocalRunner(TestMachine.get(), resource(), dir.resolve("bb"), msg -> System.out.println("[local] " + msg))) {
      runner.up(0, 0, 0);
      String password = runner.infra().cluster().secrets().superuserPassword();
      int port = runner.primaryPort();
      Map<String, String> env = Map.of("PGPASSWORD", password);
      long t0 = System.nanoTime();
      run(dir, "pgbench-init", List.of("pgbench", "-i", "-q", "-s", "" + scale, "-h", "127.0.0.1", "-p", "" + port,
          "-U", "postgres", "postgres"), env, Duration.ofMinutes(30));
      double initS = (System.nanoTime() - t0) / 1e9;
      long dbBytes = Long.parseLong(Psql.query(port, "postgres", password, "postgres",
          "SELECT pg_database_size('postgres')"));
      double dbMb = dbBytes / 1_048_576.0;
      System.out.printf("[bench] pgbench -i -s %d: %.0f MB in %.0f s%n", scale, dbMb, initS);

      OsUser.ownedDirectory(dir.resolve("ref"), false);
      t0 = System.nanoTime();
      var secrets = runner.infra().cluster().secrets();
      run(dir, "pg_basebackup", OsUser.asPostgres(List.of("/usr/lib/postgresql/15/bin/pg_basebackup", "-h",
          "127.0.0.1", "-p", "" + port, "-U", secrets.replicationUser(), "-D",
          dir.resolve("ref").resolve("data").toString(), "-X", "stream", "-c", "fast")),
          Map.of("PGPASSWORD", secrets.replicationPassword()), Duration.ofMinutes(30));
      double refS = (System.nanoTime() - t0) / 1e9;
      OsUser.deleteTree(dir.resolve("ref"));

      BackupController backups = runner.backups();
      JsonObject taken = backups.backupNow().await(30, TimeUnit.MINUTES);
      double barmanS = taken.getDouble("durationSeconds");
      double barmanMb = taken.getLong("sizeBytes") / 1_048_576.0;

      PostgresClusterSpec.RecoverySpec latest = new PostgresClusterSpec.RecoverySpec();
      latest.source = "bb";
      latest.repository = runner.dir().toString();
      t0 = System.nanoTime();
      new Restore(TestMachine.get()::freePort, latest, msg -> { }).restoreInto(dir.resolve("restore").resolve("data"));
      double restoreS = (System.nanoTime() - t0) / 1e9;
      OsUser.deleteTree(dir.resolve("restore"));

      Lags lags = archivingLagUnderLoad(dir, port, password, env, loadSeconds);
      List<Long> bytes = lags.bytes();
      List<Double> seconds = lags.seconds();

      Table t = new Table("Backups of a " + Math.round(dbMb) + " MB database (pgbench -s " + scale + "), 1 member, "
          + "PostgreSQL 15 on loopback, one machine", "measure", "seconds", "MB/s", "note");
      t.row("reference: pg_basebackup -X stream -c fast to a local directory", refS, dbMb / refS, "");
      t.row("pgtide base backup (Barman, postgres method)", barmanS, barmanMb / barmanS,
          Math.round(barmanMb) + " MB in the repository");
      t.row("restore of it to the latest point (barman recover, replay, promote)", restoreS, dbMb / restoreS, "");
      Table w = new Table("WAL archiving lag under pgbench -c 4 -j 2 for " + loadSeconds + " s (sampled every second "
          + "on the primary: pg_current_wal_lsn() - the receiver's flush_lsn)", "measure", "p50", "p95", "max");
      w.row("lag bytes", pct(bytes, 50), pct(bytes, 95), bytes.isEmpty() ? "-" : bytes.get(bytes.size() - 1));
      w.row("lag seconds", pct(seconds, 50), pct(seconds, 95),
          seconds.isEmpty() ? "-" : seconds.get(seconds.size() - 1));
      String text = t.render() + "\n" + w.render();
      System.out.println(text);
      Files.createDirectories(Path.of("bench", "results"));
      Files.writeString(Path.of("bench", "results", "backup.txt"), text);
    } finally {
      OsUser.deleteTree(dir);
    }
  }

  /** The archiving lag sampled every second on the primary while pgbench runs, each list sorted. */
  record Lags(List<Long> bytes, List<Double> seconds) {
  }

  private static Lags archivingLagUnderLoad(Path dir, int port, String password, Map<String, String> env,
                                            int loadSeconds) throws Exception {
    PrimaryArchivingLag lag = new PrimaryArchivingLag("127.0.0.1", port, "postgres", password);
    ManagedProcess load = TestMachine.get().start("pgbench", List.of("pgbench", "-c", "4", "-j", "2", "-T",
        "" + loadSeconds, "-h", "127.0.0.1", "-p", "" + port, "-U", "postgres", "postgres"), env, dir,
        dir.resolve("pgbench.log"));
    List<Long> bytes = new ArrayList<>();
    List<Double> seconds = new ArrayList<>();
    Thread.sleep(5_000);
    while (load.isAlive()) {
      BackupController.ArchivingLag.Lag l = lag.measure();
      if (l.bytes() != null) {
        bytes.add(l.bytes());
      }
      if (l.seconds() != null) {
        seconds.add(l.seconds());
      }
      Thread.sleep(1_000);
    }
    bytes.sort(Long::compare);
    seconds.sort(Double::compare);
    return new Lags(bytes, seconds);
  }

  private static <T> Object pct(List<T> sorted, int p) {
    return sorted.isEmpty() ? "-" : sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100));
  }

  private static void run(Path dir, String name, List<String> command, Map<String, String> env, Duration timeout)
      throws Exception {
    ManagedProcess p = TestMachine.get().start(name, command, env, dir, dir.resolve(name + ".log"));
    long deadline = System.nanoTime() + timeout.toNanos();
    while (p.isAlive()) {
      if (System.nanoTime() > deadline) {
        p.kill();
        throw new IllegalStateException(name + " did not finish within " + timeout.toMinutes() + " min");
      }
      Thread.sleep(200);
    }
    int exit = p.process().exitValue();
    if (exit != 0) {
      throw new IllegalStateException(name + " failed (exit " + exit + "): " + p.tail(10));
    }
  }

  static PostgresCluster resource() {
    PostgresCluster c = new PostgresCluster();
    c.setMetadata(new ObjectMetaBuilder().withName("bb").withNamespace("default").build());
    PostgresClusterSpec spec = new PostgresClusterSpec();
    spec.postgresVersion = 15;
    spec.replicas = 1;
    spec.patroni.ttl = 10;
    spec.patroni.loopWait = 2;
    spec.patroni.retryTimeout = 4;
    spec.backup = new PostgresClusterSpec.BackupSpec();
    spec.backup.schedule = "0 0 1 1 *";
    spec.backup.verifySchedule = "never";
    c.setSpec(spec);
    return c;
  }
}
