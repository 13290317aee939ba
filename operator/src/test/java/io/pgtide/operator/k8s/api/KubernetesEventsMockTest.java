package io.pgtide.operator.k8s.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.operator.failover.ClusterEvents;
import io.vertx.core.Vertx;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An event about a cluster whose controllers have not started yet (a new leader resuming an incident kept in the
 * cluster's status) still becomes a Kubernetes Event on the resource; one about a cluster that does not exist does
 * not. (Mock API server: fast checks of the requests only.)
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesEventsMockTest {
  static final String NS = "events";
  static KubernetesClient client;
  Vertx vertx;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace(NS).withUid("u-orders").build());
    cr.setSpec(new PostgresClusterSpec());
    client.resources(PostgresCluster.class).inNamespace(NS).resource(cr).create();
  }

  @AfterEach
  void tearDown() {
    client.resources(PostgresCluster.class).inNamespace(NS).delete();
    client.v1().events().inNamespace(NS).delete();
    vertx.close().await();
  }

  @Test
  void anEventBeforeTheControllersStartIsRecordedOnTheResource() {
    new KubernetesEvents(vertx, client, key -> null).start(); // no controllers know any cluster yet
    ClusterEvents events = new ClusterEvents(vertx);
    events.emit(NS + "/orders", "Normal", "IncidentResumed", "resuming it");
    events.emit(NS + "/gone", "Normal", "IncidentResumed", "of a cluster that does not exist");

    await().atMost(Duration.ofSeconds(20)).until(() -> !client.v1().events().inNamespace(NS).list().getItems()
        .isEmpty());
    var recorded = client.v1().events().inNamespace(NS).list().getItems();
    assertThat(recorded).singleElement().satisfies(e -> {
      assertThat(e.getReason()).isEqualTo("IncidentResumed");
      assertThat(e.getInvolvedObject().getName()).isEqualTo("orders");
      assertThat(e.getInvolvedObject().getUid()).isEqualTo(client.resources(PostgresCluster.class).inNamespace(NS)
          .withName("orders").get().getMetadata().getUid());
    });
  }
}
