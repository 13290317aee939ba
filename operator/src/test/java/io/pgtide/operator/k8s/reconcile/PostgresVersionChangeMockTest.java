package io.pgtide.operator.k8s.reconcile;

import io.pgtide.operator.k8s.model.OperatorConfig;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.pgtide.common.tls.CertificateAuthority;
import io.vertx.core.Vertx;
import java.io.FileInputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A postgresVersion edit on a running cluster, against fabric8's mock API server: refused with InvalidSpec until
 * in-place major upgrade exists, nothing that would roll the pods is applied (the StatefulSet keeps its PGVERSION),
 * and going back to the running version clears the condition.
 */
@EnableKubernetesMockClient(crud = true)
class PostgresVersionChangeMockTest {
  static KubernetesClient client;
  static KubernetesMockServer server;

  Vertx vertx;
  ClusterReconciler reconciler;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    reconciler = newReconciler();
    drain();
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().await();
  }

  ClusterReconciler newReconciler() throws Exception {
    return new ClusterReconciler(vertx, client, OperatorConfig.DEFAULTS,
        CertificateAuthority.create("test", Duration.ofDays(1)));
  }

  static List<String> drain() throws Exception {
    List<String> requests = new ArrayList<>();
    RecordedRequest r;
    while ((r = server.takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
      requests.add(r.getMethod() + " " + r.getPath());
    }
    return requests;
  }

  /** Runs the reconciler; the requests it made. */
  List<String> reconcile(PostgresCluster cr) throws Exception {
    drain();
    reconciler.reconcile(cr).toCompletionStage().toCompletableFuture().handle((v, e) -> null).get(60, TimeUnit.SECONDS);
    return drain();
  }

  static PostgresCluster fresh(PostgresCluster cr) {
    return client.resources(PostgresCluster.class).inNamespace(cr.getMetadata().getNamespace())
        .withName(cr.getMetadata().getName()).get();
  }

  static PostgresCluster update(PostgresCluster cr) {
    return client.resources(PostgresCluster.class).inNamespace(cr.getMetadata().getNamespace()).resource(cr)
        .update();
  }

  static StatefulSet statefulSet(PostgresCluster cr) {
    return client.apps().statefulSets().inNamespace(cr.getMetadata().getNamespace())
        .withName(cr.getMetadata().getName()).get();
  }

  /** The Spilo container's PGVERSION, as the pods get it. */
  static String pgversion(StatefulSet sts) {
    return sts.getSpec().getTemplate().getSpec().getContainers().stream().filter(c -> c.getName().equals("postgres"))
        .flatMap(c -> c.getEnv().stream()).filter(e -> e.getName().equals("PGVERSION")).findFirst().orElseThrow()
        .getValue();
  }

  static PostgresClusterStatus.Condition degraded(PostgresCluster cr) {
    return fresh(cr).getStatus().conditions.stream().filter(c -> c.type.equals("Degraded")).findFirst()
        .orElseThrow();
  }

  @Test
  void aMajorVersionEditIsRefusedAndRollsNothingUntilItIsReverted() throws Exception {
    PostgresCluster cr;
    try (var in = new FileInputStream(Path.of("..", "manifests", "samples", "minimal.yaml").toFile())) {
      cr = Serialization.unmarshal(in, PostgresCluster.class);
    }
    cr.getMetadata().setName("versioned");
    cr.getSpec().postgresVersion = 15;
    client.namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata()
        .withName(cr.getMetadata().getNamespace()).endMetadata().build()).createOr(r -> r.update());
    cr = client.resources(PostgresCluster.class).inNamespace(cr.getMetadata().getNamespace()).resource(cr).create();
    reconcile(cr);
    StatefulSet before = statefulSet(cr);
    assertThat(pgversion(before)).isEqualTo("15");
    assertThat(degraded(cr).status).isEqualTo("False");

    // the edit: 15 → 17
    PostgresCluster edited = fresh(cr);
    edited.getSpec().postgresVersion = 17;
    edited = update(edited);
    List<String> requests = reconcile(edited);
    PostgresClusterStatus.Condition refused = degraded(edited);
    assertThat(refused.status).isEqualTo("True");
    assertThat(refused.reason).isEqualTo("InvalidSpec");
    assertThat(refused.message).contains("major-version change (from 15 to 17) is not supported")
        .contains("in-place major upgrade").contains("new cluster");
    assertThat(fresh(edited).getStatus().phase).isEqualTo("Degraded");
    StatefulSet after = statefulSet(edited);
    assertThat(pgversion(after)).as("the StatefulSet keeps its PGVERSION").isEqualTo("15");
    assertThat(after.getMetadata().getResourceVersion()).as("the StatefulSet is not written at all")
        .isEqualTo(before.getMetadata().getResourceVersion());
    assertThat(Serialization.asJson(after.getSpec())).isEqualTo(Serialization.asJson(before.getSpec()));
    assertThat(requests).as("only reads and the cluster's own status are written").isNotEmpty()
        .allSatisfy(r -> assertThat(r.startsWith("GET ") || r.contains("/postgresclusters/versioned/status"))
            .as(r).isTrue());

    // an operator restart does not forget: the running major is read from the StatefulSet
    reconciler = newReconciler();
    reconcile(fresh(edited));
    assertThat(degraded(edited).reason).isEqualTo("InvalidSpec");
    assertThat(pgversion(statefulSet(edited))).isEqualTo("15");

    // back to the running major: the condition clears
    PostgresCluster reverted = fresh(edited);
    reverted.getSpec().postgresVersion = 15;
    reverted = update(reverted);
    reconcile(reverted);
    PostgresClusterStatus.Condition cleared = degraded(reverted);
    assertThat(cleared.status).isEqualTo("False");
    assertThat(cleared.reason).isEqualTo("Reconciled");
    assertThat(pgversion(statefulSet(reverted))).isEqualTo("15");
    assertThat(fresh(reverted).getStatus().phase).isNotEqualTo("Degraded");
  }
}
