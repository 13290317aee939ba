package io.pgtide.operator.autoscale;

import io.pgtide.testkit.TestMachine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.local.process.ManagedProcess;
import io.pgtide.operator.LocalClusters;
import io.pgtide.cli.local.LocalRunner;
import io.pgtide.operator.state.ClusterView;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Real pgbench read load against a real local cluster: up on QPS, back to min after the cooldown. */
class AutoscalingIT {
  static LocalRunner runner;
  static String key;

  @BeforeAll
  static void up() {
    PostgresCluster resource = LocalClusters.resource("autoscale", 2, false);
    PostgresClusterSpec.AutoscalingSpec a = resource.getSpec().autoscaling;
    a.enabled = true;
    a.minReplicas = 2;
    a.maxReplicas = 3;
    a.targetQpsPerReplica = 150.0;
    a.window = "8s";
    a.sampleInterval = "1s";
    a.scaleUpCooldown = "5s";
    a.scaleDownCooldown = "15s";
    runner = LocalClusters.up(resource);
    key = runner.clusterKey();
    String pw = LocalClusters.superuserPassword(runner);
    io.pgtide.testkit.Pgbench.init(runner.primaryPort(), "postgres", pw, 1);
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

  @Test
  void readLoadOverTargetAddsAStreamingMemberAndIdleScalesBackToMin() throws Exception {
    await().atMost(Duration.ofSeconds(30)).until(() -> !runner.infra().replicaTargets().isEmpty());
    ManagedProcess load = TestMachine.get().start("pgbench-read", List.of("pgbench", "-S", "-n", "-c", "4", "-j", "2",
        "-T", "120", "-h", "127.0.0.1", "-p", "" + runner.replicasPort(), "-U", "postgres", "postgres"),
        Map.of("PGPASSWORD", LocalClusters.superuserPassword(runner)), runner.dir(),
        runner.dir().resolve("logs/pgbench-read.log"));
    try {
      await().atMost(Duration.ofSeconds(120)).until(() -> runner.infra().cluster().members().size() == 3
          && view().healthyReplicas().size() == 2);
      var status = runner.autoscaler().status();
      assertThat(status.getJsonObject("lastScale").getInteger("to")).isEqualTo(3);
      assertThat(status.getJsonObject("lastScale").getString("reason")).contains("qps/replica").contains("> target 150");
      Long lag = view().lagBytes("autoscale-2");
      assertThat(lag).isNotNull().isLessThan(16L << 20);
    } finally {
      load.stop(Duration.ofSeconds(5));
    }
    long stoppedAt = System.currentTimeMillis();
    await().atMost(Duration.ofSeconds(120)).until(() -> runner.infra().cluster().members().size() == 2);
    assertThat(System.currentTimeMillis() - stoppedAt).as("not before the down cooldown").isGreaterThan(8_000);
    // lastScale is recorded once the scale-down has completed, which is a moment after the member is gone.
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(runner.autoscaler().status().getJsonObject("lastScale").getInteger("to")).isEqualTo(2));
    assertThat(view().primary()).isPresent();
    assertThat(runner.autoscaler().status().getJsonArray("decisions").size()).as("exactly one up, one down")
        .isEqualTo(2);
  }
}
