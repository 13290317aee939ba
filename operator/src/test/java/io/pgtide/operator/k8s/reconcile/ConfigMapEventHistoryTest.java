package io.pgtide.operator.k8s.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgtide.common.crd.PostgresCluster;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ConfigMapEventHistoryTest {

  @Test
  void aFullHistoryFitsAConfigMapOwnedByItsClusterAndReadsBack() {
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace("shop").withUid("u-1").build());
    // 500 events with messages at the cap: the worst case stays well under the API server's 1 MiB
    List<JsonObject> history = IntStream.range(0, 500).mapToObj(i -> new JsonObject().put("cluster", "shop/orders")
        .put("type", "Warning").put("reason", "ControllerError").put("message", "m".repeat(1_001)).put("at", i))
        .toList();
    var cm = ConfigMapEventHistory.configMap(cr, history);
    assertThat(cm.getMetadata().getName()).isEqualTo("orders-pgtide-events");
    assertThat(cm.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo("u-1"));
    assertThat(cm.getData().get(ConfigMapEventHistory.KEY).length()).isLessThan(900_000);
    cm.getData().put(ConfigMapEventHistory.KEY, cm.getData().get(ConfigMapEventHistory.KEY) + "{\"cut");
    assertThat(ConfigMapEventHistory.parse(cm)).isEqualTo(history);
    assertThat(ConfigMapEventHistory.parse(null)).isEmpty();
  }
}
