package io.pgtide.operator.metrics;

import io.pgtide.testkit.TestMachine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.operator.TestReports;
import io.pgtide.operator.failover.ClusterEvents;
import io.pgtide.operator.failover.FailoverCoordinator;
import io.pgtide.operator.hub.CommandClient;
import io.pgtide.operator.infra.Infrastructure;
import io.pgtide.operator.state.ClusterState;
import io.pgtide.testkit.PushgatewayProcess;
import io.pgtide.testkit.TestDirs;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Pushes to a real Prometheus Pushgateway and reads the series back through the Pushgateway's own API. */
class PushgatewayIT {
  Vertx vertx;
  PushgatewayProcess gateway;
  ClusterState state;
  PushgatewayPusher pusher;

  @BeforeEach
  void start() {
    gateway = PushgatewayProcess.start(TestDirs.create("pushgateway"));
    vertx = Vertx.vertx();
    state = new ClusterState(3_000);
    vertx.deployVerticle(state).await();
    Infrastructure none = new io.pgtide.operator.IdleInfrastructure();
    FailoverCoordinator failover = new FailoverCoordinator(vertx, state, none, new CommandClient(vertx),
        new OperatorMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)), new ClusterEvents(vertx));
    pusher = new PushgatewayPusher(vertx, WebClient.create(vertx), state, failover);
    for (int i = 0; i < 3; i++) {
      MemberId id = new MemberId("shop", "orders", "orders-" + i);
      JsonObject report = ContractCodec.encode(TestReports.report(id, i == 0 ? Role.PRIMARY : Role.REPLICA, 1,
          i == 0 ? 10_000 : 9_000, true));
      vertx.runOnContext(v -> state.accept(report));
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> state.view("shop/orders").members().size() == 3);
  }

  @AfterEach
  void stop() {
    vertx.close().await();
    gateway.close();
  }

  @Test
  void pushesClusterSeriesUnderTheGroupingKeyAndDeletesTheGroup() throws Exception {
    pusher.start("shop/orders", gateway.url(), 500);
    await().atMost(Duration.ofSeconds(10)).until(() -> gateway.metricsApi().contains("pgtide_cluster_members"));
    JsonObject api = new JsonObject(gateway.metricsApi());
    JsonObject group = api.getJsonArray("data").getJsonObject(0);
    assertThat(group.getJsonObject("labels").getMap()).containsEntry("job", "pgtide")
        .containsEntry("namespace", "shop").containsEntry("cluster", "orders");
    assertThat(group.encode()).contains("pgtide_cluster_primary_present").contains("pgtide_member_lag_bytes")
        .contains("orders-1");
    assertThat(group.getJsonObject("pgtide_cluster_members").getJsonArray("metrics").getJsonObject(0)
        .getString("value")).isEqualTo("3");
    assertThat(pusher.pushes()).isPositive();

    pusher.delete("shop/orders", gateway.url()).await();
    await().atMost(Duration.ofSeconds(10)).until(() -> !gateway.metricsApi().contains("pgtide_cluster_members"));
  }

  @Test
  void failedPushesAreCountedAndNeverThrow() {
    pusher.start("shop/orders", "http://127.0.0.1:" + TestMachine.freePort(), 300);
    await().atMost(Duration.ofSeconds(10)).until(() -> pusher.failures() >= 3);
    assertThat(pusher.pushes()).isZero();
  }
}
