package io.pgtide.operator.k8s.reconcile;

import io.pgtide.operator.k8s.model.ClusterModel;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The "unchanged" decision of {@link ResourceReconciler}: by what pgtide last applied, so a field removed from the
 * desired object is a change (containment alone would call it unchanged and leave the field on the server).
 */
class AppliedFingerprintTest {

  private static JsonNode tree(HasMetadata o) {
    return Serialization.jsonMapper().valueToTree(o);
  }

  private static HasMetadata desired(Map<String, String> labels, Map<String, String> data) {
    HasMetadata o = new ConfigMapBuilder().withNewMetadata().withName("orders").withLabels(labels)
        .endMetadata().withData(data).build();
    ResourceReconciler.stamp(o);
    return o;
  }

  /** What the server would hold after applying {@code applied}: its fields plus defaults and others' fields. */
  private static JsonNode server(HasMetadata applied) {
    ObjectNode s = (ObjectNode) tree(applied).deepCopy();
    ((ObjectNode) s.get("metadata")).put("resourceVersion", "42").put("uid", "u-1");
    ((ObjectNode) s.get("metadata").get("labels")).put("added-by-someone", "x");
    return s;
  }

  @Test
  void anObjectAppliedAsDesiredAndUntouchedIsUnchangedWhateverTheServerAdded() {
    HasMetadata d = desired(Map.of("a", "1", "b", "2"), Map.of("k", "v"));
    assertThat(ResourceReconciler.unchanged(tree(d), server(d))).isTrue();
  }

  @Test
  void aFieldRemovedFromTheDesiredObjectIsAChangeThoughTheServerStillContainsEverythingDeclared() {
    HasMetadata before = desired(Map.of("a", "1", "b", "2"), Map.of("k", "v", "cpu", "1"));
    HasMetadata after = desired(Map.of("a", "1"), Map.of("k", "v"));
    JsonNode onServer = server(before);
    // containment alone (what decided before) says nothing changed: the removal would never be applied
    ObjectNode unstamped = (ObjectNode) tree(after);
    ((ObjectNode) unstamped.get("metadata")).remove("annotations");
    assertThat(ResourceReconciler.containedIn(unstamped, onServer)).isTrue();
    assertThat(ResourceReconciler.unchanged(tree(after), onServer)).isFalse();
  }

  @Test
  void driftOfADeclaredValueOrALostFingerprintIsAChange() {
    HasMetadata d = desired(Map.of("a", "1"), Map.of("k", "v"));
    ObjectNode drifted = (ObjectNode) server(d);
    ((ObjectNode) drifted.get("data")).put("k", "edited");
    assertThat(ResourceReconciler.unchanged(tree(d), drifted)).isFalse();
    ObjectNode unstamped = (ObjectNode) server(d);
    ((ObjectNode) unstamped.get("metadata").get("annotations")).remove(ResourceReconciler.APPLIED);
    assertThat(ResourceReconciler.unchanged(tree(d), unstamped)).as("made by an older pgtide: applied once")
        .isFalse();
  }

  @Test
  void theFingerprintIgnoresTheOrderMapsWereBuiltInAndItsOwnAnnotation() {
    Map<String, String> ab = new LinkedHashMap<>();
    ab.put("a", "1");
    ab.put("b", "2");
    Map<String, String> ba = new LinkedHashMap<>();
    ba.put("b", "2");
    ba.put("a", "1");
    HasMetadata one = desired(ab, Map.of());
    HasMetadata other = desired(ba, Map.of());
    assertThat(one.getMetadata().getAnnotations().get(ResourceReconciler.APPLIED))
        .isEqualTo(other.getMetadata().getAnnotations().get(ResourceReconciler.APPLIED))
        .hasSize(64);
    ResourceReconciler.stamp(one);
    assertThat(one.getMetadata().getAnnotations().get(ResourceReconciler.APPLIED)).as("stamping again")
        .isEqualTo(other.getMetadata().getAnnotations().get(ResourceReconciler.APPLIED));
  }

  @Test
  void aVolumeIsGrownByAnApplyDeclaringItsSizeAlone() throws Exception {
    var claim = ClusterModel.claimSize("pgdata-orders-0", new io.fabric8.kubernetes.api.model.Quantity("20Gi"));
    assertThat(Serialization.jsonMapper().writeValueAsString(claim)).isEqualTo("{\"apiVersion\":\"v1\","
        + "\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"pgdata-orders-0\"},"
        + "\"spec\":{\"resources\":{\"requests\":{\"storage\":\"20Gi\"}}}}");
  }
}
