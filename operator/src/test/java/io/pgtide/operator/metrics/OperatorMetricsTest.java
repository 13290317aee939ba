package io.pgtide.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MockClock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.operator.failover.FailoverRecord;
import io.pgtide.operator.TestReports;
import io.pgtide.operator.state.ClusterState;
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

  @Test
  void aValueNotKnownLeavesItsSeriesOutInsteadOfExportingNaN() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    OperatorMetrics metrics = new OperatorMetrics(registry);
    ClusterState state = new ClusterState(60_000);
    metrics.bind(state);
    MemberId replica = MemberId.parse("shop/orders/orders-1");
    state.accept(ContractCodec.encode(TestReports.report(replica, Role.REPLICA, 1, 1_000, true)));
    metrics.refreshMembers();
    String scrape = registry.scrape();
    String tags = "{cluster=\"orders\",member=\"orders-1\",namespace=\"shop\"}";
    assertThat(scrape).contains("pgtide_member_is_primary" + tags + " 0.0", "pgtide_member_healthy" + tags + " 1.0",
        "pgtide_member_connected" + tags + " 1.0", "pgtide_member_qps" + tags);
    // no primary reports, so nothing to measure this replica's lag against
    assertThat(scrape).doesNotContain("pgtide_member_lag_bytes{").doesNotContain("NaN");

    MemberId primary = MemberId.parse("shop/orders/orders-0");
    state.accept(ContractCodec.encode(TestReports.report(primary, Role.PRIMARY, 1, 5_000, true)));
    metrics.refreshMembers();
    assertThat(registry.scrape()).contains("pgtide_member_lag_bytes" + tags + " 4000.0")
        .contains("pgtide_member_is_primary{cluster=\"orders\",member=\"orders-0\",namespace=\"shop\"} 1.0");
  }

  @Test
  void aFailoverSlowerThanTtlPlusDelayIsVisibleAgainstItsBudget() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    OperatorMetrics metrics = new OperatorMetrics(registry);
    metrics.failoverBudget("shop/orders", 45);
    assertThat(registry.scrape()).contains("pgtide_failover_budget_seconds{cluster=\"orders\",namespace=\"shop\"} 45.0")
        .doesNotContain("pgtide_last_failover_duration_seconds{");
    metrics.failover("shop/orders", new FailoverRecord("confirmed-dead", "o-0", "o-1", 1_000_000, 1_060_500));
    metrics.failover("shop/orders", new FailoverRecord("switchover", "o-1", "o-0", 2_000_000, 2_003_000));
    // a switchover is planned: it does not replace the last failover
    assertThat(registry.scrape())
        .contains("pgtide_last_failover_duration_seconds{cluster=\"orders\",namespace=\"shop\"} 60.5")
        .contains("pgtide_last_failover_timestamp_seconds{cluster=\"orders\",namespace=\"shop\"} 1060.5");
  }
}
