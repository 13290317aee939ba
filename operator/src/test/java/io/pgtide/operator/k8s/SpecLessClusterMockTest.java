package io.pgtide.operator.k8s;

import io.pgtide.operator.k8s.model.OperatorConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.vertx.core.Vertx;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A PostgresCluster without a spec (an API server without the CRD's schema takes one) through the leading operator's
 * work queue: it is InvalidSpec with the reason, and once a spec is applied the same name is reconciled. (Mock API
 * server: the real one refuses a spec-less cluster first, see CrdSchemaTest. Its watches do not reach this Vert.x,
 * so the update event is handed to the queue as the informer would.)
 */
@EnableKubernetesMockClient(crud = true)
class SpecLessClusterMockTest {
  static final String NS = "specless";
  static KubernetesClient client;
  Vertx vertx;
  KubernetesOperator operator;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    operator = new KubernetesOperator(vertx, client, OperatorConfig.DEFAULTS, "pgtide-operator-test");
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
        .createOr(r -> r.update());
  }

  @AfterEach
  void tearDown() {
    operator.follow();
    client.resources(PostgresCluster.class).inNamespace(NS).delete();
    vertx.close().await();
  }

  static PostgresCluster cluster() {
    return client.resources(PostgresCluster.class).inNamespace(NS).withName("orders").get();
  }

  static PostgresClusterStatus.Condition degraded() {
    PostgresCluster cr = cluster();
    return cr == null || cr.getStatus() == null ? null : cr.getStatus().conditions.stream()
        .filter(c -> "Degraded".equals(c.type)).findFirst().orElse(null);
  }

  @Test
  void aClusterWithoutSpecIsInvalidSpecAndReconciledOnceItHasOne() {
    PostgresCluster specless = new PostgresCluster();
    specless.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace(NS).build());
    client.resources(PostgresCluster.class).inNamespace(NS).resource(specless).create();

    operator.lead();

    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertThat(degraded()).isNotNull();
      assertThat(degraded().status).isEqualTo("True");
      assertThat(degraded().reason).isEqualTo("InvalidSpec");
      assertThat(degraded().message).contains("spec is missing");
    });
    assertThat(client.apps().statefulSets().inNamespace(NS).withName("orders").get()).isNull();

    PostgresCluster fixed = cluster();
    fixed.setSpec(new PostgresClusterSpec());
    fixed.getSpec().storage.size = "1Gi";
    operator.enqueue(client.resources(PostgresCluster.class).inNamespace(NS).resource(fixed).update());

    await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> {
      assertThat(client.apps().statefulSets().inNamespace(NS).withName("orders").get()).isNotNull();
      assertThat(degraded().status).isEqualTo("False");
    });
  }
}
