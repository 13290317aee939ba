package io.pgtide.cli.backup;

import io.pgtide.testkit.TestMachine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.process.Psql;
import io.pgtide.operator.ClusterFile;
import io.pgtide.operator.LocalClusters;
import io.pgtide.cli.local.LocalRunner;
import io.pgtide.testkit.SteadyWriter;
import io.pgtide.testkit.TestDirs;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Backups on real processes (Barman in streaming mode against a local Patroni cluster): a base backup on its own,
 * writes before and after a hard-kill failover, a dropped table, and a restore into a new cluster to the moment before
 * the drop that has every acknowledged row up to that moment and none after it.
 */
class PointInTimeRecoveryIT {
  static LocalRunner source;
  static final List<LocalRunner> restored = new ArrayList<>();

  @BeforeAll
  static void up() {
    // synchronous: a hard-killed primary's acknowledged writes are on the standby that takes over
    PostgresCluster resource = LocalClusters.resource("pitr", 2, true);
    resource.getSpec().backup = new PostgresClusterSpec.BackupSpec();
    resource.getSpec().backup.schedule = "0 0 1 1 *"; // yearly: the only base backups are the first and "now"
    resource.getSpec().backup.retention.count = 2;
    resource.getSpec().backup.verifySchedule = "never"; // verified on demand below
    source = LocalClusters.up(resource);
  }

  @AfterAll
  static void down() {
    restored.forEach(LocalRunner::close);
    if (source != null) {
      source.close();
    }
  }

  private static JsonObject backupStatus() {
    return source.backups().status();
  }

  @Test
  void restoreToTheMomentBeforeADropKeepsEveryRowAcknowledgedBeforeItAndNoneAfterAcrossAHardKillFailover()
      throws Exception {
    // the first base backup is taken at once, and WAL streams to the repository from then on
    await().atMost(Duration.ofSeconds(120)).until(() -> backupStatus().getJsonObject("lastBackup") != null);
    JsonObject first = backupStatus().getJsonObject("lastBackup");
    assertThat(first.getLong("sizeBytes")).isPositive();
    assertThat(backupStatus().getString("firstRecoverablePoint")).isNotNull();
    await().atMost(Duration.ofSeconds(60)).until(() -> backupStatus().getJsonObject("archiving") != null
        && backupStatus().getJsonObject("archiving").getBoolean("streaming"));

    String password = LocalClusters.superuserPassword(source);
    Instant target;
    Map<Long, long[]> timeline;
    String oldPrimary = source.core().state().view(source.clusterKey()).primary().orElseThrow().id().member();
    try (SteadyWriter writer = new SteadyWriter(source.primaryPort(), "postgres", password)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> writer.acknowledgedCount() > 100);
      // a failover in the middle: the primary's Patroni and PostgreSQL hard-killed under the writer
      await().atMost(Duration.ofSeconds(60)).until(() -> source.infra().cluster().clusterView()
          .map(c -> c.getJsonArray("members").stream()
              .anyMatch(m -> "sync_standby".equals(((JsonObject) m).getString("role")))).orElse(false));
      source.infra().cluster().member(oldPrimary).killHard();
      await().atMost(Duration.ofSeconds(90)).until(() -> source.core().failover().lastFailover(source.clusterKey())
          .filter(r -> r.from().equals(oldPrimary)).isPresent());
      long afterSwitch = System.currentTimeMillis();
      await().atMost(Duration.ofSeconds(60)).until(() -> writer.acknowledgedSince(afterSwitch) > 100);
      target = Instant.now();
      await().atMost(Duration.ofSeconds(30)).until(() -> writer.acknowledgedSince(target.toEpochMilli() + 500) > 20);
      writer.stop();
      timeline = writer.timeline();
    }
    assertThat(source.core().state().view(source.clusterKey()).primary().orElseThrow().id().member())
        .as("the failover moved the primary").isNotEqualTo(oldPrimary);
    source.infra().cluster().member(oldPrimary).start(); // back as a replica for the tests after this one
    LocalClusters.primarySql(source, "DROP TABLE writer_log");

    LocalRunner copy = LocalClusters.up(restoreOf("pitr-copy", target.toString()));
    restored.add(copy);
    Set<Long> rows = Psql.query(copy.primaryPort(), "postgres", password, "postgres", "SELECT id FROM writer_log")
        .lines().filter(l -> !l.isBlank()).map(Long::parseLong).collect(Collectors.toCollection(TreeSet::new));
    long t = target.toEpochMilli();
    Set<Long> ackedBefore = timeline.entrySet().stream().filter(e -> e.getValue()[1] < t).map(Map.Entry::getKey)
        .collect(Collectors.toCollection(TreeSet::new));
    Set<Long> sentAfter = timeline.entrySet().stream().filter(e -> e.getValue()[0] > t).map(Map.Entry::getKey)
        .collect(Collectors.toCollection(TreeSet::new));
    assertThat(ackedBefore).as("rows acknowledged before the target").hasSizeGreaterThan(200);
    assertThat(rows).as("every row acknowledged before the target is restored").containsAll(ackedBefore);
    assertThat(rows).as("no row written after the target is restored").doesNotContainAnyElementsOf(sentAfter);
    System.out.printf("PITR restored %d rows (acknowledged before the target %d, written after it %d)%n",
        rows.size(), ackedBefore.size(), sentAfter.size());
    // the copy is a cluster of its own: writable, and the source kept its dropped table dropped
    Psql.query(copy.primaryPort(), "postgres", password, "postgres", "INSERT INTO writer_log(id) VALUES (-1)");
    assertThat(LocalClusters.primarySql(source, "SELECT to_regclass('writer_log') IS NULL")).isEqualTo("t");
  }

  @Test
  void targetsOutsideTheRecoverableRangeAreRefusedBeforeAnythingStarts() {
    await().atMost(Duration.ofSeconds(120)).until(() -> backupStatus().getString("firstRecoverablePoint") != null);
    Instant first = Instant.parse(backupStatus().getString("firstRecoverablePoint"));
    for (String target : List.of(first.minusSeconds(3600).toString(), Instant.now().plusSeconds(3600).toString())) {
      PostgresCluster bad = restoreOf("pitr-bad", target);
      Path dir = TestDirs.create("pitr-bad");
      LocalRunner runner = new LocalRunner(TestMachine.get(), bad, dir, msg -> System.out.println("[local] " + msg));
      assertThatThrownBy(() -> runner.up(0, 0, 0)).isInstanceOf(ClusterFile.Invalid.class)
          .hasMessageMatching(".*(before the first recoverable point|in the future).*");
      runner.close();
      assertThat(Files.exists(dir.resolve("cluster.json"))).as("nothing was created").isFalse();
      assertThat(Files.exists(dir.resolve("etcd-data"))).as("no etcd was started").isFalse();
    }
    PostgresCluster noSource = restoreOf("pitr-bad", null);
    noSource.getSpec().bootstrap.recovery.repository = TestDirs.create("nothing-here").toString();
    LocalRunner runner = new LocalRunner(TestMachine.get(), noSource, TestDirs.create("pitr-bad"), msg -> { });
    assertThatThrownBy(() -> runner.up(0, 0, 0)).isInstanceOf(ClusterFile.Invalid.class)
        .hasMessageContaining("no backups of cluster pitr");
    runner.close();
  }

  @Test
  void verificationRestoresTheNewestBackupIntoAScratchInstanceAndFindsTheCheckRows() throws Exception {
    await().atMost(Duration.ofSeconds(120)).until(() -> backupStatus().getJsonObject("lastBackup") != null);
    JsonObject result = source.backups().verifyNow().await(300, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(result.getBoolean("ok")).as(result.encode()).isTrue();
    assertThat(result.getLong("expectedRows")).as("the check row written before the first backup").isPositive();
    assertThat(result.getLong("checkRows")).isGreaterThanOrEqualTo(result.getLong("expectedRows"));
    assertThat(backupStatus().getJsonObject("lastVerification").getBoolean("ok")).isTrue();
    assertThat(Files.exists(source.dir().resolve("backup-verify"))).as("the scratch instance is gone").isFalse();
    System.out.printf("VERIFY %.1f s for backup %s%n", result.getDouble("durationSeconds"), result.getString("backupId"));
  }

  private static PostgresCluster restoreOf(String name, String targetTime) {
    PostgresCluster c = LocalClusters.resource(name, 1, false);
    c.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
    c.getSpec().bootstrap = new PostgresClusterSpec.BootstrapSpec();
    c.getSpec().bootstrap.recovery = new PostgresClusterSpec.RecoverySpec();
    c.getSpec().bootstrap.recovery.source = "pitr";
    c.getSpec().bootstrap.recovery.repository = source.dir().toString();
    c.getSpec().bootstrap.recovery.targetTime = targetTime;
    return c;
  }
}
