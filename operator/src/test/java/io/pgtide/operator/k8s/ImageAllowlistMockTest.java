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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The operator's image allowlist on the reconciler's path: a cluster asking for an image the operator does not allow
 * is InvalidSpec with the reason and gets no StatefulSet; the same image once the operator allows it runs.
 */
@EnableKubernetesMockClient(crud = true)
class ImageAllowlistMockTest {
  static final String NS = "images";
  static KubernetesClient client;
  Vertx vertx;
  KubernetesOperator operator;

  void start(OperatorConfig config) {
    vertx = Vertx.vertx();
    operator = new KubernetesOperator(vertx, client, config, "pgtide-operator-test");
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
        .createOr(r -> r.update());
  }

  @AfterEach
  void tearDown() {
    operator.follow();
    client.resources(PostgresCluster.class).inNamespace(NS).delete();
    client.apps().statefulSets().inNamespace(NS).delete();
    vertx.close().await();
  }

  static PostgresClusterStatus.Condition degraded() {
    PostgresCluster cr = client.resources(PostgresCluster.class).inNamespace(NS).withName("foreign").get();
    return cr == null || cr.getStatus() == null ? null : cr.getStatus().conditions.stream()
        .filter(c -> "Degraded".equals(c.type)).findFirst().orElse(null);
  }

  static void create() {
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName("foreign").withNamespace(NS).build());
    cr.setSpec(new PostgresClusterSpec());
    cr.getSpec().storage.size = "1Gi";
    cr.getSpec().image = "registry.example.com/db/spilo:1";
    client.resources(PostgresCluster.class).inNamespace(NS).resource(cr).create();
  }

  @Test
  void anImageTheOperatorDoesNotAllowIsInvalidSpec() {
    start(OperatorConfig.DEFAULTS);
    create();
    operator.lead();
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertThat(degraded()).isNotNull();
      assertThat(degraded().reason).isEqualTo("InvalidSpec");
      assertThat(degraded().message).isEqualTo("image registry.example.com/db/spilo:1 is not allowed by this "
          + "operator (PGTIDE_ALLOWED_IMAGES: ghcr.io/zalando/spilo-17:,ghcr.io/zalando/spilo-17@)");
    });
    assertThat(client.apps().statefulSets().inNamespace(NS).withName("foreign").get()).isNull();
  }

  @Test
  void anAllowedImageRuns() {
    start(OperatorConfig.fromEnv(Map.of("PGTIDE_ALLOWED_IMAGES", "registry.example.com/db/")));
    create();
    operator.lead();
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      var sts = client.apps().statefulSets().inNamespace(NS).withName("foreign").get();
      assertThat(sts).isNotNull();
      assertThat(sts.getSpec().getTemplate().getSpec().getContainers()).filteredOn(c -> c.getName().equals("postgres"))
          .extracting(c -> c.getImage()).isEqualTo(List.of("registry.example.com/db/spilo:1"));
    });
  }
}
