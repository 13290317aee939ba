package io.pgtide.common.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.pgtide.common.cluster.ClusterKey;

/**
 * What the operator's and the backup agent's series of one cluster share: the cluster's tags and the counter of
 * failed controller steps (the agent's backup controller counts its failed passes as the operator's controllers do,
 * so one alert covers both).
 */
public final class ClusterMeters {
  private ClusterMeters() {
  }

  /** {@code namespace} and {@code cluster}, from the key {@code namespace/name}. */
  public static Tags tags(String clusterKey) {
    ClusterKey key = ClusterKey.parse(clusterKey);
    return Tags.of("namespace", key.namespace(), "cluster", key.name());
  }

  /** {@code pgtide_controller_errors_total} of one cluster's controller step. */
  public static Counter controllerErrors(MeterRegistry registry, Tags clusterTags, String step) {
    return Counter.builder("pgtide_controller_errors").description("controller steps that failed")
        .tags(clusterTags.and("step", step)).register(registry);
  }
}
