package io.pgtide.operator.k8s.reconcile;

import io.pgtide.operator.k8s.model.OperatorConfig;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.operator.failover.ClusterEvents;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every line pgtide logs while it reconciles a cluster, or records one of its events, names the cluster
 * ({@code [namespace/name]}), whichever thread wrote it: slf4j-simple, the backend, prints the message and no MDC.
 */
@EnableKubernetesMockClient(crud = true)
class ClusterLogMockTest {
  static KubernetesClient client;
  static KubernetesMockServer server;
  Vertx vertx = Vertx.vertx();

  @AfterEach
  void tearDown() {
    vertx.close().await();
  }

  static PostgresCluster cluster(String name, int postgresVersion) throws Exception {
    PostgresCluster cr = ClusterReconcilerMockTest.sample("minimal.yaml");
    cr.getMetadata().setName(name);
    cr.getSpec().postgresVersion = postgresVersion;
    return ClusterReconcilerMockTest.applyTo(client, cr);
  }

  void reconcile(ClusterReconciler reconciler, PostgresCluster cr) throws Exception {
    reconciler.reconcile(cr).toCompletionStage().toCompletableFuture().handle((v, e) -> null).get();
  }

  @Test
  void everyLineOfAReconcileAndOfAnEventNamesItsCluster() throws Exception {
    var reconciler = new ClusterReconciler(vertx, client, OperatorConfig.DEFAULTS,
        CertificateAuthority.create("test", Duration.ofDays(1)));
    // somebody else's Service under a name the cluster wants: a conflict, logged
    client.services().inNamespace("default").resource(new ServiceBuilder().withNewMetadata().withName("taken")
        .endMetadata().withNewSpec().addNewPort().withPort(5432).endPort().endSpec().build()).create();
    PostgresCluster ok = cluster("fine", 17);
    PostgresCluster invalid = cluster("too-old", 11);
    PostgresCluster conflicted = cluster("taken", 17);
    var events = new ClusterEvents(vertx);

    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      reconcile(reconciler, ok);
      reconcile(reconciler, invalid);
      reconcile(reconciler, conflicted);
      PostgresCluster deleting = client.resources(PostgresCluster.class).inNamespace("default").withName("fine").get();
      deleting.getMetadata().setDeletionTimestamp("2026-01-01T00:00:00Z");
      reconcile(reconciler, deleting);
      events.emit("default/fine", "Normal", "FailoverCompleted", "default/fine-1 promoted");
    } finally {
      System.setErr(err);
    }
    // pgtide's own loggers: its classes and its event log
    List<String> ours = Arrays.stream(captured.toString(StandardCharsets.UTF_8).split("\n"))
        .filter(l -> l.contains(" io.pgtide.") || l.contains(" pgtide.events ")).toList();
    System.err.print(captured.toString(StandardCharsets.UTF_8));
    assertThat(ours).as("the invalid spec, the conflict, the delete and the event").hasSizeGreaterThanOrEqualTo(4);
    assertThat(ours).allSatisfy(l -> assertThat(l).containsPattern("\\[default/(fine|too-old|taken)\\] "));
    assertThat(ours).anySatisfy(l -> assertThat(l).contains("[default/too-old] invalid spec"));
    assertThat(ours).anySatisfy(l -> assertThat(l).contains("[default/taken] nothing applied"));
    assertThat(ours).anySatisfy(l -> assertThat(l).contains("[default/fine] deleted"));
  }
}
