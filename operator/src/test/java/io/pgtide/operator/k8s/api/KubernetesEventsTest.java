package io.pgtide.operator.k8s.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgtide.common.crd.PostgresCluster;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class KubernetesEventsTest {
  @Test
  void aRepeatedEventHasTheSameNameSoItIsCountedInsteadOfCreatedAgain() {
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace("shop").withUid("u-1").build());
    Instant t1 = Instant.parse("2026-11-29T10:00:00Z");
    Instant t2 = t1.plusSeconds(5);
    var first = KubernetesEvents.event(cr, "Warning", "SplitView", "2 members report primary", t1);
    var again = KubernetesEvents.event(cr, "Warning", "SplitView", "2 members report primary", t2);
    var other = KubernetesEvents.event(cr, "Warning", "SplitView", "3 members report primary", t2);
    assertThat(again.getMetadata().getName()).isEqualTo(first.getMetadata().getName());
    assertThat(other.getMetadata().getName()).isNotEqualTo(first.getMetadata().getName());
    assertThat(first.getMetadata().getName()).matches("orders\\.[0-9a-f]{16}");
    assertThat(again.getLastTimestamp()).isEqualTo(t2.toString());
    assertThat(first.getCount()).isEqualTo(1);
  }
}
