package io.pgtide.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MockClock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtide.operator.failover.FailoverRecord;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class OperatorMetricsTest {

  @Test
  void aClusterSeenHasItsCountersAtZeroSoTheFirstIncidentShowsAsAnIncrease() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new OperatorMetrics(registry).clusterSeen("shop/orders");
    assertThat(registry.scrape()).contains(
        "pgtide_failovers_total{cluster=\"orders\",kind=\"confirmed-dead\",namespace=\"shop\"} 0.0",
        "pgtide_failovers_total{cluster=\"orders\",kind=\"failover\",namespace=\"shop\"} 0.0",
        "pgtide_controller_errors_total{cluster=\"orders\",namespace=\"shop\",step=\"users\"} 0.0",
        "pgtide_primary_lost_total{cluster=\"orders\",namespace=\"shop\"} 0.0");
  }

  @Test
  void aFailoverStaysInTheDurationHistogramLongAfterItHappened() {
    MockClock clock = new MockClock();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, new PrometheusRegistry(),
        clock);
    new OperatorMetrics(registry).failover("shop/orders", new FailoverRecord("confirmed-dead", "o-0", "o-1", 0, 2_300));
    clock.add(30, TimeUnit.MINUTES); // client-side percentiles and _max had decayed to 0 by now
    String scrape = registry.scrape();
    String series = "pgtide_failover_duration_seconds_bucket{cluster=\"orders\",kind=\"confirmed-dead\","
        + "namespace=\"shop\",le=\"";
    assertThat(scrape).contains(series + "2.0\"} 0", series + "3.0\"} 1", series + "+Inf\"} 1");
    assertThat(scrape).contains("pgtide_failover_duration_seconds_sum{cluster=\"orders\",kind=\"confirmed-dead\","
        + "namespace=\"shop\"} 2.3");
  }
}
