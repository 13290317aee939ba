package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.crd.PostgresCluster;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The namespaced install (manifests/namespaced/, built with kubectl's kustomize) as a user applies it, in a namespace
 * of its own and watching one other: it runs a cluster there with no cluster-wide access to Secrets, leaves a
 * cluster in an unwatched namespace alone, and the API server refuses none of its requests. The cluster-wide
 * operator is scaled to 0 meanwhile (both would act on the watched namespace) and restored afterwards.
 */
class NamespacedInstallK8sE2E {
  static final String OPERATOR_NS = "e2e-nsop";
  static final String WATCHED = "e2e-nsapp";
  static final String UNWATCHED = "e2e-nsother";
  static final String SA = "system:serviceaccount:" + OPERATOR_NS + ":pgtide-operator";
  @RegisterExtension
  static RealKubernetes k8s = new RealKubernetes();
  static final Instant START = Instant.now();

  static void clusterWideOperator(int replicas) {
    k8s.kubectl("-n", "pgtide-system", "scale", "deployment/pgtide-operator", "--replicas=" + replicas);
    if (replicas == 0) {
      await().atMost(Duration.ofSeconds(180)).until(() -> k8s.client().pods().inNamespace("pgtide-system")
          .withLabel("app.kubernetes.io/name", "pgtide-operator").list().getItems().isEmpty());
    } else {
      await().atMost(Duration.ofSeconds(300)).until(() -> !k8s.client().pods().inNamespace("pgtide-system")
          .withLabel("pgtide.io/leader", "true").list().getItems().isEmpty());
    }
  }

  @BeforeAll
  static void install() throws Exception {
    clusterWideOperator(0);
    for (String ns : new String[] {OPERATOR_NS, WATCHED, UNWATCHED}) {
      k8s.freshNamespace(ns);
    }
    // the manifests as shipped, with their example namespaces and images replaced (what a user's overlay does)
    String rendered = k8s.kubectl("kustomize", k8s.repo().resolve("manifests/namespaced").toString());
    String yaml = rendered
        .replace("namespace: pgtide-system", "namespace: " + OPERATOR_NS)
        .replace("namespace: shop", "namespace: " + WATCHED)
        .replace("value: shop", "value: " + WATCHED)
        .replaceAll("image: ghcr.io/pgtide/pgtide-operator:.*", "image: localhost/pgtide/pgtide-operator:test")
        .replaceAll("value: ghcr.io/zalando/spilo-.*", "value: localhost/pgtide/spilo:17")
        .replaceAll("value: ghcr.io/pgtide/pgtide-sidecar:.*", "value: localhost/pgtide/pgtide-sidecar:test")
        .replaceAll("value: ghcr.io/pgtide/pgtide-backup:.*", "value: localhost/pgtide/pgtide-backup:test")
        .replace("kubernetes.io/metadata.name: pgtide-system", "kubernetes.io/metadata.name: " + OPERATOR_NS);
    // the Namespace object is ours (created above, enforcing restricted like the shipped one)
    yaml = java.util.Arrays.stream(yaml.split("(?m)^---\\s*$"))
        .filter(doc -> !doc.contains("kind: Namespace")).reduce((a, b) -> a + "\n---\n" + b).orElseThrow();
    assertThat(yaml).doesNotContain("pgtide-system").contains("PGTIDE_WATCH_NAMESPACES");
    k8s.kubectl("label", "namespace", OPERATOR_NS, "--overwrite", "pod-security.kubernetes.io/enforce=restricted");
    k8s.apply(yaml);
    await().atMost(Duration.ofSeconds(300)).until(() -> !k8s.client().pods().inNamespace(OPERATOR_NS)
        .withLabel("pgtide.io/leader", "true").list().getItems().isEmpty());
  }

  @AfterAll
  static void uninstall() {
    try {
      // the cluster first, while the operator still holds its Role there: deleting the namespace first would take
      // the RoleBinding with it, and the cluster's finalizer could never be removed
      k8s.kubectl("-n", WATCHED, "delete", "postgrescluster", "solo", "--ignore-not-found", "--wait=true",
          "--timeout=180s");
      k8s.dropNamespace(UNWATCHED);
      k8s.dropNamespace(WATCHED);
      k8s.dropNamespace(OPERATOR_NS);
      k8s.kubectl("delete", "clusterrolebinding,clusterrole", "pgtide-operator-namespaced", "--ignore-not-found");
    } finally {
      clusterWideOperator(2);
    }
  }

  static String cluster(String ns) {
    return """
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: solo, namespace: %s}
        spec:
          postgresVersion: 17
          replicas: 1
          storage: {size: 1Gi}
        """.formatted(ns);
  }

  @Test
  void runsTheClustersOfItsNamespacesWithoutClusterWideSecrets() {
    k8s.apply(cluster(UNWATCHED));
    k8s.apply(cluster(WATCHED));
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(1))
        .until(() -> "True".equals(k8s.condition(WATCHED, "solo", "Ready")));
    // by the time its own cluster is Ready, the other one (applied first) would have had its StatefulSet
    assertThat(k8s.client().apps().statefulSets().inNamespace(UNWATCHED).withName("solo").get()).isNull();
    PostgresCluster other = k8s.client().resources(PostgresCluster.class).inNamespace(UNWATCHED).withName("solo").get();
    assertThat(other.getStatus()).isNull();
    // least privilege, as the API server sees it
    assertThat(canI("get", "secrets", "-n", WATCHED)).isTrue();
    assertThat(canI("list", "secrets", "--all-namespaces")).isFalse();
    assertThat(canI("get", "secrets", "-n", UNWATCHED)).isFalse();
    assertThat(canI("get", "secrets", "-n", "pgtide-system")).isFalse();
    assertThat(k8s.denials(SA, START)).as("requests the namespaced install's RBAC refused").isEmpty();
  }

  static boolean canI(String verb, String resource, String... scope) {
    String[] args = new String[5 + scope.length];
    args[0] = "auth";
    args[1] = "can-i";
    args[2] = verb;
    args[3] = resource;
    System.arraycopy(scope, 0, args, 4, scope.length);
    args[args.length - 1] = "--as=" + SA;
    try {
      return k8s.kubectl(args).strip().equals("yes");
    } catch (IllegalStateException e) {
      if (e.getMessage().contains("(exit 1): no")) {
        return false; // kubectl auth can-i exits 1 for "no"
      }
      throw e;
    }
  }
}
