package io.pgtide.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.FileInputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The narrowed RBAC proven both ways from the API server's audit log (issue #29): a cluster with a user becomes
 * ready and syncs it without one request of the operator or of the cluster's Patroni being refused, and every
 * verb the shipped roles grant on Secrets is one the operator was seen to use (or is listed below with why not).
 */
class LeastPrivilegeK8sE2E {
  static final String NS = "e2e-least-privilege";
  static final String NAME = "lp";
  @RegisterExtension
  static RealKubernetes k8s = new RealKubernetes();
  static final Instant START = Instant.now();

  /**
   * Verbs on Secrets the shipped roles may grant without the operator using them in this run, each with its reason.
   * get (its Secrets), list (SecretPasswords reads a namespace's at once) and create are used by every cluster.
   */
  static final Map<String, String> UNUSED_SECRET_VERBS_ALLOWED = Map.of(
      "patch", "the sidecars' certificate is issued again only when a third of its 90 days is left, the CA changed "
          + "or it is not bound to the cluster's uid (ClusterCertificates): not within a test run");

  @BeforeAll
  static void createNamespace() {
    k8s.freshNamespace(NS);
  }

  @AfterAll
  static void deleteNamespace() {
    k8s.dropNamespace(NS);
  }

  static Predicate<String> operators() {
    // the cluster-wide install's and NamespacedInstallK8sE2E's (its own namespace, the same account name)
    return AuditLog.serviceAccounts("pgtide-operator"::equals);
  }

  @Test
  void noCallIsRefusedAndEverySecretVerbGrantedIsUsed() throws Exception {
    k8s.apply("""
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: %s, namespace: %s}
        spec:
          replicas: 1
          storage: {size: 1Gi}
          resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {cpu: 1500m, memory: 768Mi}}
          users:
            - {name: app}
        """.formatted(NAME, NS));
    await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofSeconds(1))
        .until(() -> "True".equals(k8s.condition(NS, NAME, "Ready")));
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1))
        .until(() -> "True".equals(k8s.condition(NS, NAME, "UsersSynced")));
    // Patroni has run its loop on the narrowed Role a few more times: it renews the leader lock (a patch of
    // <cluster>-leader) every loop_wait (10 s), so three new versions of it take about 20 s
    String first = leaderVersion();
    java.util.Set<String> seen = new java.util.HashSet<>(java.util.Set.of(first));
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).until(() -> {
      seen.add(leaderVersion());
      return seen.size() >= 3;
    });

    List<AuditLog.Event> events = k8s.auditEvents(AuditLog.linesOf(":pgtide-operator", ":" + NAME + "-patroni"));
    // (a) refused: any 403 in this live namespace (RBAC or not), and RBAC denials anywhere (other tests' namespaces
    // may be terminating, which refuses writes with 403 by admission, not by RBAC)
    Predicate<String> ours = operators().or(patroni()::equals);
    List<String> refused = AuditLog.forbidden(events, ours, START).stream()
        .filter(e -> e.namespace().equals(NS) || e.decision().equals("forbid")).map(AuditLog.Event::describe)
        .toList();
    assertThat(refused).as("requests of the operator or Patroni refused with 403").isEmpty();
    // the cluster's Patroni did run under its own account (or the check above proves nothing)
    assertThat(events).anyMatch(e -> e.user().equals(patroni()) && e.resource().equals("configmaps")
        && e.verb().equals("create"));

    // (b) every verb granted on Secrets is used
    Set<String> used = AuditLog.verbsUsed(events, operators(), "", "secrets");
    Set<String> granted = grantedOnSecrets();
    assertThat(granted).as("verbs on Secrets in the shipped roles").isNotEmpty();
    List<String> unused = new ArrayList<>();
    for (String verb : granted) {
      if (!used.contains(verb) && !UNUSED_SECRET_VERBS_ALLOWED.containsKey(verb)) {
        unused.add(verb);
      }
    }
    assertThat(unused).as("verbs on Secrets granted but never used (used: " + used + ")").isEmpty();
    // and Patroni is granted nothing on Secrets at all
    assertThat(k8s.client().rbac().roles().inNamespace(NS).withName(NAME + "-patroni").get().getRules())
        .noneMatch(r -> r.getResources().contains("secrets") || r.getResources().contains("*"));
  }

  static String leaderVersion() {
    var cm = k8s.client().configMaps().inNamespace(NS).withName(NAME + "-leader").get();
    return cm == null ? "" : cm.getMetadata().getResourceVersion();
  }

  static String patroni() {
    return "system:serviceaccount:" + NS + ":" + NAME + "-patroni";
  }

  /** The verbs on core Secrets of every ClusterRole and Role shipped for the operator, both installs. */
  static Set<String> grantedOnSecrets() throws Exception {
    Set<String> verbs = new TreeSet<>();
    for (String file : List.of("manifests/rbac/clusterrole.yaml", "manifests/namespaced/rbac.yaml")) {
      for (HasMetadata o : load(k8s.repo().resolve(file))) {
        List<PolicyRule> rules = o instanceof ClusterRole c ? c.getRules() : o instanceof Role r ? r.getRules()
            : List.of();
        rules.stream().filter(r -> r.getApiGroups().contains("") && (r.getResources().contains("secrets")
            || r.getResources().contains("*"))).forEach(r -> verbs.addAll(r.getVerbs()));
      }
    }
    return verbs;
  }

  static List<HasMetadata> load(Path file) throws Exception {
    try (var in = new FileInputStream(file.toFile())) {
      Object parsed = Serialization.unmarshal(in);
      List<?> items = parsed instanceof List<?> l ? l
          : parsed instanceof io.fabric8.kubernetes.api.model.KubernetesList kl ? kl.getItems() : List.of(parsed);
      return items.stream().filter(HasMetadata.class::isInstance).map(HasMetadata.class::cast).toList();
    }
  }
}
