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
 * A postgresVersion edit on a running cluster, against fabric8's mock API server: a raise keeps the StatefulSet's
 * PGVERSION until status.upgrade says the upgrade to it succeeded (then the StatefulSet takes it), a downgrade is
 * refused with InvalidSpec and rolls nothing, and going back to the running version clears the condition.
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

  static PostgresCluster created(String name, int version) throws Exception {
    PostgresCluster cr;
    try (var in = new FileInputStream(Path.of("..", "manifests", "samples", "minimal.yaml").toFile())) {
      cr = Serialization.unmarshal(in, PostgresCluster.class);
    }
    cr.getMetadata().setName(name);
    cr.getSpec().postgresVersion = version;
    client.namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata()
        .withName(cr.getMetadata().getNamespace()).endMetadata().build()).createOr(r -> r.update());
    return client.resources(PostgresCluster.class).inNamespace(cr.getMetadata().getNamespace()).resource(cr).create();
  }

  /**
   * The StatefulSet patches among {@code requests}: the reconciler patches only on a real diff, so a patch means a
   * changed StatefulSet (the mock takes no server-side apply; the real tier's MajorUpgradeK8sE2E sees the new major).
   */
  static List<String> statefulSetPatches(List<String> requests, String name) {
    return requests.stream().filter(r -> r.startsWith("PATCH ") && r.contains("/statefulsets/" + name)).toList();
  }

  @Test
  void aRaiseKeepsThePodsMajorUntilTheUpgradeSucceeded() throws Exception {
    PostgresCluster cr = created("raised", 15);
    reconcile(cr);
    assertThat(pgversion(statefulSet(cr))).isEqualTo("15");
    assertThat(degraded(cr).status).isEqualTo("False");

    // the raise: 15 → 17, not upgraded yet
    PostgresCluster edited = fresh(cr);
    edited.getSpec().postgresVersion = 17;
    edited = update(edited);
    List<String> requests = reconcile(edited);
    assertThat(degraded(edited).status).as("a raise is an upgrade, not an invalid spec").isEqualTo("False");
    assertThat(statefulSetPatches(requests, "raised")).as("the pods keep the major their data has").isEmpty();

    // a failed upgrade changes nothing either
    writeUpgrade(edited, "Failed");
    assertThat(statefulSetPatches(reconcile(fresh(edited)), "raised")).isEmpty();

    // the upgrade succeeded (MajorUpgrader wrote it): the StatefulSet takes 17, also from a new operator
    writeUpgrade(edited, "Succeeded");
    reconciler = newReconciler();
    assertThat(statefulSetPatches(reconcile(fresh(edited)), "raised")).as("the StatefulSet changes now").isNotEmpty();
  }

  @Test
  void aDowngradeIsRefusedAndRollsNothingUntilItIsReverted() throws Exception {
    PostgresCluster cr = created("lowered", 17);
    reconcile(cr);
    StatefulSet before = statefulSet(cr);
    PostgresCluster down = fresh(cr);
    down.getSpec().postgresVersion = 15;
    down = update(down);
    List<String> requests = reconcile(down);
    PostgresClusterStatus.Condition refused = degraded(down);
    assertThat(refused.status).isEqualTo("True");
    assertThat(refused.reason).isEqualTo("InvalidSpec");
    assertThat(refused.message).contains("cannot go down a major version").contains("runs 17")
        .contains("back to 17");
    assertThat(fresh(down).getStatus().phase).isEqualTo("Degraded");
    assertThat(statefulSet(down).getMetadata().getResourceVersion()).as("the StatefulSet is not written")
        .isEqualTo(before.getMetadata().getResourceVersion());
    assertThat(requests).as("only reads and the cluster's own status are written").isNotEmpty()
        .allSatisfy(r -> assertThat(r.startsWith("GET ") || r.contains("/postgresclusters/lowered/status"))
            .as(r).isTrue());

    // an operator restart does not forget: the running major is read from the StatefulSet
    reconciler = newReconciler();
    reconcile(fresh(down));
    assertThat(degraded(down).reason).isEqualTo("InvalidSpec");

    // back to the running major: the condition clears
    PostgresCluster reverted = fresh(down);
    reverted.getSpec().postgresVersion = 17;
    reverted = update(reverted);
    reconcile(reverted);
    PostgresClusterStatus.Condition cleared = degraded(reverted);
    assertThat(cleared.status).isEqualTo("False");
    assertThat(cleared.reason).isEqualTo("Reconciled");
    assertThat(pgversion(statefulSet(reverted))).isEqualTo("17");
  }

  /** status.upgrade 15 → 17 in {@code phase}, as MajorUpgrader writes it. */
  static void writeUpgrade(PostgresCluster cr, String phase) {
    PostgresCluster now = fresh(cr);
    PostgresClusterStatus.Upgrade u = new PostgresClusterStatus.Upgrade();
    u.from = 15;
    u.to = 17;
    u.phase = phase;
    now.getStatus().upgrade = u;
    client.resources(PostgresCluster.class).inNamespace(now.getMetadata().getNamespace()).resource(now)
        .updateStatus();
  }
}
