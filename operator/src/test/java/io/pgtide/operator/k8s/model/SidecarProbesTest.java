package io.pgtide.operator.k8s.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import org.junit.jupiter.api.Test;

/** A sidecar slow to start on a busy node is waited for, not restarted in a loop. */
class SidecarProbesTest {
  static Container sidecar() {
    PostgresCluster cr = new PostgresCluster();
    cr.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace("shop").withUid("u-1").build());
    cr.setSpec(new PostgresClusterSpec());
    return ClusterModel.statefulSet(cr, OperatorConfig.DEFAULTS).getSpec().getTemplate().getSpec().getContainers()
        .stream().filter(c -> c.getName().equals("pgtide-sidecar")).findFirst().orElseThrow();
  }

  @Test
  void theStartupProbeAllowsMinutesBeforeLivenessCounts() {
    var startup = sidecar().getStartupProbe();
    assertThat(startup.getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(startup.getPeriodSeconds() * startup.getFailureThreshold()).as("seconds allowed to start")
        .isGreaterThanOrEqualTo(300);
  }

  @Test
  void livenessToleratesASlowAnswer() {
    var liveness = sidecar().getLivenessProbe();
    assertThat(liveness.getTimeoutSeconds()).isGreaterThanOrEqualTo(5);
    assertThat(liveness.getFailureThreshold()).isGreaterThanOrEqualTo(3);
  }
}
