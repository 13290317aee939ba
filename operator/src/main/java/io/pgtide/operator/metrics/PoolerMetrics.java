package io.pgtide.operator.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.pgtide.operator.pooler.PoolStats;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * PgBouncer's pool statistics as the operator's series ({@link PoolStats}'s names), one set per PgBouncer pod, tagged
 * {@code namespace}, {@code cluster}, {@code pooler} ({@code primary} or {@code replicas}), {@code pod} and PgBouncer's
 * own {@code database} (and {@code user} for pool series). Per pod because each PgBouncer keeps its own pools and
 * counters: a Service would answer from a different pod each time. A pod that stops answering, or a database that
 * goes, has its series removed at the next poll (left out, never a zero).
 */
public final class PoolerMetrics {
  private final MeterRegistry registry;
  /** The latest samples per pod: key {@code namespace/cluster pooler pod}. */
  private final Map<String, List<Tagged>> latest = new ConcurrentHashMap<>();
  private final Map<String, MultiGauge> gauges = new ConcurrentHashMap<>();
  /** Counter values by series (name and tags), read by their FunctionCounters at each scrape. */
  private final Map<Series, AtomicReference<Double>> counters = new ConcurrentHashMap<>();

  private record Tagged(PoolStats.Sample sample, Tags tags) {
  }

  private record Series(String name, Tags tags) {
  }

  public PoolerMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** One pod's latest samples (replacing what it had). */
  public synchronized void update(String clusterKey, String pooler, String pod, List<PoolStats.Sample> samples) {
    Tags base = OperatorMetrics.clusterTags(clusterKey).and("pooler", pooler, "pod", pod);
    List<Tagged> tagged = new ArrayList<>();
    for (PoolStats.Sample s : samples) {
      tagged.add(new Tagged(s, base.and(Tags.of(s.labels().entrySet().stream()
          .map(e -> io.micrometer.core.instrument.Tag.of(e.getKey(), e.getValue())).toList()))));
    }
    latest.put(podKey(clusterKey, pooler, pod), tagged);
    refresh();
  }

  /** Leaves only these pods of the cluster's pooler (the others went, or did not answer this time). */
  public synchronized void keepOnly(String clusterKey, String pooler, Set<String> pods) {
    String prefix = clusterKey + " " + pooler + " ";
    latest.keySet().removeIf(k -> k.startsWith(prefix) && !pods.contains(k.substring(prefix.length())));
    refresh();
  }

  /** Every series of the cluster goes (spec.pooler removed, or the cluster deleted). */
  public synchronized void forget(String clusterKey) {
    latest.keySet().removeIf(k -> k.startsWith(clusterKey + " "));
    refresh();
  }

  private static String podKey(String clusterKey, String pooler, String pod) {
    return clusterKey + " " + pooler + " " + pod;
  }

  private void refresh() {
    Map<String, List<MultiGauge.Row<?>>> rows = new TreeMap<>();
    Map<Series, Double> counterValues = new java.util.HashMap<>();
    for (List<Tagged> pod : latest.values()) {
      for (Tagged t : pod) {
        if (t.sample().kind() == PoolStats.Kind.GAUGE) {
          rows.computeIfAbsent(t.sample().name(), n -> new ArrayList<>())
              .add(MultiGauge.Row.of(t.tags(), t.sample().value()));
        } else {
          counterValues.put(new Series(counterName(t.sample().name()), t.tags()), t.sample().value());
        }
      }
    }
    for (String name : rows.keySet()) {
      gauges.computeIfAbsent(name, n -> MultiGauge.builder(n).description(help(n)).register(registry));
    }
    gauges.forEach((name, gauge) -> gauge.register(rows.getOrDefault(name, List.of()), true));
    counterValues.forEach((series, value) -> counters.computeIfAbsent(series, s -> {
      AtomicReference<Double> holder = new AtomicReference<>(value);
      FunctionCounter.builder(s.name(), holder, AtomicReference::get).description(help(s.name())).tags(s.tags())
          .register(registry);
      return holder;
    }).set(value));
    counters.keySet().removeIf(series -> {
      if (counterValues.containsKey(series)) {
        return false;
      }
      registry.find(series.name()).tags(series.tags()).functionCounters().forEach(registry::remove);
      return true;
    });
  }

  /** Micrometer adds {@code _total} to a counter's name when Prometheus scrapes it: PoolStats' names carry it. */
  static String counterName(String name) {
    return name.endsWith("_total") ? name.substring(0, name.length() - "_total".length()) : name;
  }

  private static String help(String name) {
    return switch (name) {
      case PoolStats.CLIENTS_ACTIVE -> "PgBouncer clients linked to a server connection or idle";
      case PoolStats.CLIENTS_WAITING -> "PgBouncer clients waiting for a server connection";
      case PoolStats.SERVERS_ACTIVE -> "PgBouncer server connections linked to a client";
      case PoolStats.SERVERS_IDLE -> "PgBouncer server connections idle and ready";
      case PoolStats.SERVERS_USED -> "PgBouncer server connections idle, not yet checked for reuse";
      case PoolStats.MAX_WAIT -> "how long the oldest waiting PgBouncer client has waited";
      case PoolStats.AVERAGE_WAIT -> "PgBouncer clients' average wait for a server connection over its stats period";
      default -> "PgBouncer's " + name.replace("pgtide_pooler_", "").replace('_', ' ') + " (SHOW STATS)";
    };
  }
}
