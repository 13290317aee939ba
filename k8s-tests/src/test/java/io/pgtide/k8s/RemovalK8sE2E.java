package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Diffs that remove: the operator writes its objects by server-side apply under the field manager
 * {@code pgtide-operator}, so a field dropped from the spec is dropped from the StatefulSet (a CPU limit, a node
 * selector entry, a toleration), while what another manager set on the same object stays. Containment alone (the
 * server holds every value pgtide declares) would have called the shrunken object unchanged and left them all.
 *
 * <p>The spec has no field of its own for member labels or annotations; the node selector (a map of labels the
 * pod requires) and the tolerations are the label-like fields it renders.
 */
class RemovalK8sE2E {
  static final String NS = "e2e-removal";
  static final String NAME = "trim";
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

  static String cluster(String limits, String scheduling) {
    return """
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %s, namespace: %s}
        spec:
          postgresVersion: 17
          replicas: 1
          storage: {size: 1Gi}
          resources: {requests: {cpu: 100m, memory: 256Mi}, limits: %s}
        %s
        """.formatted(NAME, NS, limits, scheduling);
  }

  static StatefulSet statefulSet() {
    return k8s.client().apps().statefulSets().inNamespace(NS).withName(NAME).get();
  }

  static Container postgres(StatefulSet s) {
    return s.getSpec().getTemplate().getSpec().getContainers().stream()
        .filter(c -> "postgres".equals(c.getName())).findFirst().orElseThrow();
  }

  @Test
  void aLimitANodeSelectorEntryAndATolerationDroppedFromTheSpecAreDroppedFromTheStatefulSet() {
    // every node carries kubernetes.io/os=linux: the selector admits them all, the pod schedules as before
    k8s.apply(cluster("{cpu: 1500m, memory: 768Mi}", """
          scheduling:
            nodeSelector: {kubernetes.io/os: linux}
            tolerations: [{key: pgtide.io/e2e-removal, operator: Exists, effect: NoSchedule}]
        """));
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(500))
        .until(() -> "True".equals(k8s.condition(NS, NAME, "Ready")));
    StatefulSet before = statefulSet();
    assertThat(postgres(before).getResources().getLimits()).containsKeys("cpu", "memory");
    assertThat(before.getSpec().getTemplate().getSpec().getNodeSelector()).containsEntry("kubernetes.io/os", "linux");
    assertThat(before.getSpec().getTemplate().getSpec().getTolerations())
        .anySatisfy(t -> assertThat(t.getKey()).isEqualTo("pgtide.io/e2e-removal"));
    assertThat(before.getMetadata().getManagedFields())
        .anySatisfy(m -> {
          assertThat(m.getManager()).isEqualTo("pgtide-operator");
          assertThat(m.getOperation()).isEqualTo("Apply");
        });
    // somebody else's label on the same object: not pgtide's to remove
    k8s.kubectl("-n", NS, "label", "statefulset", NAME, "team=ledger");

    k8s.apply(cluster("{memory: 768Mi}", ""));
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
      StatefulSet s = statefulSet();
      return !postgres(s).getResources().getLimits().containsKey("cpu");
    });
    StatefulSet after = statefulSet();
    assertThat(postgres(after).getResources().getLimits()).containsOnlyKeys("memory");
    assertThat(after.getSpec().getTemplate().getSpec().getNodeSelector()).isNullOrEmpty();
    assertThat(after.getSpec().getTemplate().getSpec().getTolerations()).isNullOrEmpty();
    assertThat(after.getMetadata().getLabels()).containsEntry("team", "ledger");

    // the member rolls onto the trimmed template and the cluster is Ready again; the next reconcile writes nothing
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(1)).until(() -> {
      var pod = k8s.client().pods().inNamespace(NS).withName(NAME + "-0").get();
      return pod != null && pod.getSpec().getContainers().stream().filter(c -> "postgres".equals(c.getName()))
          .allMatch(c -> c.getResources().getLimits() == null || !c.getResources().getLimits().containsKey("cpu"))
          && "True".equals(k8s.condition(NS, NAME, "Ready"));
    });
    // a label change of an owned object makes the operator reconcile the cluster; the reconcile finds the
    // fingerprint of what it applied and every declared value, and writes nothing
    k8s.kubectl("-n", NS, "label", "--overwrite", "statefulset", NAME, "team=billing");
    String settled = statefulSet().getMetadata().getResourceVersion();
    await().during(Duration.ofSeconds(15)).atMost(Duration.ofSeconds(20))
        .until(() -> settled.equals(statefulSet().getMetadata().getResourceVersion()));
    assertThat(k8s.operatorDenials(START)).isEmpty();
  }
}
