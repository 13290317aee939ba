package io.pgtide.common.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;

/** The metrics runtime the operator and the sidecar share: a Prometheus registry with the JVM's meters and Vert.x. */
public final class MeteredVertx {
  private MeteredVertx() {
  }

  /**
   * A registry with the JVM's memory, GC, thread and CPU meters. Vert.x's gauges are left out: it registers one per
   * instance (each event-bus address's handler count, each client's active connections) under the same name and no
   * distinguishing tag, so Micrometer keeps the first, warns about every other, and the exported value counts one
   * instance only (vert-x3/vertx-micrometer-metrics#259). Vert.x's counters and timers, which add up, stay.
   */
  public static PrometheusMeterRegistry registry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().meterFilter(MeterFilter.deny(id -> id.getType() == Meter.Type.GAUGE
        && id.getName().startsWith("vertx.")));
    // names Prometheus' linter refuses (promtool check metrics): a gauge ending in _count, a unit abbreviated (ns);
    // process_cpu_usage says what the second one would
    registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")));
    registry.config().meterFilter(new MeterFilter() {
      @Override
      public Meter.Id map(Meter.Id id) {
        return id.getName().equals("system.cpu.count") ? id.withName("system.cpus") : id;
      }
    });
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    return registry;
  }

  /** Vert.x with {@code options}, reporting to {@code registry}. */
  public static Vertx vertx(VertxOptions options, PrometheusMeterRegistry registry) {
    return Vertx.builder().with(options.setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)))
        .withMetrics(new MicrometerMetricsFactory(registry)).build();
  }
}
