package io.pgtide.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtide.operator.pooler.PoolStats;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** PgBouncer's statistics on the operator's /metrics: PoolStats' names, one set per pod, gone with the pod. */
class PoolerMetricsTest {
  static List<PoolStats.Sample> samples(int waiting, long transactions) {
    return PoolStats.samples(
        List.of(Map.of("database", "shop", "user", "app", "cl_active", "7", "cl_waiting", String.valueOf(waiting),
            "sv_active", "5", "sv_idle", "1", "sv_used", "0", "maxwait", "1", "maxwait_us", "500000")),
        List.of(Map.of("database", "shop", "total_xact_count", String.valueOf(transactions),
            "total_query_count", "90", "total_wait_time", "2000000", "avg_wait_time", "25000")));
  }

  @Test
  void eachPodsSeriesCarryTheClusterThePoolerAndThePodUnderPoolStatsNames() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    PoolerMetrics metrics = new OperatorMetrics(registry).pooler();
    metrics.update("shop/orders", "primary", "orders-pooler-a", samples(3, 40));
    metrics.update("shop/orders", "primary", "orders-pooler-b", samples(0, 10));
    String scrape = registry.scrape();
    String a = "cluster=\"orders\",database=\"shop\",namespace=\"shop\",pod=\"orders-pooler-a\",pooler=\"primary\"";
    assertThat(scrape).contains(
        "pgtide_pooler_clients_waiting{" + a + ",user=\"app\"} 3.0",
        "pgtide_pooler_clients_active{" + a + ",user=\"app\"} 7.0",
        "pgtide_pooler_server_connections_active{" + a + ",user=\"app\"} 5.0",
        "pgtide_pooler_max_wait_seconds{" + a + ",user=\"app\"} 1.5",
        "pgtide_pooler_average_wait_seconds{" + a + "} 0.025",
        "pgtide_pooler_transactions_total{" + a + "} 40.0",
        "pgtide_pooler_queries_total{" + a + "} 90.0",
        "pgtide_pooler_wait_seconds_total{" + a + "} 2.0",
        "# TYPE pgtide_pooler_transactions_total counter",
        "pod=\"orders-pooler-b\"");

    // the next poll's values replace the last ones
    metrics.update("shop/orders", "primary", "orders-pooler-a", samples(1, 55));
    assertThat(registry.scrape()).contains("pgtide_pooler_clients_waiting{" + a + ",user=\"app\"} 1.0",
        "pgtide_pooler_transactions_total{" + a + "} 55.0");

    // a pod that did not answer (or went) loses its series; a forgotten cluster loses all
    metrics.keepOnly("shop/orders", "primary", Set.of("orders-pooler-b"));
    assertThat(registry.scrape()).doesNotContain("orders-pooler-a").contains("orders-pooler-b");
    metrics.forget("shop/orders");
    assertThat(registry.scrape()).doesNotContain("pgtide_pooler_clients_waiting{", "pgtide_pooler_transactions_total{");
  }
}
