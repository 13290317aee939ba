package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.FileInputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The shipped RBAC is what the code uses (issue #29, least privilege): Secrets only read and created, Patroni's
 * Role narrowed to its own ConfigMaps by name, and the operator holding every grant it hands out (the API server
 * refuses a Role that grants more than its creator holds). LeastPrivilegeK8sE2E checks the same on a real API
 * server from its audit log.
 */
class RbacManifestTest {
  static final Path CLUSTER_WIDE = Path.of("..", "manifests", "rbac", "clusterrole.yaml");
  static final Path NAMESPACED = Path.of("..", "manifests", "namespaced", "rbac.yaml");

  static List<HasMetadata> load(Path file) throws Exception {
    try (var in = new FileInputStream(file.toFile())) {
      Object parsed = Serialization.unmarshal(in);
      List<?> items = parsed instanceof List<?> l ? l
          : parsed instanceof io.fabric8.kubernetes.api.model.KubernetesList kl ? kl.getItems() : List.of(parsed);
      return items.stream().map(HasMetadata.class::cast).toList();
    }
  }

  static List<PolicyRule> clusterRole(Path file, String name) throws Exception {
    return load(file).stream().filter(o -> o instanceof ClusterRole && name.equals(o.getMetadata().getName()))
        .map(o -> ((ClusterRole) o).getRules()).findFirst().orElseThrow();
  }

  static List<PolicyRule> role(Path file, String name) throws Exception {
    return load(file).stream().filter(o -> o instanceof Role && name.equals(o.getMetadata().getName()))
        .map(o -> ((Role) o).getRules()).findFirst().orElseThrow();
  }

  /** Every verb granted on {@code resource} of the core group, by rules without resourceNames. */
  static Set<String> verbs(List<PolicyRule> rules, String resource) {
    Set<String> verbs = new TreeSet<>();
    rules.stream().filter(r -> r.getApiGroups().contains("") && r.getResources().contains(resource))
        .forEach(r -> verbs.addAll(r.getVerbs()));
    return verbs;
  }

  /** Grants of {@code wanted} that {@code held} does not cover: "group resource verb [names]" each. */
  static List<String> uncovered(List<PolicyRule> wanted, List<PolicyRule> held) {
    List<String> missing = new ArrayList<>();
    for (PolicyRule w : wanted) {
      for (String g : w.getApiGroups()) {
        for (String res : w.getResources()) {
          for (String v : w.getVerbs()) {
            List<String> names = w.getResourceNames() == null ? List.of() : w.getResourceNames();
            boolean ok = held.stream().anyMatch(h -> h.getApiGroups().contains(g) && h.getResources().contains(res)
                && h.getVerbs().contains(v) && (h.getResourceNames() == null || h.getResourceNames().isEmpty()
                || (!names.isEmpty() && h.getResourceNames().containsAll(names))));
            if (!ok) {
              missing.add(g + " " + res + " " + v + " " + names);
            }
          }
        }
      }
    }
    return missing;
  }

  @Test
  void theOperatorOnlyGetsListsCreatesAndPatchesSecrets() throws Exception {
    // patch: the sidecars' certificate issued again (ClusterCertificates); no update, watch or delete
    assertThat(verbs(clusterRole(CLUSTER_WIDE, "pgtide-operator"), "secrets"))
        .containsExactlyInAnyOrder("get", "list", "create", "patch");
    assertThat(verbs(role(NAMESPACED, "pgtide-operator"), "secrets"))
        .containsExactlyInAnyOrder("get", "list", "create", "patch");
    // its own namespace: the CA, created on first start and then read
    assertThat(verbs(role(NAMESPACED, "pgtide-operator-self"), "secrets")).containsExactlyInAnyOrder("get", "create");
  }

  @Test
  void theNamespacedRoleIsTheClusterRolesNamespacedPart() throws Exception {
    Set<String> clusterScoped = Set.of("storageclasses", "tokenreviews", "subjectaccessreviews", "leases");
    List<PolicyRule> namespaced = clusterRole(CLUSTER_WIDE, "pgtide-operator").stream()
        .filter(r -> r.getResources().stream().noneMatch(clusterScoped::contains)).toList();
    assertThat(role(NAMESPACED, "pgtide-operator")).isEqualTo(namespaced);
  }

  @Test
  void patronisRoleReachesItsOwnConfigMapsByNameAndNoEndpointsOrServices() {
    Role role = ClusterModel.role(OwnershipTest.cluster("orders", "uid-1"));
    List<PolicyRule> rules = role.getRules();
    assertThat(rules).noneMatch(r -> r.getResources().contains("endpoints") || r.getResources().contains("services")
        || r.getResources().contains("secrets"));
    assertThat(rules).allSatisfy(r -> assertThat(r.getVerbs()).doesNotContain("delete", "deletecollection",
        "update", "*"));
    // get and patch (reading and writing another object's state) only on Patroni's own four ConfigMaps
    PolicyRule named = rules.stream().filter(r -> r.getVerbs().contains("patch")
        && r.getResources().contains("configmaps")).findFirst().orElseThrow();
    assertThat(named.getResourceNames()).containsExactlyInAnyOrder("orders-config", "orders-leader",
        "orders-failover", "orders-sync");
    assertThat(named.getVerbs()).containsExactlyInAnyOrder("get", "patch");
    // create, list and watch cannot be restricted by name in RBAC: the only unnamed ConfigMap grants
    assertThat(rules.stream().filter(r -> r.getResources().contains("configmaps")
        && (r.getResourceNames() == null || r.getResourceNames().isEmpty())).flatMap(r -> r.getVerbs().stream()))
        .containsExactlyInAnyOrder("create", "list", "watch");
  }

  @Test
  void theOperatorHoldsEveryGrantItGivesPatroni() throws Exception {
    Role role = ClusterModel.role(OwnershipTest.cluster("orders", "uid-1"));
    assertThat(uncovered(role.getRules(), clusterRole(CLUSTER_WIDE, "pgtide-operator"))).isEmpty();
    assertThat(uncovered(role.getRules(), role(NAMESPACED, "pgtide-operator"))).isEmpty();
  }

  @Test
  void patroniIsNotPointedAtTheDefaultNamespacesKubernetesEndpoints() {
    var cr = OwnershipTest.cluster("orders", "uid-1");
    var env = ClusterModel.spilo(cr, OperatorConfig.DEFAULTS).getEnv();
    assertThat(env).anySatisfy(e -> {
      assertThat(e.getName()).isEqualTo("KUBERNETES_BYPASS_API_SERVICE");
      assertThat(e.getValue()).isEqualTo("false");
    });
  }
}
