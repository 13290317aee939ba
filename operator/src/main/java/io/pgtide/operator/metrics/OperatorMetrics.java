package io.pgtide.operator.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.pgtide.common.contract.Role;
import io.pgtide.common.metrics.ClusterMeters;
import io.pgtide.operator.failover.FailoverRecord;
import io.pgtide.operator.state.ClusterState;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;
import java.util.function.BiFunction;

/**
 * The operator's Prometheus series: per member (aggregated from the stream), per cluster, failovers and
 * switchovers, controller errors. Member series are read from the live state before each scrape
 * ({@link #refreshMembers}); a value not known is left out, never NaN.
 */
public final class OperatorMetrics {
  private final MeterRegistry registry;
  private final List<MemberSeries> memberSeries;
  private ClusterState state;
  private final Map<String, FailoverRecord> lastFailover = new ConcurrentHashMap<>();
  private final Map<String, Double> budgets = new ConcurrentHashMap<>();
  private final Map<String, Long> standbyLags = new ConcurrentHashMap<>();

  private final PoolerMetrics pooler;

  public OperatorMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.memberSeries = memberSeries();
    this.pooler = new PoolerMetrics(registry);
  }

  /** PgBouncer's pool statistics, per pooler pod (spec.pooler on Kubernetes). */
  public PoolerMetrics pooler() {
    return pooler;
  }

  public MeterRegistry registry() {
    return registry;
  }

  public void bind(ClusterState state) {
    this.state = state;
  }

  /** A per-member series: its value for a member, or null while it is unknown (then the series is left out). */
  private record MemberSeries(MultiGauge gauge, BiFunction<ClusterView, MemberView, Number> value) {
  }

  private List<MemberSeries> memberSeries() {
    return List.of(
      series("pgtide_member_is_primary", "1 when the member reports itself primary",
          (v, m) -> m.role() == Role.PRIMARY ? 1 : 0),
      series("pgtide_member_healthy", "1 when the member's last report is healthy (0 without one)",
          (v, m) -> m.report() != null && m.report().healthy() ? 1 : 0),
      series("pgtide_member_connected", "1 while the member's sidecar is connected",
          (v, m) -> m.connected() ? 1 : 0),
      series("pgtide_member_lag_bytes", "bytes behind the primary's current WAL position",
          (v, m) -> v.lagBytes(m.id().member())),
      series("pgtide_member_qps", "statements per second",
          (v, m) -> m.report() == null ? null : m.report().load().qps()),
      series("pgtide_member_mean_latency_seconds", "mean statement latency",
          (v, m) -> m.report() == null || m.report().load().meanLatencyMs() == null ? null
              : m.report().load().meanLatencyMs() / 1000.0),
      series("pgtide_member_connections", "client connections",
          (v, m) -> m.report() == null ? null : m.report().connections().total()),
      series("pgtide_member_staleness_seconds", "seconds since the member's last report",
          (v, m) -> m.report() == null ? null : (System.currentTimeMillis() - m.receivedAt()) / 1000.0));
  }

  private MemberSeries series(String name, String help, BiFunction<ClusterView, MemberView, Number> value) {
    return new MemberSeries(MultiGauge.builder(name).description(help).register(registry), value);
  }

  /**
   * Reads every member's series from the live state; called before each scrape. A value not known (no report yet,
   * no lag without a primary) leaves that member's series out instead of exporting NaN.
   */
  public void refreshMembers() {
    if (state == null) {
      return;
    }
    List<ClusterView> views = state.clusterKeys().stream().map(state::view).toList();
    for (MemberSeries s : memberSeries) {
      List<MultiGauge.Row<?>> rows = new ArrayList<>();
      for (ClusterView v : views) {
        for (MemberView m : v.members().values()) {
          Number n = s.value().apply(v, m);
          if (n != null && !(n instanceof Double d && d.isNaN())) {
            rows.add(MultiGauge.Row.of(Tags.of("namespace", m.id().namespace(), "cluster", m.id().cluster(),
                "member", m.id().member()), n));
          }
        }
      }
      s.gauge().register(rows, true);
    }
  }

  public void failover(String clusterKey, FailoverRecord record) {
    Tags tags = clusterTags(clusterKey).and("kind", record.kind());
    failovers(tags).increment();
    if (!"switchover".equals(record.kind()) && lastFailover.put(clusterKey, record) == null) {
      clusterGauge("pgtide_last_failover_duration_seconds", "how long the cluster's last failover took (not "
          + "switchovers)", clusterKey, k -> lastFailover.get(k).durationMs() / 1000.0);
      clusterGauge("pgtide_last_failover_timestamp_seconds", "when the cluster's last failover completed (Unix time)",
          clusterKey, k -> lastFailover.get(k).completedAt() / 1000.0);
    }
    // buckets, not client-side percentiles: failovers are rare, and percentiles (and _max) decay to 0 two minutes
    // after the last one while the sum keeps it; buckets keep every failover for histogram_quantile()
    Timer.builder("pgtide_failover_duration").description("from detection to the new primary confirmed")
        .tags(tags).serviceLevelObjectives(FAILOVER_BUCKETS).register(registry)
        .record(Duration.ofMillis(record.durationMs()));
  }

  static final Duration[] FAILOVER_BUCKETS = {Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2),
      Duration.ofSeconds(3), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(15),
      Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(120)};

  /** What a failover record's kind can be, and the controller steps that count errors. */
  static final List<String> FAILOVER_KINDS = List.of("confirmed-dead", "failover", "zombie-fenced", "zombie-ttl",
      "switchover");
  static final List<String> STEPS = List.of("users", "autoscale", "fence", "pointPrimary",
      "releaseIfDead");

  /**
   * Registers a cluster's counters at 0 the first time it is seen: a counter that first appears with 1 shows no
   * increase() in Prometheus, so the first failover (or the first failed user sync) would raise no alert.
   */
  public void clusterSeen(String clusterKey) {
    Tags tags = clusterTags(clusterKey);
    FAILOVER_KINDS.forEach(kind -> failovers(tags.and("kind", kind)));
    STEPS.forEach(step -> ClusterMeters.controllerErrors(registry, tags, step));
    primaryLost(tags);
    splitView(tags);
  }

  /** Patroni's ttl plus the operator's failover delay: a failover that takes longer raises PgtideFailoverSlow. */
  public void failoverBudget(String clusterKey, double seconds) {
    if (budgets.put(clusterKey, seconds) != null) {
      return; // registered already; the gauge reads the new value
    }
    clusterGauge("pgtide_failover_budget_seconds", "how long a failover may take: Patroni's ttl plus the failover "
        + "delay", clusterKey, budgets::get);
  }

  /**
   * {@code pgtide_standby_lag_bytes}: how far a standby cluster's leader is behind its source's primary; the series
   * is there while the lag is known and goes when it is not (a missing value is no series, never a zero).
   */
  public void standbyLag(String clusterKey, Long bytes) {
    if (bytes == null) {
      if (standbyLags.remove(clusterKey) != null) {
        var gauge = registry.find(STANDBY_LAG).tags(clusterTags(clusterKey)).gauge();
        if (gauge != null) {
          registry.remove(gauge);
        }
      }
      return;
    }
    if (standbyLags.put(clusterKey, bytes) == null) {
      clusterGauge(STANDBY_LAG, "bytes a standby cluster's leader is behind its source's primary", clusterKey,
          k -> standbyLags.getOrDefault(k, 0L));
    }
  }

  public static final String STANDBY_LAG = "pgtide_standby_lag_bytes";

  private void clusterGauge(String name, String help, String clusterKey, ToDoubleFunction<String> value) {
    // the Supplier form holds its value strongly (the object form's weak reference could read NaN after a GC)
    Gauge.builder(name, () -> value.applyAsDouble(clusterKey)).description(help).tags(clusterTags(clusterKey))
        .register(registry);
  }

  public void primaryLost(String clusterKey) {
    primaryLost(clusterTags(clusterKey)).increment();
  }

  public void splitView(String clusterKey) {
    splitView(clusterTags(clusterKey)).increment();
  }

  public void controllerError(String clusterKey, String step) {
    ClusterMeters.controllerErrors(registry, clusterTags(clusterKey), step).increment();
  }

  private Counter failovers(Tags tags) {
    return Counter.builder("pgtide_failovers").description("completed failovers and switchovers, by kind")
        .tags(tags).register(registry);
  }

  private Counter primaryLost(Tags tags) {
    return Counter.builder("pgtide_primary_lost").description("incidents where the live primary disappeared")
        .tags(tags).register(registry);
  }

  private Counter splitView(Tags tags) {
    return Counter.builder("pgtide_split_view")
        .description("incidents where more than one member reported itself primary").tags(tags).register(registry);
  }

  public static Tags clusterTags(String clusterKey) {
    return ClusterMeters.tags(clusterKey);
  }
}
