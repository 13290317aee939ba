package io.pgtide.sidecar;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.pgtide.common.contract.InstanceReport;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/** The sidecar's own Prometheus series, all {@code pgtide_}-prefixed with namespace/cluster/member labels. */
public final class SidecarMetrics {
  private final MeterRegistry registry;
  private final Tags tags;
  private final AtomicReference<InstanceReport> last = new AtomicReference<>();
  private final AtomicReference<PgSample> lastSample = new AtomicReference<>();
  private final io.pgtide.common.metrics.KnownGauges gauges;
  private final io.micrometer.core.instrument.MultiGauge standbyLag;
  private final Timer sampleDuration;
  private final Counter reportsSent;
  private final Counter reportsDropped;

  public SidecarMetrics(MeterRegistry registry, MemberId id, BridgeState bridge) {
    this.registry = registry;
    this.tags = Tags.of("namespace", id.namespace(), "cluster", id.cluster(), "member", id.member());
    this.gauges = new io.pgtide.common.metrics.KnownGauges(registry, tags);
    gauge("pgtide_up", "1 when PostgreSQL answered the last sample and a fresh connection succeeded",
        r -> r.healthy() ? 1 : 0);
    gauge("pgtide_is_primary", "1 when this member is the primary", r -> r.role() == Role.PRIMARY ? 1 : 0);
    gauge("pgtide_timeline", "PostgreSQL timeline", r -> r.timeline());
    gauge("pgtide_wal_position_bytes", "current (primary) or replayed (replica) WAL position in bytes",
        r -> r.walPosition());
    gauge("pgtide_replay_backlog_bytes", "WAL received but not yet replayed (replicas)",
        r -> r.lagBytes() == null ? 0 : r.lagBytes());
    gauge("pgtide_replay_delay_seconds", "time since the last replayed transaction (replicas; grows when idle)",
        r -> r.replayDelaySeconds());
    gauge("pgtide_standbys", "standbys streaming from this primary", r -> r.standbys().size());
    gauge("pgtide_qps", "statements per second over the last interval", r -> r.load().qps());
    gauge("pgtide_tps", "transactions per second over the last interval", r -> r.load().tps());
    gauge("pgtide_mean_latency_seconds", "mean statement latency (pg_stat_statements; absent without it)",
        r -> r.load().meanLatencyMs() == null ? null : r.load().meanLatencyMs() / 1000.0);
    gauge("pgtide_cache_hit_ratio", "buffer cache hit ratio over the last interval",
        r -> r.load().cacheHitRatio());
    // cumulative in PostgreSQL, so counters (exported with _total; a pg_stat_reset() reads as a counter reset)
    counter("pgtide_deadlocks", "deadlocks since statistics reset", r -> r.load().deadlocks());
    counter("pgtide_temp_bytes", "temporary file bytes since statistics reset", r -> r.load().tempBytes());
    sampleCounter("pgtide_xact_commit", "transactions committed since statistics reset (all databases)",
        PgSample::commits);
    sampleCounter("pgtide_xact_rollback", "transactions rolled back since statistics reset (all databases)",
        PgSample::rollbacks);
    standbyLag = io.micrometer.core.instrument.MultiGauge.builder("pgtide_standby_replay_lag_bytes")
        .description("WAL a standby has not replayed yet, seen from this primary (pg_stat_replication)")
        .tags(tags).register(registry);
    gauge("pgtide_connections_active", "client connections running a statement", r -> r.connections().active());
    gauge("pgtide_connections_idle", "idle client connections", r -> r.connections().idle());
    gauge("pgtide_connections_idle_in_transaction", "client connections idle in a transaction",
        r -> r.connections().idleInTransaction());
    gauge("pgtide_connections_max", "max_connections", r -> r.connections().max());
    // PostgreSQL's own processes where PGTIDE_RESOURCES=process-tree (Kubernetes, local mode), else the cgroup's
    gauge("pgtide_cpu_cores", "CPU cores used by PostgreSQL",
        r -> r.resources().cpuCores());
    gauge("pgtide_memory_bytes", "memory used by PostgreSQL",
        r -> r.resources().memoryBytes());
    gauge("pgtide_cpu_limit_cores", "PostgreSQL's CPU limit (its container's, else the machine's cores)",
        r -> r.resources().cpuLimitCores());
    gauge("pgtide_memory_limit_bytes", "PostgreSQL's memory limit (its container's, else the machine's memory)",
        r -> r.resources().memoryLimitBytes());
    // a strong reference: Micrometer holds a gauge's object weakly, and the BridgeState handed in is often a method
    // reference nothing else keeps (it read NaN on every sidecar once collected)
    Gauge.builder("pgtide_bridge_connected", bridge, b -> b.connected() ? 1 : 0).strongReference(true)
        .description("1 while the bridge connection to the operator is up").tags(tags).register(registry);
    sampleDuration = Timer.builder("pgtide_sample_duration").description("time to collect one sample")
        .publishPercentiles(0.5, 0.99).tags(tags).register(registry);
    reportsSent = Counter.builder("pgtide_reports_sent").description("reports sent to the operator")
        .tags(tags).register(registry);
    reportsDropped = Counter.builder("pgtide_reports_unsent")
        .description("reports not sent because the bridge was down").tags(tags).register(registry);
  }

  /** Exposes the bridge state to the gauge without a dependency on the client class. */
  public interface BridgeState {
    boolean connected();
  }

  /**
   * A gauge whose series exists only while its value is known: before the first report, or when the report has no
   * value (no pg_stat_statements, a primary's replay delay), the series is absent rather than NaN.
   */
  private void gauge(String name, String help, Function<InstanceReport, Number> value) {
    gauges.add(name, help, () -> last.get() == null ? null : value.apply(last.get()));
  }

  private void counter(String name, String help, ToDoubleFunction<InstanceReport> value) {
    io.micrometer.core.instrument.FunctionCounter.builder(name, last,
            ref -> ref.get() == null ? 0 : value.applyAsDouble(ref.get()))
        .description(help).tags(tags).register(registry);
  }

  private void sampleCounter(String name, String help, ToDoubleFunction<PgSample> value) {
    io.micrometer.core.instrument.FunctionCounter.builder(name, lastSample,
            ref -> ref.get() == null ? 0 : value.applyAsDouble(ref.get()))
        .description(help).tags(tags).register(registry);
  }

  /** The raw counters of the last successful sample (before any delta: what pg_stat_database says). */
  public void sample(PgSample sample) {
    lastSample.set(sample);
  }

  public void report(InstanceReport report, Duration sampleTook, boolean sent) {
    last.set(report);
    gauges.refresh();
    standbyLag.register(report.standbys().stream().map(s -> io.micrometer.core.instrument.MultiGauge.Row.of(
        Tags.of("standby", s.name()), s.lsnDistanceBytes())).toList(), true);
    sampleDuration.record(sampleTook);
    (sent ? reportsSent : reportsDropped).increment();
  }

  public void command(String type, String outcome) {
    Counter.builder("pgtide_commands").description("commands handled, by type and outcome")
        .tags(tags).tag("type", type).tag("outcome", outcome).register(registry).increment();
  }

  /** namespace, cluster and member: the labels of every series of this sidecar. */
  public Tags tags() {
    return tags;
  }

  public MeterRegistry registry() {
    return registry;
  }
}
