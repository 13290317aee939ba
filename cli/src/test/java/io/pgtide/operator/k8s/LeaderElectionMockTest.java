package io.pgtide.operator.k8s;

import io.pgtide.operator.k8s.model.OperatorConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.cli.local.LocalRunner;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Two operators, one Lease: exactly one leads and reconciles what exists when it takes the lead. */
@EnableKubernetesMockClient(crud = true)
class LeaderElectionMockTest {
  static KubernetesClient client;

  static PostgresCluster cluster(String name) {
    PostgresCluster cr = LocalRunner.read(Path.of("..", "manifests", "samples", "minimal.yaml"));
    cr.getMetadata().setName(name);
    return client.resources(PostgresCluster.class).inNamespace("default").resource(cr).create();
  }

  static String leaderLabel(String pod) {
    return client.pods().inNamespace("pgtide-system").withName(pod).get().getMetadata().getLabels()
        .get(KubernetesOperator.LEADER_LABEL);
  }

  @Test
  void exactlyOneLeaderReconcilesAndTheFollowerTakesOverWhenItDies() {
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("pgtide-system").endMetadata()
        .build()).create();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("default").endMetadata()
        .build()).create();
    for (String pod : new String[] {"operator-a", "operator-b"}) { // the operators' own pods, which they label
      client.pods().inNamespace("pgtide-system").resource(new io.fabric8.kubernetes.api.model.PodBuilder()
          .withNewMetadata().withName(pod).addToLabels("app.kubernetes.io/name", "pgtide-operator").endMetadata()
          .build()).create();
    }
    Vertx vertx = Vertx.vertx();
    try {
      // fabric8's mock server serves watches with a Vert.x 4 API that is absent next to Vert.x 5, so the informers
      // here see what their initial LIST returns: clusters exist before each operator leads
      cluster("first");
      // each operator has its own client, as two pods would; closing one's client is that pod dying
      KubernetesClient clientA = new io.fabric8.kubernetes.client.KubernetesClientBuilder()
          .withConfig(client.getConfiguration()).build();
      // what the leader alone runs (hub, coordinator) starts and stops with the Lease
      java.util.concurrent.atomic.AtomicInteger aActs = new java.util.concurrent.atomic.AtomicInteger();
      java.util.concurrent.atomic.AtomicInteger bActs = new java.util.concurrent.atomic.AtomicInteger();
      KubernetesOperator a = new KubernetesOperator(vertx, clientA, OperatorConfig.DEFAULTS, "operator-a")
          .leadership(aActs::incrementAndGet, aActs::decrementAndGet);
      KubernetesOperator b = new KubernetesOperator(vertx, client, OperatorConfig.DEFAULTS, "operator-b")
          .leadership(bActs::incrementAndGet, bActs::decrementAndGet);
      CompletableFuture<?> runA = a.start();
      await().atMost(Duration.ofSeconds(20)).until(a::isLeader);
      CompletableFuture<?> runB = b.start();
      await().atMost(Duration.ofSeconds(20)).until(() ->
          client.apps().statefulSets().inNamespace("default").withName("first").get() != null);
      assertThat(b.isLeader()).as("only one leader").isFalse();
      assertThat(leaderLabel("operator-a")).isEqualTo("true");
      assertThat(leaderLabel("operator-b")).isNull();
      assertThat(aActs).hasValue(1);
      assertThat(bActs).as("a follower runs no hub or coordinator").hasValue(0);
      // the leader dies (its client goes away and the lease is released); something happens meanwhile
      client.apps().statefulSets().inNamespace("default").withName("first").delete();
      runA.cancel(true);
      clientA.close();
      await().atMost(Duration.ofSeconds(30)).until(b::isLeader);
      assertThat(client.leases().inNamespace("pgtide-system").withName("pgtide-operator").get().getSpec()
          .getHolderIdentity()).isEqualTo("operator-b");
      assertThat(a.isLeader()).isFalse();
      assertThat(bActs).hasValue(1);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(aActs).hasValue(0));
      // the new leader reconciles: what went missing while nobody led is back, with the same CA Secret
      await().atMost(Duration.ofSeconds(30)).until(() ->
          client.apps().statefulSets().inNamespace("default").withName("first").get() != null);
      assertThat(client.secrets().inNamespace("pgtide-system").list().getItems()).extracting(x -> x.getMetadata()
          .getName()).containsOnlyOnce(OperatorConfig.DEFAULTS.caSecretName());
      await().atMost(Duration.ofSeconds(10)).until(() -> "true".equals(leaderLabel("operator-b")));
      b.stop(); // steps down: its label goes, so the Service sends no sidecar to it
      await().atMost(Duration.ofSeconds(10)).until(() -> leaderLabel("operator-b") == null);
      runB.cancel(true);
    } finally {
      vertx.close().await();
    }
  }
}
