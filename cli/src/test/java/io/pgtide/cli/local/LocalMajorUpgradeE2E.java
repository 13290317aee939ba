package io.pgtide.cli.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.cli.PgtideCliAccess;
import io.pgtide.common.process.PgBin;
import io.pgtide.operator.LocalClusters;
import io.pgtide.operator.k8s.model.MajorUpgrade;
import io.pgtide.testkit.Postgres17;
import io.pgtide.testkit.SteadyWriter;
import io.pgtide.testkit.TestDirs;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Local mode's in-place major upgrade, 15 → 17, on a real two-member cluster under a writer: first a pg_upgrade
 * killed in the middle (the cluster is back on 15 with its data), then the upgrade itself (every acknowledged row
 * there, users and extensions intact, the replica cloned again and streaming, downtime measured). This machine's 17
 * is Debian 13's, started by its own loader (scripts/pg17-any-user.sh).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LocalMajorUpgradeE2E {
  static LocalRunner runner;
  static String key;
  static Path bin17;

  @BeforeAll
  static void up() {
    bin17 = Postgres17.anyUserBinDir(TestDirs.create("pg17-any-user"));
    PostgresCluster resource = LocalClusters.resource("upgrade", 2, false);
    runner = LocalClusters.up(resource, major -> major == 17 ? bin17.toString() : PgBin.localDir(major));
    key = runner.clusterKey();
    LocalClusters.primarySql(runner, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; "
        + "CREATE TABLE kept AS SELECT g AS id FROM generate_series(1, 5000) g");
    // the spec's users, made by the user sync: their OIDs tell after the upgrade that they were carried, not made
    // again by a later sync
    await().atMost(Duration.ofSeconds(90)).ignoreExceptions().until(() -> !roles().isEmpty());
    rolesBefore = roles();
  }

  static String rolesBefore;

  private static String roles() {
    return LocalClusters.primarySql(runner, "SELECT string_agg(rolname || ':' || oid, ',' ORDER BY rolname) "
        + "FROM pg_roles WHERE rolname IN ('alice', 'readers') HAVING count(*) = 2");
  }

  @AfterAll
  static void down() {
    if (runner != null) {
      runner.close();
    }
  }

  private static PostgresCluster raisedTo(int major) {
    PostgresCluster edited = Serialization.clone(runner.resource());
    edited.getSpec().postgresVersion = major;
    return edited;
  }

  private static JsonObject awaitEnded() {
    await().atMost(Duration.ofMinutes(8)).pollInterval(Duration.ofMillis(500)).until(() -> runner.upgrade() != null
        && !MajorUpgrade.UPGRADING.equals(runner.upgrade().getString("phase")));
    return runner.upgrade();
  }

  private static String version(String member) {
    return LocalClusters.memberSql(runner, member, "SELECT current_setting('server_version_num')::int / 10000");
  }

  @Test
  @Order(1)
  void aPgUpgradeKilledInTheMiddleLeavesTheClusterOn15WithItsData() throws Exception {
    AtomicReference<Long> killed = new AtomicReference<>();
    Thread killer = new Thread(() -> {
      long until = System.currentTimeMillis() + 300_000;
      while (killed.get() == null && System.currentTimeMillis() < until) {
        Optional<ProcessHandle> upgrading = ProcessHandle.allProcesses().filter(p -> p.info().commandLine()
            .map(c -> c.contains("pg_upgrade") && c.contains("--copy") && !c.contains("--check")).orElse(false))
            .findFirst();
        if (upgrading.isPresent()) {
          upgrading.get().destroyForcibly();
          killed.set(upgrading.get().pid());
        }
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    // a major whose programs are not here: refused at once, nothing stopped
    Throwable refused = runner.apply(raisedTo(16)).toCompletionStage().toCompletableFuture().handle((r, e) -> e)
        .get();
    assertThat(refused instanceof java.util.concurrent.CompletionException ? refused.getCause() : refused)
        .isInstanceOf(io.pgtide.operator.ClusterFile.Invalid.class)
        .hasMessageContaining("PostgreSQL 16 is not installed here");
    killer.start();
    JsonObject started = runner.apply(raisedTo(17)).toCompletionStage().toCompletableFuture().get();
    assertThat(started.getString("upgrade")).startsWith("15 -> 17 started");
    JsonObject ended = awaitEnded();
    killer.interrupt();
    assertThat(killed.get()).as("pg_upgrade was killed while it ran").isNotNull();
    assertThat(ended.getString("phase")).as("%s", ended).isEqualTo(MajorUpgrade.FAILED);
    assertThat(ended.getString("step")).isEqualTo("pgUpgrade");
    assertThat(ended.getString("error")).contains("back on its old major with its data");
    assertThat(runner.resource().getSpec().postgresVersion).as("the running spec stays what runs").isEqualTo(15);
    await().atMost(Duration.ofSeconds(120)).ignoreExceptions().until(() -> runner.core().state().view(key)
        .healthyReplicas().size() == 1 && "f".equals(LocalClusters.primarySql(runner, "SELECT pg_is_in_recovery()")));
    for (var m : runner.infra().cluster().members()) {
      assertThat(version(m.name())).isEqualTo("15");
      assertThat(Files.exists(m.dir().resolve("data.17"))).as("the half-made 17 directory removed").isFalse();
    }
    assertThat(LocalClusters.primarySql(runner, "SELECT count(*) FROM kept")).isEqualTo("5000");
    LocalClusters.primarySql(runner, "INSERT INTO kept VALUES (5001)");
  }

  @Test
  @Order(2)
  void fifteenTo17UnderAWriterKeepsEveryAcknowledgedRowUsersAndExtensions() throws Exception {
    String password = LocalClusters.superuserPassword(runner);
    try (SteadyWriter writer = new SteadyWriter(runner.primaryPort(), "postgres", password)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> writer.acknowledgedCount() > 100);
      long before = System.currentTimeMillis();
      runner.apply(raisedTo(17)).toCompletionStage().toCompletableFuture().get();
      JsonObject ended = awaitEnded();
      assertThat(ended.getString("phase")).as("%s", ended).isEqualTo(MajorUpgrade.SUCCEEDED);
      assertThat(ended.getJsonArray("steps").stream().map(s -> ((JsonObject) s).getString("step")).toList())
          .containsExactly("check", "stopping", "pgUpgrade", "switched", "starting", "replicasCloning", "analyzing");
      int acked = writer.acknowledgedCount();
      await().atMost(Duration.ofSeconds(60)).until(() -> writer.acknowledgedCount() > acked + 50);
      writer.stop();
      long back = writer.writableAgainAfter(before, 600_000);
      assertThat(writer.lost(runner.primaryPort(), "postgres", password)).as("acknowledged writes lost").isZero();
      System.out.printf("LOCAL-UPGRADE 15 -> 17: downtime %.1f s (stop to primary leading on 17); writer failed "
              + "%d attempts, writable again %.1f s after the apply; upgrade took %s%n",
          ended.getDouble("downtimeSeconds"), writer.errors(), (back - before) / 1000.0,
          Duration.between(java.time.Instant.parse(((JsonObject) ended.getJsonArray("steps").getValue(0))
              .getString("at")), java.time.Instant.now()));
    }
    assertThat(runner.resource().getSpec().postgresVersion).isEqualTo(17);
    PgtideCliAccess.Output status = PgtideCliAccess.runCapturing("local", "status", "--dir", runner.dir().toString());
    assertThat(status.out()).contains("Upgrade: 15 -> 17 Succeeded (step analyzing), downtime ");
    await().atMost(Duration.ofSeconds(120)).until(() -> runner.core().state().view(key).healthyReplicas().size() == 1);
    for (var m : runner.infra().cluster().members()) {
      assertThat(version(m.name())).as(m.name()).isEqualTo("17");
      assertThat(Files.exists(m.dir().resolve("data.15.old"))).as("the 15 data removed after success").isFalse();
    }
    String primary = runner.core().state().view(key).primary().orElseThrow().id().member();
    String replica = runner.infra().cluster().members().stream().map(m -> m.name()).filter(n -> !n.equals(primary))
        .findFirst().orElseThrow();
    assertThat(LocalClusters.memberSql(runner, replica, "SELECT count(*) FROM kept")).isEqualTo("5001");
    assertThat(LocalClusters.memberSql(runner, primary, "SELECT state FROM pg_stat_replication"))
        .isEqualTo("streaming");
    assertThat(roles()).as("the same roles, carried by pg_upgrade").isEqualTo(rolesBefore);
    assertThat(io.pgtide.common.process.Psql.query(runner.primaryPort(), "alice", runner.password("alice"),
        "postgres", "SELECT current_user")).as("alice logs in with her password").isEqualTo("alice");
    assertThat(LocalClusters.primarySql(runner, "SELECT extversion FROM pg_extension "
        + "WHERE extname = 'pg_stat_statements'")).as("updated to 17's version").isEqualTo("1.11");
    assertThat(LocalClusters.primarySql(runner, "SELECT count(*) > 0 FROM pg_stats WHERE tablename = 'kept'"))
        .as("statistics rebuilt").isEqualTo("t");
    // and it stays a cluster: a switchover on 17
    runner.core().failover().switchover(key, replica).toCompletionStage().toCompletableFuture().get();
    await().atMost(Duration.ofSeconds(60)).until(() -> runner.core().failover().endpoint(key).orElse("")
        .equals(replica));
    assertThat(List.of(LocalClusters.primarySql(runner, "SELECT count(*) FROM kept"))).containsExactly("5001");
  }
}
