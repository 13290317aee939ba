package io.pgtide.operator.autoscale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.contract.Addresses;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.operator.LocalClusters;
import io.pgtide.operator.failover.FailoverRecord;
import io.pgtide.cli.local.LocalRunner;
import io.pgtide.testkit.SteadyWriter;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Scale-down when the primary is the highest ordinal, on a real local cluster under a steady writer: a planned
 * switchover first, then the removal; writes fail only inside the switchover window and none acknowledged is lost.
 * (pgbench cannot reconnect — a client aborts on the first lost connection — so the writer here is ours, which
 * reconnects through the primary endpoint and records when each attempt failed.)
 */
class ScaleDownPrimaryIT {
  static LocalRunner runner;
  static String key;

  @BeforeAll
  static void up() {
    PostgresCluster resource = LocalClusters.resource("scaledown", 2, false);
    PostgresClusterSpec.AutoscalingSpec a = resource.getSpec().autoscaling;
    a.enabled = false; // enabled once the primary sits at the highest ordinal
    a.minReplicas = 1;
    a.maxReplicas = 2;
    a.targetQpsPerReplica = 100_000.0;
    a.window = "4s";
    a.sampleInterval = "1s";
    a.scaleUpCooldown = "5s";
    a.scaleDownCooldown = "5s";
    a.removedMemberStorage = "Delete";
    runner = LocalClusters.up(resource);
    key = runner.clusterKey();
  }

  @AfterAll
  static void down() {
    if (runner != null) {
      runner.close();
    }
  }

  @Test
  void primaryAtTheHighestOrdinalIsSwitchedAwayBeforeItIsRemoved() throws Exception {
    String low = "scaledown-0";
    String high = "scaledown-1";
    if (!runner.core().state().view(key).primary().orElseThrow().id().member().equals(high)) {
      runner.core().failover().switchover(key, high).await();
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> runner.core().failover().endpoint(key).orElse("").equals(high)
        && runner.core().state().view(key).healthyReplicas().size() == 1);
    List<String> events = new CopyOnWriteArrayList<>();
    runner.core().vertx().eventBus().<JsonObject>consumer(Addresses.CLUSTER_EVENTS, m -> events.add(m.body()
        .getString("reason")));
    Path highDir = runner.infra().cluster().member(high).dir();
    try (SteadyWriter writer = new SteadyWriter(runner.primaryPort(), "postgres",
        LocalClusters.superuserPassword(runner))) {
      await().atMost(Duration.ofSeconds(20)).until(() -> writer.acknowledgedCount() > 50);
      runner.resource().getSpec().autoscaling.enabled = true;
      runner.autoscaler().start();

      try {
        await().atMost(Duration.ofSeconds(120)).until(() -> runner.infra().cluster().members().size() == 1);
      } catch (ConditionTimeoutException e) {
        // say why the autoscaler held: its decisions and the events are the only record of it
        throw new AssertionError("no scale-down within 120 s; autoscaler " + runner.autoscaler().status().encode()
            + "; events " + events + "; view " + runner.core().state().view(key), e);
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> writer.lastAckAt() > System.currentTimeMillis() - 1_000);
      writer.stop();

      FailoverRecord switchover = runner.core().failover().lastFailover(key).orElseThrow();
      assertThat(switchover.kind()).isEqualTo("switchover");
      assertThat(switchover.from()).isEqualTo(high);
      assertThat(switchover.to()).isEqualTo(low);
      assertThat(events).containsSubsequence("ScaleDownSwitchover", "SwitchoverStarted", "SwitchoverCompleted",
          "ScaledDown");
      assertThat(runner.infra().cluster().members()).extracting(m -> m.name()).containsExactly(low);
      assertThat(runner.core().state().view(key).primary().orElseThrow().id().member()).isEqualTo(low);
      JsonObject lastScale = runner.autoscaler().status().getJsonObject("lastScale");
      assertThat(lastScale.getInteger("from")).isEqualTo(2);
      assertThat(lastScale.getInteger("to")).isEqualTo(1);
      // writes fail only while the primary changes hands (plus the writer's reconnect pause), never after
      long windowEnd = switchover.completedAt() + 3_000;
      assertThat(writer.errorTimes()).allSatisfy(t -> assertThat(t)
          .isBetween(switchover.detectedAt() - 1_000, windowEnd));
      assertThat(writer.lost(runner.primaryPort(), "postgres", LocalClusters.superuserPassword(runner)))
          .as("acknowledged writes lost").isZero();
      assertThat(Files.exists(highDir)).as("removedMemberStorage: Delete removes the member's data").isFalse();
      System.out.printf("SCALE-DOWN-SWITCHOVER-MS %d, writer errors %d%n", switchover.durationMs(),
          writer.errors());
    }
  }
}
