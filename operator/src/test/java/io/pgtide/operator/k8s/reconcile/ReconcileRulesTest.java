package io.pgtide.operator.k8s.reconcile;

import io.pgtide.operator.k8s.model.ClusterModel;
import io.pgtide.operator.k8s.model.ClusterStatusModel;
import io.pgtide.operator.k8s.model.OperatorConfig;
import io.pgtide.operator.k8s.model.ReconcileErrors;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtide.common.contract.InstanceReport;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The pure rules behind reconciling: real diff, error naming, back-off, sizes, Ready. */
class ReconcileRulesTest {

  static JsonNode json(String s) throws Exception {
    return Serialization.jsonMapper().readTree(s);
  }

  @Test
  void anObjectIsUnchangedWhenTheServerHoldsEveryDeclaredValueWhateverItAdded() throws Exception {
    JsonNode desired = json("{\"metadata\":{\"labels\":{\"a\":\"1\"}},\"spec\":{\"ports\":[{\"port\":5432}]}}");
    // defaults and other managers' fields on the server do not count
    assertThat(ResourceReconciler.containedIn(desired, json("{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"},"
        + "\"resourceVersion\":\"7\"},\"spec\":{\"ports\":[{\"port\":5432,\"protocol\":\"TCP\"}],"
        + "\"clusterIP\":\"10.0.0.1\"}}"))).isTrue();
    // a changed value, a missing field, an extra list element: drift
    assertThat(ResourceReconciler.containedIn(desired, json("{\"metadata\":{\"labels\":{\"a\":\"2\"}},"
        + "\"spec\":{\"ports\":[{\"port\":5432}]}}"))).isFalse();
    assertThat(ResourceReconciler.containedIn(desired, json("{\"metadata\":{},\"spec\":{\"ports\":[{\"port\":5432}]}}")))
        .isFalse();
    assertThat(ResourceReconciler.containedIn(desired, json("{\"metadata\":{\"labels\":{\"a\":\"1\"}},"
        + "\"spec\":{\"ports\":[{\"port\":5432},{\"port\":8008}]}}"))).isFalse();
    // a number and its text are one value (IntOrString)
    assertThat(ResourceReconciler.containedIn(json("{\"port\":\"5432\"}"), json("{\"port\":5432}"))).isTrue();
    // an empty declared list or object matches an absent one
    assertThat(ResourceReconciler.containedIn(json("{\"args\":[],\"resources\":{}}"), json("{}"))).isTrue();
  }

  @Test
  void errorsAreNamedByTheApiServersReasonAndRetriedWithACappedExponentialBackOff() {
    var forbidden = new KubernetesClientException(new StatusBuilder().withCode(403).withReason("Forbidden")
        .withMessage("roles.rbac.authorization.k8s.io \"x\" is forbidden: attempting to grant RBAC permissions not"
            + " currently held").build());
    assertThat(ReconcileErrors.reason(new RuntimeException("wrapped", forbidden))).isEqualTo("Forbidden");
    assertThat(ReconcileErrors.message(forbidden)).contains("attempting to grant RBAC permissions");
    assertThat(ReconcileErrors.reason(new KubernetesClientException("no answer"))).isEqualTo("ApiUnreachable");
    assertThat(ReconcileErrors.reason(new ReconcileErrors.Refused("StorageClassNotFound", "x")))
        .isEqualTo("StorageClassNotFound");
    assertThat(ReconcileErrors.reason(new IllegalStateException("boom"))).isEqualTo("IllegalStateException");
    assertThat(List.of(1, 2, 3, 9, 10, 100).stream().map(ReconcileErrors::backoffMs).toList())
        .containsExactly(1_000L, 2_000L, 4_000L, 256_000L, 300_000L, 300_000L);
  }

  @Test
  void volumeSizesCompareByBytes() {
    assertThat(VolumeSizes.compare(new Quantity("1Gi"), new Quantity("1024Mi"))).isZero();
    assertThat(VolumeSizes.compare(new Quantity("2Gi"), new Quantity("1Gi"))).isPositive();
    assertThat(VolumeSizes.compare(new Quantity("500Mi"), new Quantity("1Gi"))).isNegative();
  }

  @Test
  void readyOnlyWhenOneLivePrimaryIsBehindThePrimaryService() {
    Instant now = Instant.now();
    PostgresClusterStatus s = new PostgresClusterStatus();
    ClusterView empty = view(Map.of());
    ClusterStatusModel.ready(s, empty, Set.of(), now);
    assertThat(condition(s, "Ready").status).isEqualTo("False");
    assertThat(condition(s, "Ready").reason).isEqualTo("NoPrimary");
    assertThat(s.phase).isEqualTo("Pending");

    ClusterView serving = view(Map.of("c-0", Role.PRIMARY, "c-1", Role.REPLICA));
    ClusterStatusModel.ready(s, serving, Set.of(), now);
    assertThat(condition(s, "Ready").reason).isEqualTo("PrimaryNotRouted");
    ClusterStatusModel.ready(s, serving, Set.of("c-0"), now);
    assertThat(condition(s, "Ready").status).isEqualTo("True");
    assertThat(s.phase).isEqualTo("Running");

    ClusterStatusModel.ready(s, view(Map.of("c-0", Role.PRIMARY, "c-1", Role.PRIMARY)), Set.of("c-0"), now);
    assertThat(condition(s, "Ready").reason).isEqualTo("SplitView");

    ClusterStatusModel.condition(s, "Degraded", "True", "Invalid", "refused", now);
    ClusterStatusModel.ready(s, serving, Set.of("c-0"), now);
    assertThat(s.phase).isEqualTo("Degraded");
  }

  static PostgresClusterStatus.Condition condition(PostgresClusterStatus s, String type) {
    return s.conditions.stream().filter(c -> type.equals(c.type)).findFirst().orElseThrow();
  }

  static ClusterView view(Map<String, Role> roles) {
    long now = System.currentTimeMillis();
    Map<String, MemberView> members = new LinkedHashMap<>();
    roles.forEach((name, role) -> {
      MemberId id = new MemberId("ns", "c", name);
      InstanceReport r = new InstanceReport(id, "1", "s", 1, now, role, null, null, null, false, false, 1L, 100L,
          100L, 100L, 0L, 0.0, null, List.of(), null, null, null, true, null);
      members.put(name, new MemberView(id, r, now, true));
    });
    return new ClusterView("ns/c", members, now, 5_000);
  }

  @Test
  void renderedLabelsAndSelectorsHaveAFixedOrder() {
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("orders").withNamespace("shop")
        .withUid("u").build());
    cr.setSpec(new io.pgtide.common.crd.PostgresClusterSpec());
    for (HasMetadata o : ClusterModel.all(cr, OperatorConfig.DEFAULTS)) {
      assertThat(List.copyOf(o.getMetadata().getLabels().keySet())).isSorted();
    }
    assertThat(List.copyOf(ClusterModel.statefulSet(cr, OperatorConfig.DEFAULTS).getSpec().getSelector()
        .getMatchLabels().keySet())).isSorted();
  }
}
