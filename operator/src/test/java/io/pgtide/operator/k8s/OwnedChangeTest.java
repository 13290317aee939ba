package io.pgtide.operator.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which changes to an owned object wake its cluster's reconcile (moved out of ReconcileRulesTest with the split). */
class OwnedChangeTest {

  @Test
  void onlySpecOrMetadataChangesOfAnOwnedObjectCallForItsClustersReconcile() {
    HasMetadata old = cm("1", 1L, Map.of("a", "1"));
    assertThat(OwnedChange.matters(old, cm("1", 1L, Map.of("a", "1")))).isFalse();
    assertThat(OwnedChange.matters(old, cm("2", 1L, Map.of("a", "1")))).as("status only").isFalse();
    assertThat(OwnedChange.matters(old, cm("2", 2L, Map.of("a", "1")))).as("spec").isTrue();
    assertThat(OwnedChange.matters(old, cm("2", 1L, Map.of("a", "2")))).as("labels").isTrue();
    assertThat(OwnedChange.matters(cm("1", null, Map.of()), cm("2", null, Map.of()))).as("no generation").isTrue();
    HasMetadata owned = cm("1", 1L, Map.of());
    owned.getMetadata().setOwnerReferences(List.of(new io.fabric8.kubernetes.api.model.OwnerReferenceBuilder()
        .withKind("PostgresCluster").withName("orders").withController(true).build()));
    assertThat(OwnedChange.ownerCluster(owned)).isEqualTo("orders");
    assertThat(OwnedChange.ownerCluster(old)).isNull();
  }

  static HasMetadata cm(String resourceVersion, Long generation, Map<String, String> labels) {
    return new ConfigMapBuilder().withNewMetadata().withName("x").withResourceVersion(resourceVersion)
        .withGeneration(generation).withLabels(labels).endMetadata().build();
  }
}
