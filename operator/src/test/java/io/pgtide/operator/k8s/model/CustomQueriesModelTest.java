package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import org.junit.jupiter.api.Test;

/** monitoring.customQueries on Kubernetes: each ConfigMap mounted read-only, whole, into the sidecar, named by env. */
class CustomQueriesModelTest {
  static PodSpec podSpec(PostgresClusterSpec.CustomQueriesSpec... queries) {
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace("shop").withUid("u-1").build());
    cr.setSpec(new PostgresClusterSpec());
    cr.getSpec().monitoring.customQueries.addAll(java.util.List.of(queries));
    return ClusterModel.statefulSet(cr, OperatorConfig.DEFAULTS).getSpec().getTemplate().getSpec();
  }

  static PostgresClusterSpec.CustomQueriesSpec entry(String configMap, String key) {
    PostgresClusterSpec.CustomQueriesSpec q = new PostgresClusterSpec.CustomQueriesSpec();
    q.configMap = configMap;
    q.key = key;
    return q;
  }

  static Container sidecar(PodSpec pod) {
    return pod.getContainers().stream().filter(c -> c.getName().equals("pgtide-sidecar")).findFirst().orElseThrow();
  }

  @Test
  void eachConfigMapIsMountedReadOnlyAndNamedByEnv() {
    PodSpec pod = podSpec(entry("orders-queries", "queries.yaml"), entry("shared-queries", "business.yaml"));
    var volume = pod.getVolumes().stream().filter(v -> v.getName().equals("custom-queries-1")).findFirst().orElseThrow();
    assertThat(volume.getConfigMap().getName()).isEqualTo("shared-queries");
    assertThat(volume.getConfigMap().getOptional()).isTrue();
    assertThat(volume.getConfigMap().getItems()).singleElement()
        .satisfies(i -> assertThat(i.getKey()).isEqualTo("business.yaml"));
    Container sidecar = sidecar(pod);
    assertThat(sidecar.getVolumeMounts()).filteredOn(m -> m.getName().startsWith("custom-queries-"))
        .allSatisfy(m -> {
          assertThat(m.getReadOnly()).isTrue();
          assertThat(m.getSubPath()).as("a subPath mount never sees an edit").isNull();
        }).hasSize(2);
    assertThat(sidecar.getEnv()).filteredOn(e -> e.getName().equals("PGTIDE_CUSTOM_QUERIES")).singleElement()
        .satisfies(e -> assertThat(e.getValue()).isEqualTo(
            "/etc/pgtide/custom-queries/0/queries.yaml:/etc/pgtide/custom-queries/1/business.yaml"));
    // the Spilo container sees none of it
    assertThat(pod.getContainers().get(0).getVolumeMounts()).noneMatch(m -> m.getName().startsWith("custom-queries"));
  }

  @Test
  void withoutCustomQueriesNothingChanges() {
    PodSpec pod = podSpec();
    assertThat(pod.getVolumes()).noneMatch(v -> v.getName().startsWith("custom-queries"));
    assertThat(sidecar(pod).getEnv()).noneMatch(e -> e.getName().equals("PGTIDE_CUSTOM_QUERIES"));
  }

  @Test
  void validationNamesTheEntry() {
    PostgresClusterSpec spec = new PostgresClusterSpec();
    spec.monitoring.customQueries.add(entry(null, "queries.yaml"));
    assertThat(ClusterValidation.problem(spec)).isEqualTo(
        "monitoring.customQueries[0] names neither a configMap (Kubernetes) nor a path (local mode)");
    spec.monitoring.customQueries.set(0, entry("Bad_Name", "queries.yaml"));
    assertThat(ClusterValidation.problem(spec)).startsWith("monitoring.customQueries[0].configMap must be");
    spec.monitoring.customQueries.set(0, entry("ok", "a/b"));
    assertThat(ClusterValidation.problem(spec)).startsWith("monitoring.customQueries[0].key must be");
    spec.monitoring.customQueries.set(0, entry("ok", "queries.yaml"));
    spec.monitoring.customQueries.add(entry("ok", "queries.yaml"));
    assertThat(ClusterValidation.problem(spec)).isEqualTo("monitoring.customQueries[1] is listed twice");
    spec.monitoring.customQueries.remove(1);
    assertThat(ClusterValidation.problem(spec)).isNull();
    PostgresClusterSpec.CustomQueriesSpec local = entry(null, "queries.yaml");
    local.path = "q.yaml";
    spec.monitoring.customQueries.set(0, local);
    assertThat(ClusterValidation.problem(spec)).isNull();
    assertThat(ClusterValidation.kubernetesProblem(spec)).contains("names only a path, which is for local mode");
  }
}
