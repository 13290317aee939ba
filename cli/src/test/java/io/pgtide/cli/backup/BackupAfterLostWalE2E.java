package io.pgtide.cli.backup;

import io.pgtide.backup.Barman;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.cli.local.LocalRunner;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.local.process.Signal;
import io.pgtide.local.process.Signals;
import io.pgtide.operator.LocalClusters;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Asynchronous replication, and a failover that loses WAL: the replica's WAL receiver is held still while the primary
 * writes and closes segments that Barman streams, then the primary is hard-killed and the replica, behind, is
 * promoted. Barman's position is now on a timeline the new primary never had, and pg_receivewal is refused on every
 * restart. The backups must not stall: the receiver restarts on the new primary and a base backup follows.
 */
class BackupAfterLostWalE2E {
  static LocalRunner runner;

  @BeforeAll
  static void up() {
    PostgresCluster resource = LocalClusters.resource("fork", 2, false);
    resource.getSpec().backup = new PostgresClusterSpec.BackupSpec();
    resource.getSpec().backup.schedule = "0 0 1 1 *";
    resource.getSpec().backup.verifySchedule = "never";
    runner = LocalClusters.up(resource);
  }

  @AfterAll
  static void down() {
    if (runner != null) {
      runner.close();
    }
  }

  static JsonObject backups() {
    return runner.backups().status();
  }

  static boolean streaming() {
    return backups().getJsonObject("archiving") != null && backups().getJsonObject("archiving").getBoolean("streaming");
  }

  @Test
  void aReceiverAheadOfTheNewPrimaryIsResetAndABaseBackupFollows() {
    await().atMost(Duration.ofSeconds(180)).until(() -> backups().getJsonObject("lastBackup") != null);
    await().atMost(Duration.ofSeconds(120)).until(BackupAfterLostWalE2E::streaming);
    String first = backups().getJsonObject("lastBackup").getString("id");
    java.util.List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
    runner.core().vertx().eventBus().<JsonObject>consumer(io.pgtide.common.contract.Addresses.CLUSTER_EVENTS,
        m -> events.add(m.body().getString("reason")));
    String key = runner.clusterKey();
    String primary = runner.core().state().view(key).primary().orElseThrow().id().member();
    String replica = runner.core().state().view(key).members().keySet().stream().filter(m -> !m.equals(primary))
        .findFirst().orElseThrow();
    long receiver = Long.parseLong(LocalClusters.memberSql(runner, replica,
        "SELECT pid FROM pg_stat_wal_receiver").strip());
    assertThat(Signals.send(receiver, Signal.STOP)).isTrue();
    try {
      // WAL only the primary (and Barman, streaming from it) gets: segments closed while the replica hears nothing
      for (int i = 0; i < 3; i++) {
        LocalClusters.primarySql(runner, "CREATE TABLE IF NOT EXISTS lost(i int); INSERT INTO lost VALUES (" + i
            + "); SELECT pg_switch_wal()");
      }
      String barmanHas = LocalClusters.primarySql(runner, "SELECT pg_walfile_name(pg_current_wal_lsn())").strip();
      await().atMost(Duration.ofSeconds(60)).until(() -> java.nio.file.Files.exists(Barman.localRepository(
          runner.dir()).resolve("home").resolve("fork").resolve("streaming").resolve(barmanHas
          + ".partial")));
      runner.infra().cluster().member(primary).killHard();
    } finally {
      Signals.send(receiver, Signal.CONT);
    }
    // the replica replays what it missed from the archive before Patroni lets it lead (maximum_lag_on_failover):
    // 54 s alone, past 120 s once in a loaded CI run
    await().atMost(Duration.ofSeconds(300)).until(() -> runner.core().failover().lastFailover(key)
        .filter(r -> r.from().equals(primary)).isPresent());
    // the receiver restarts where the new primary is, and a base backup covers what it could not stream
    await().atMost(Duration.ofSeconds(300)).until(() -> streaming() && backups().getJsonObject("lastBackup") != null
        && !first.equals(backups().getJsonObject("lastBackup").getString("id")));
    assertThat(events).contains("BackupReceiverReset");
  }
}
