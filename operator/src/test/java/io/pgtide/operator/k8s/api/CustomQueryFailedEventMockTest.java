package io.pgtide.operator.k8s.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.QueryFailure;
import io.pgtide.common.contract.Role;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.operator.TestReports;
import io.pgtide.operator.failover.ClusterEvents;
import io.pgtide.operator.metrics.CustomQueryFailures;
import io.pgtide.operator.state.ClusterState;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reports (as JSON, decoded as the hub decodes them) naming a failing custom query become one Warning Event
 * CustomQueryFailed on the PostgresCluster per transition into failure, not one per report. (Mock API server: fast
 * checks of the requests only; {@code CustomQueriesE2E} runs the real sidecars.)
 */
@EnableKubernetesMockClient(crud = true)
class CustomQueryFailedEventMockTest {
  static final String NS = "cq";
  static final MemberId MEMBER = new MemberId(NS, "orders", "orders-1");
  static KubernetesClient client;
  Vertx vertx;
  ClusterState state;
  ClusterEvents events;
  long seq;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace(NS).withUid("u-orders").build());
    cr.setSpec(new PostgresClusterSpec());
    client.resources(PostgresCluster.class).inNamespace(NS).resource(cr).create();
    events = new ClusterEvents(vertx);
    new KubernetesEvents(vertx, client, key -> null).start();
    state = new ClusterState(3_000);
    state.onChange(new CustomQueryFailures(events)::onChange);
    vertx.deployVerticle(state).await();
  }

  @AfterEach
  void tearDown() {
    client.resources(PostgresCluster.class).inNamespace(NS).delete();
    client.v1().events().inNamespace(NS).delete();
    vertx.close().await();
  }

  void report(QueryFailure... failing) {
    state.accept(ContractCodec.encode(TestReports.report(MEMBER, Role.REPLICA, ++seq, 100, true)
        .withCustomQueryFailures(List.of(failing))));
  }

  List<Event> failedEvents() {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> "CustomQueryFailed".equals(e.getReason())).toList();
  }

  @Test
  void oneWarningEventPerTransitionIntoFailure() {
    QueryFailure broken = new QueryFailure("pg_stat_statements",
        "ERROR: relation \"pg_stat_statements\" does not exist (42P01)");
    report();
    for (int i = 0; i < 5; i++) {
      report(broken);
    }
    // reports are taken on this thread: every event they caused is in the history now
    assertThat(events.history(NS + "/orders").stream().filter(e -> ((io.vertx.core.json.JsonObject) e)
        .getString("reason").equals("CustomQueryFailed"))).as("five reports, one transition").hasSize(1);
    await().atMost(Duration.ofSeconds(60)).until(() -> !failedEvents().isEmpty());
    assertThat(failedEvents()).singleElement().satisfies(e -> {
      assertThat(e.getType()).isEqualTo("Warning");
      assertThat(e.getMessage()).isEqualTo("custom query pg_stat_statements failed on orders-1: ERROR: relation "
          + "\"pg_stat_statements\" does not exist (42P01)");
      assertThat(e.getInvolvedObject().getName()).isEqualTo("orders");
      assertThat(e.getCount()).as("five reports, one transition").isEqualTo(1);
    });
    // it works again, then fails again: the same Event, counted twice
    report();
    report(broken);
    await().atMost(Duration.ofSeconds(60)).until(() -> failedEvents().get(0).getCount() == 2);
    assertThat(failedEvents()).hasSize(1);
  }
}
