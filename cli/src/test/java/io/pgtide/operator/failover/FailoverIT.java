package io.pgtide.operator.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.contract.Role;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.local.process.PatroniMember;
import io.pgtide.operator.LocalClusters;
import io.pgtide.cli.local.LocalRunner;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.testkit.SteadyWriter;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The operator and Patroni on a real 3-member cluster in synchronous mode: hard kill, zombie primary, planned
 * switchover. A steady writer counts acknowledged commits lost (must be zero in synchronous mode).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailoverIT {
  static LocalRunner runner;
  static String key;

  @BeforeAll
  static void up() {
    runner = LocalClusters.up(LocalClusters.resource("failover", 3, true));
    key = runner.clusterKey();
    await().atMost(Duration.ofSeconds(60)).until(() -> runner.users().sync(false).await() != null
        && LocalClusters.primarySql(runner, "SELECT count(*) FROM pg_roles WHERE rolname = 'alice'").equals("1"));
  }

  @AfterAll
  static void down() {
    if (runner != null) {
      runner.close();
    }
  }

  static ClusterView view() {
    return runner.core().state().view(key);
  }

  static String primary() {
    return view().primary().orElseThrow().id().member();
  }

  static SteadyWriter writer() {
    SteadyWriter w = new SteadyWriter(runner.primaryPort(), "postgres", LocalClusters.superuserPassword(runner));
    await().atMost(Duration.ofSeconds(10)).until(() -> w.acknowledgedCount() > 50);
    return w;
  }

  static void awaitAllHealthy() {
    await().atMost(Duration.ofSeconds(120)).until(() -> view().primary().isPresent()
        && view().healthyReplicas().size() == 2 && !runner.core().failover().incidentOpen(key));
  }

  /** In synchronous mode Patroni only switches over to the synchronous standby; wait until it is known. */
  static void awaitSyncStandby() {
    await().atMost(Duration.ofSeconds(60)).until(() -> view().primary().map(p -> p.report().standbys().stream()
        .filter(s -> "sync".equals(s.syncState())).map(s -> s.name()).findFirst()
        .map(name -> name.equals(patroniSyncStandby()) && p.report().standbys().size() == 2).orElse(false))
        .orElse(false));
  }

  /** Patroni's own word on the synchronous standby (its DCS key, shown by /cluster). */
  static String patroniSyncStandby() {
    return runner.infra().cluster().clusterView().map(v -> v.getJsonArray("members").stream()
        .map(o -> (JsonObject) o).filter(m -> "sync_standby".equals(m.getString("role")))
        .map(m -> m.getString("name")).findFirst().orElse(null)).orElse(null);
  }

  @Test
  @Order(1)
  void hardKilledPrimaryIsDetectedWithinTwoSecondsAndTheEndpointFollowsTheNewPrimaryWithoutLoss() {
    awaitSyncStandby(); // in synchronous mode Patroni promotes only the synchronous standby
    String old = primary();
    try (SteadyWriter w = writer()) {
      // a role declared during the failover window must exist on the new primary afterwards
      PostgresClusterSpec.UserSpec late = new PostgresClusterSpec.UserSpec();
      late.name = "late_joiner";
      long killedAt = System.currentTimeMillis();
      runner.infra().cluster().member(old).killHard();
      runner.core().vertx().runOnContext(v -> runner.resource().getSpec().users.add(late));
      await().atMost(Duration.ofSeconds(60)).until(() -> runner.core().failover().lastFailover(key)
          .filter(r -> r.from().equals(old)).isPresent());
      FailoverRecord r = runner.core().failover().lastFailover(key).orElseThrow();
      assertThat(r.detectedAt() - killedAt).as("detection delay").isLessThan(2_000);
      // both processes are confirmed gone, so the leader lock was released instead of waiting out the ttl
      assertThat(r.kind()).isEqualTo("confirmed-dead");
      System.out.println("HARD-KILL-FAILOVER-MS " + (r.completedAt() - killedAt));
      assertThat(r.completedAt() - killedAt).as("kill to new primary, ms").isLessThan(
          runner.resource().getSpec().patroni.ttl * 1000L);
      assertThat(r.to()).isNotEqualTo(old);
      assertThat(runner.core().failover().endpoint(key)).contains(r.to());
      assertThat(LocalClusters.primarySql(runner, "SELECT pg_is_in_recovery()")).isEqualTo("f");
      int acked = w.acknowledgedCount();
      await().atMost(Duration.ofSeconds(20)).until(() -> w.acknowledgedCount() > acked + 50);
      await().atMost(Duration.ofSeconds(30)).until(() -> LocalClusters.primarySql(runner,
          "SELECT count(*) FROM pg_roles WHERE rolname IN ('alice', 'late_joiner')").equals("2"));
      w.stop();
      assertThat(w.lost(runner.infra().cluster().member(r.to()).pgPort(), "postgres",
          LocalClusters.superuserPassword(runner))).as("acknowledged writes lost").isZero();
    }
    // nobody restarts it by hand: the supervisor does once the new primary leads, like a kubelet, and it rejoins
    long failedOverAt = runner.core().failover().lastFailover(key).orElseThrow().completedAt();
    await().atMost(Duration.ofSeconds(30)).until(() -> view().members().get(old).report() != null
        && view().members().get(old).role() == Role.REPLICA && view().healthyReplicas().size() == 2
        && "streaming".equals(view().members().get(old).report().walReceiverStatus()));
    System.out.println("REJOINED-AFTER-FAILOVER-MS " + (System.currentTimeMillis() - failedOverAt));
    assertThat(runner.infra().restarts()).containsEntry("patroni-" + old, 1);
    assertThat(runner.core().http().cluster(key).getJsonObject("restarts").getInteger("patroni-" + old)).isEqualTo(1);
    awaitAllHealthy();
  }

  @Test
  @Order(2)
  void zombiePrimaryIsFencedAfterTheDelayWithNeverTwoWritablePrimaries() throws Exception {
    awaitAllHealthy();
    awaitSyncStandby(); // in synchronous mode Patroni promotes only the synchronous standby
    String old = primary();
    PatroniMember zombie = runner.infra().cluster().member(old);
    AtomicBoolean watching = new AtomicBoolean(true);
    AtomicInteger maxLeaders = new AtomicInteger();
    AtomicInteger maxViewPrimaries = new AtomicInteger();
    Thread watcher = new Thread(() -> {
      while (watching.get()) {
        runner.infra().cluster().clusterView().ifPresent(v -> {
          int leaders = 0;
          for (Object o : v.getJsonArray("members", new JsonArray())) {
            JsonObject m = (JsonObject) o;
            if (("leader".equals(m.getString("role")) || "master".equals(m.getString("role")))
                && "running".equals(m.getString("state")) && !m.getString("name").equals(old)) {
              leaders++;
            }
          }
          // the zombie may still call itself leader while frozen, but cannot take new writes
          maxLeaders.accumulateAndGet(leaders, Math::max);
        });
        maxViewPrimaries.accumulateAndGet(view().primaries().size(), Math::max);
        try {
          Thread.sleep(200);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    watcher.start();
    // besides the writer through the primary endpoint: sessions opened straight to the primary before the fault,
    // which keep trying to write to it (and reconnect to it) whatever happens — what a client with a cached
    // connection string does
    try (SteadyWriter w = writer();
         SteadyWriter direct = SteadyWriter.intoTable(zombie.pgPort(), "postgres",
             LocalClusters.superuserPassword(runner), "zombie_sessions")) {
      await().atMost(Duration.ofSeconds(20)).until(() -> direct.acknowledgedCount() > 20);
      long frozenAt = System.currentTimeMillis();
      zombie.freeze();
      await().atMost(Duration.ofSeconds(90)).until(() -> runner.core().failover().lastFailover(key)
          .filter(r -> r.from().equals(old)).isPresent());
      FailoverRecord r = runner.core().failover().lastFailover(key).orElseThrow();
      assertThat(r.kind()).isEqualTo("zombie-fenced");
      assertThat(r.completedAt() - frozenAt).as("resolved within failoverDelay + 30 s")
          .isLessThan(5_000 + 30_000);
      int acked = w.acknowledgedCount();
      await().atMost(Duration.ofSeconds(20)).until(() -> w.acknowledgedCount() > acked + 50);
      w.stop();
      direct.stop();
      int newPort = runner.infra().cluster().member(r.to()).pgPort();
      String pw = LocalClusters.superuserPassword(runner);
      assertThat(w.lost(newPort, "postgres", pw)).as("acknowledged writes lost").isZero();
      // synchronous mode: whatever the old primary acknowledged, even to sessions that stayed on it, is on the
      // new primary, and it acknowledged nothing once the new primary was confirmed
      System.out.println("ZOMBIE-SESSION-ACKS-AFTER-FREEZE " + direct.acknowledgedSince(frozenAt));
      assertThat(direct.lost(newPort, "postgres", pw)).as("writes acknowledged by the old primary, lost").isZero();
      assertThat(direct.acknowledgedSince(r.completedAt())).as("old primary acks after the failover").isZero();
    } finally {
      zombie.thaw();
      watching.set(false);
      watcher.join();
    }
    assertThat(maxLeaders.get()).as("running leaders besides the zombie").isLessThanOrEqualTo(1);
    assertThat(maxViewPrimaries.get()).as("live primaries in the operator's view").isLessThanOrEqualTo(1);
    awaitAllHealthy();
    assertThat(view().members().get(old).role()).as("the fenced zombie rejoins as a replica").isEqualTo(Role.REPLICA);
  }

  @Test
  @Order(3)
  void plannedSwitchoverToANamedAndToTheBestCandidateAndRefusals() {
    awaitAllHealthy();
    awaitSyncStandby();
    String from = primary();
    var standbys = view().primary().orElseThrow().report().standbys();
    String named = standbys.stream().filter(s -> "sync".equals(s.syncState())).findFirst().orElseThrow().name();
    String async = standbys.stream().filter(s -> !"sync".equals(s.syncState())).findFirst().orElseThrow().name();
    assertThat(runner.core().failover().switchover(key, async).toCompletionStage().toCompletableFuture()
        .handle((ok, e) -> e.getMessage()).join()).contains("not a synchronous standby");
    FailoverRecord r = runner.core().failover().switchover(key, named).await();
    assertThat(r.to()).isEqualTo(named);
    assertThat(r.from()).isEqualTo(from);
    awaitAllHealthy();
    assertThat(primary()).isEqualTo(named);

    awaitSyncStandby();
    FailoverRecord best = runner.core().failover().switchover(key, null).await();
    assertThat(best.from()).isEqualTo(named);
    awaitAllHealthy();

    assertThat(runner.core().failover().switchover(key, "nobody").toCompletionStage().toCompletableFuture()
        .handle((ok, e) -> e.getMessage()).join()).contains("nobody does not qualify");
    awaitSyncStandby();
    var first = runner.core().failover().switchover(key, null);
    var second = runner.core().failover().switchover(key, null);
    assertThat(second.toCompletionStage().toCompletableFuture().handle((ok, e) -> e.getMessage()).join())
        .contains("already in progress");
    first.await();
    awaitAllHealthy();
  }
}
