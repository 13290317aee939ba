package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.pgtide.common.crd.PostgresCluster;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * pgtide takes over nothing it did not create: a cluster named {@code default} runs beside the namespace's own
 * {@code default} ServiceAccount without touching it, and an object somebody else made under a name a cluster wants
 * stops that cluster with {@code Conflict} until it is handed over with {@code pgtide.io/adopt}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OwnershipK8sE2E {
  static final String NS = "e2e-ownership";
  @RegisterExtension
  static RealKubernetes k8s = new RealKubernetes();
  static final Instant START = Instant.now();

  @BeforeAll
  static void createNamespace() {
    k8s.freshNamespace(NS);
  }

  @AfterAll
  static void deleteNamespace() {
    k8s.dropNamespace(NS);
  }

  static String cluster(String name) {
    return """
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %s, namespace: %s}
        spec:
          postgresVersion: 17
          replicas: 1
          storage: {size: 1Gi}
          resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {cpu: 1500m, memory: 768Mi}}
        """.formatted(name, NS);
  }

  static io.pgtide.common.crd.PostgresClusterStatus.Condition condition(String name, String type) {
    var cr = k8s.client().resources(PostgresCluster.class).inNamespace(NS).withName(name).get();
    return cr == null || cr.getStatus() == null ? null : cr.getStatus().conditions.stream()
        .filter(c -> type.equals(c.type)).findFirst().orElse(null);
  }

  @Test
  @Order(1)
  void aClusterNamedDefaultBecomesReadyAndLeavesTheNamespacesDefaultServiceAccountAlone() {
    // made by Kubernetes' ServiceAccount controller with the namespace
    await().atMost(Duration.ofSeconds(60)).until(() ->
        k8s.client().serviceAccounts().inNamespace(NS).withName("default").get() != null);
    ServiceAccount before = k8s.client().serviceAccounts().inNamespace(NS).withName("default").get();
    assertThat(before.getMetadata().getOwnerReferences()).isNullOrEmpty();

    k8s.apply(cluster("default"));
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(500))
        .until(() -> "True".equals(k8s.condition(NS, "default", "Ready")));

    ServiceAccount after = k8s.client().serviceAccounts().inNamespace(NS).withName("default").get();
    assertThat(after.getMetadata().getResourceVersion()).isEqualTo(before.getMetadata().getResourceVersion());
    assertThat(after.getMetadata().getOwnerReferences()).isNullOrEmpty();
    assertThat(after.getMetadata().getLabels()).isEqualTo(before.getMetadata().getLabels());
    assertThat(k8s.condition(NS, "default", "Conflict")).isEqualTo("False");
    // Patroni ran on the Kubernetes DCS (Ready) under the cluster's own account
    var pods = k8s.client().pods().inNamespace(NS).withLabel("cluster-name", "default").list().getItems();
    assertThat(pods).isNotEmpty().allSatisfy(p -> assertThat(p.getSpec().getServiceAccountName())
        .isEqualTo("default-patroni"));
    assertThat(k8s.client().serviceAccounts().inNamespace(NS).withName("default-patroni").get().getMetadata()
        .getOwnerReferences()).singleElement().satisfies(r -> assertThat(r.getName()).isEqualTo("default"));
    assertThat(k8s.operatorDenials(START)).isEmpty();
  }

  @Test
  @Order(2)
  void anObjectSomebodyElseMadeUnderAWantedNameIsAConflictUntilItIsHandedOver() {
    // its port is the one pgtide declares: server-side apply keeps fields others set, and a second, unnamed port
    // would make the adopted Service invalid (the README: adopt only what matches)
    k8s.apply("""
        apiVersion: v1
        kind: Service
        metadata: {name: ledger-repl, namespace: %s, labels: {app: billing}}
        spec:
          selector: {app: billing}
          ports: [{name: postgresql, port: 5432}]
        """.formatted(NS));
    var foreign = k8s.client().services().inNamespace(NS).withName("ledger-repl").get();

    k8s.apply(cluster("ledger"));
    await().atMost(Duration.ofSeconds(60)).until(() -> condition("ledger", "Conflict") != null
        && "True".equals(condition("ledger", "Conflict").status));
    var conflict = condition("ledger", "Conflict");
    assertThat(conflict.reason).isEqualTo("ServiceNotOwned");
    assertThat(conflict.message).contains("Service ledger-repl exists and is not owned by this cluster");
    assertThat(k8s.condition(NS, "ledger", "Degraded")).isEqualTo("True");
    var now = k8s.client().services().inNamespace(NS).withName("ledger-repl").get();
    assertThat(now.getMetadata().getResourceVersion()).isEqualTo(foreign.getMetadata().getResourceVersion());
    assertThat(now.getMetadata().getOwnerReferences()).isNullOrEmpty();
    assertThat(now.getSpec().getSelector()).isEqualTo(foreign.getSpec().getSelector());
    // nothing of the cluster was made: it waits whole
    assertThat(k8s.client().apps().statefulSets().inNamespace(NS).withName("ledger").get()).isNull();
    assertThat(k8s.client().services().inNamespace(NS).withName("ledger").get()).isNull();

    // handed over: the next retry (back-off, at most 5 min) takes it and applies the rest
    k8s.kubectl("-n", NS, "annotate", "service", "ledger-repl", "pgtide.io/adopt=true");
    await().atMost(Duration.ofSeconds(330)).pollInterval(Duration.ofSeconds(1))
        .until(() -> "False".equals(k8s.condition(NS, "ledger", "Conflict")));
    var cr = k8s.client().resources(PostgresCluster.class).inNamespace(NS).withName("ledger").get();
    // Conflict=False is written once the check passes; the objects are applied after it
    await().atMost(Duration.ofSeconds(60)).until(() -> !k8s.client().services().inNamespace(NS)
        .withName("ledger-repl").get().getMetadata().getOwnerReferences().isEmpty());
    var adopted = k8s.client().services().inNamespace(NS).withName("ledger-repl").get();
    assertThat(adopted.getMetadata().getOwnerReferences()).singleElement().satisfies(r -> {
      assertThat(r.getUid()).isEqualTo(cr.getMetadata().getUid());
      assertThat(r.getController()).isTrue();
    });
    assertThat(adopted.getSpec().getSelector()).containsEntry("cluster-name", "ledger")
        .containsEntry("spilo-role", "replica");
    await().atMost(Duration.ofSeconds(60))
        .until(() -> k8s.client().apps().statefulSets().inNamespace(NS).withName("ledger").get() != null);
    assertThat(k8s.operatorDenials(START)).isEmpty();
  }
}
