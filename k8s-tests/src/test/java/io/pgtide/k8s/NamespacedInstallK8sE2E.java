package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.crd.PostgresCluster;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The namespaced install as a user makes it with {@code helm install} of charts/pgtide (which renders exactly
 * manifests/namespaced's objects: HelmChartIT), in a namespace of its own and watching one other: it runs a cluster there with no cluster-wide access to Secrets, leaves a
 * cluster in an unwatched namespace alone, and the API server refuses none of its requests. The cluster-wide
 * operator is scaled to 0 meanwhile (both would act on the watched namespace) and restored afterwards. Last,
 * {@code helm uninstall} removes every object of the release and keeps the CRDs (issue #31).
 */
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
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

  static final String RELEASE = "pgtide-e2e";

  /** Helm (v4, scripts/helm.sh: built from its module, cached) against the test cluster as its admin. */
  static String helm(String... args) {
    List<String> cmd = new java.util.ArrayList<>(List.of("bash", "-c", "cd \"$0\" && . scripts/k8s/lib.sh && "
        + "exec \"$(bash scripts/helm.sh)\" --kubeconfig \"$K8S_STATE/admin.kubeconfig\" \"$@\"",
        k8s.repo().toString()));
    cmd.addAll(List.of(args));
    return RealKubernetes.run(cmd, Duration.ofMinutes(10), null);
  }

  /**
   * The chart as a user installs it ({@code helm install}, namespaced: {@code watchNamespaces}), with the test
   * tier's images. HelmChartIT proves it renders exactly manifests/namespaced's objects, so this is also the
   * kustomize install.
   */
  @BeforeAll
  static void install() throws Exception {
    clusterWideOperator(0);
    for (String ns : new String[] {OPERATOR_NS, WATCHED, UNWATCHED}) {
      k8s.freshNamespace(ns);
    }
    k8s.kubectl("label", "namespace", OPERATOR_NS, "--overwrite", "pod-security.kubernetes.io/enforce=restricted");
    helm("uninstall", RELEASE, "-n", OPERATOR_NS, "--ignore-not-found");
    // the CRDs are there already, applied with the cluster-wide install this test stands beside (Helm v4 applies
    // CRDs server-side and would conflict with kubectl's client-side apply of them); a first install of the chart
    // on a fresh cluster installs them (helm template shows them: HelmChartIT)
    helm("install", RELEASE, k8s.repo().resolve("charts/pgtide").toString(), "-n", OPERATOR_NS, "--skip-crds",
        // so are the cluster-scoped user roles (pgtide-viewer, …): one install owns them
        "--set", "rbac.userRoles=false",
        "--set", "watchNamespaces={" + WATCHED + "}",
        "--set", "image.repository=localhost/pgtide/pgtide-operator", "--set", "image.tag=test",
        "--set", "images.spilo=localhost/pgtide/spilo:17",
        "--set", "images.sidecar=localhost/pgtide/pgtide-sidecar:test",
        "--set", "images.backup=localhost/pgtide/pgtide-backup:test");
    assertThat(helm("get", "manifest", RELEASE, "-n", OPERATOR_NS)).contains("PGTIDE_WATCH_NAMESPACES")
        .doesNotContain("namespace: pgtide-system");
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
      helm("uninstall", RELEASE, "-n", OPERATOR_NS, "--ignore-not-found", "--wait");
      k8s.dropNamespace(UNWATCHED);
      k8s.dropNamespace(WATCHED);
      k8s.dropNamespace(OPERATOR_NS);
      k8s.kubectl("delete", "clusterrolebinding,clusterrole", "pgtide-operator-namespaced", "--ignore-not-found");
    } finally {
      clusterWideOperator(2);
    }
  }

  /** {@code helm uninstall} after the clusters are gone: every object of the release goes, the CRDs (and so every
   * other cluster) stay. */
  @Test
  @org.junit.jupiter.api.Order(2)
  void helmUninstallRemovesTheReleaseAndKeepsTheCrds() {
    k8s.kubectl("-n", WATCHED, "delete", "postgrescluster", "solo", "--wait=true", "--timeout=180s");
    String manifest = helm("get", "manifest", RELEASE, "-n", OPERATOR_NS);
    List<String> objects = new java.util.ArrayList<>();
    for (String doc : manifest.split("(?m)^---\\s*$")) {
      var kind = java.util.regex.Pattern.compile("(?m)^kind: (\\S+)").matcher(doc);
      var name = java.util.regex.Pattern.compile("(?m)^  name: (\\S+)").matcher(doc);
      var ns = java.util.regex.Pattern.compile("(?m)^  namespace: (\\S+)").matcher(doc);
      if (kind.find() && name.find()) {
        objects.add(kind.group(1) + "/" + name.group(1) + (ns.find() ? " -n " + ns.group(1) : ""));
      }
    }
    assertThat(objects).as("the release's objects").hasSizeGreaterThan(5)
        .anyMatch(o -> o.startsWith("Deployment/pgtide-operator")).anyMatch(o -> o.startsWith("ClusterRole/"));
    helm("uninstall", RELEASE, "-n", OPERATOR_NS, "--wait");
    for (String o : objects) {
      List<String> args = new java.util.ArrayList<>(List.of("get", o.split(" ")[0], "--ignore-not-found", "-o",
          "name"));
      if (o.contains(" -n ")) {
        args.addAll(List.of("-n", o.split(" -n ")[1]));
      }
      assertThat(k8s.kubectl(args.toArray(String[]::new)).strip()).as(o + " after helm uninstall").isEmpty();
    }
    assertThat(k8s.kubectl("get", "crd", "postgresclusters.pgtide.io", "postgresusers.pgtide.io", "-o", "name")
        .strip().lines().count()).as("the CRDs stay").isEqualTo(2);
    await().atMost(Duration.ofSeconds(120)).until(() -> k8s.client().pods().inNamespace(OPERATOR_NS).list()
        .getItems().isEmpty());
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
  @org.junit.jupiter.api.Order(1)
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
