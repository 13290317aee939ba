package io.pgtide.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtide.common.contract.MemberId;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class SidecarMetricsTest {

  @Test
  void theBridgeGaugeSurvivesGarbageCollectionOfTheStateItWasGiven() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    AtomicBoolean up = new AtomicBoolean(true);
    // like the sidecar: a method reference nothing but the gauge holds
    new SidecarMetrics(registry, new MemberId("ns", "c", "c-0"), up::get);
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(20);
    }
    assertThat(registry.scrape()).contains("pgtide_bridge_connected{cluster=\"c\",member=\"c-0\",namespace=\"ns\"} 1.0");
    up.set(false);
    assertThat(registry.scrape()).contains("pgtide_bridge_connected{cluster=\"c\",member=\"c-0\",namespace=\"ns\"} 0.0");
  }

  @Test
  void cumulativePostgresCountsAreCountersWithTheirTotalSuffix() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new SidecarMetrics(registry, new MemberId("ns", "c", "c-0"), () -> true);
    String scrape = registry.scrape();
    assertThat(scrape).contains("# TYPE pgtide_deadlocks_total counter", "# TYPE pgtide_temp_bytes_total counter");
  }
}
