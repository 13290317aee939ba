package io.pgtide.operator.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.operator.failover.FailoverRecord;
import io.pgtide.operator.state.ClusterState;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * The operator's Prometheus series: per member (aggregated from the stream), per cluster, failovers and
 * switchovers, controller errors. Member gauges are registered when a member is first seen and read the live state.
 */
public final class OperatorMetrics {
  private final MeterRegistry registry;
  private final Set<String> registeredMembers = ConcurrentHashMap.newKeySet();
  private ClusterState state;

  public OperatorMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public MeterRegistry registry() {
    return registry;
  }

  public void bind(ClusterState state) {
    this.state = state;
    state.onChange((key, member) -> register(member.id()));
  }

  private void register(MemberId id) {
    if (!registeredMembers.add(id.toString())) {
      return;
    }
    Tags tags = Tags.of("namespace", id.namespace(), "cluster", id.cluster(), "member", id.member());
    member("pgtide_member_is_primary", "1 when the member reports itself primary", id, tags,
        (v, m) -> m.role() == Role.PRIMARY ? 1 : 0);
    member("pgtide_member_healthy", "1 when the member's last report is healthy", id, tags,
        (v, m) -> m.report() != null && m.report().healthy() ? 1 : 0);
    member("pgtide_member_connected", "1 while the member's sidecar is connected", id, tags,
        (v, m) -> m.connected() ? 1 : 0);
    member("pgtide_member_lag_bytes", "bytes behind the primary's current WAL position", id, tags,
        (v, m) -> {
          Long lag = v.lagBytes(id.member());
          return lag == null ? Double.NaN : lag;
        });
    member("pgtide_member_qps", "statements per second", id, tags, (v, m) -> m.report().load().qps());
    member("pgtide_member_mean_latency_seconds", "mean statement latency", id, tags,
        (v, m) -> m.report().load().meanLatencyMs() == null ? Double.NaN : m.report().load().meanLatencyMs() / 1000.0);
    member("pgtide_member_connections", "client connections", id, tags, (v, m) -> m.report().connections().total());
    member("pgtide_member_staleness_seconds", "seconds since the member's last report", id, tags,
        (v, m) -> (System.currentTimeMillis() - m.receivedAt()) / 1000.0);
  }

  private interface MemberValue {
    double value(ClusterView view, MemberView member);
  }

  private void member(String name, String help, MemberId id, Tags tags, MemberValue value) {
    ToDoubleFunction<ClusterState> f = s -> {
      ClusterView v = s.view(id.clusterKey());
      MemberView m = v.members().get(id.member());
      if (m == null || m.report() == null) {
        return Double.NaN;
      }
      return value.value(v, m);
    };
    Gauge.builder(name, state, f).description(help).tags(tags).register(registry);
  }

  public void failover(String clusterKey, FailoverRecord record) {
    Tags tags = clusterTags(clusterKey).and("kind", record.kind());
    failovers(tags).increment();
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
  static final java.util.List<String> FAILOVER_KINDS = java.util.List.of("confirmed-dead", "failover", "zombie-fenced", "zombie-ttl",
      "switchover");
  static final java.util.List<String> STEPS = java.util.List.of("users", "autoscale", "fence", "pointPrimary",
      "releaseIfDead");

  /**
   * Registers a cluster's counters at 0 the first time it is seen: a counter that first appears with 1 shows no
   * increase() in Prometheus, so the first failover (or the first failed user sync) would raise no alert.
   */
  public void clusterSeen(String clusterKey) {
    Tags tags = clusterTags(clusterKey);
    FAILOVER_KINDS.forEach(kind -> failovers(tags.and("kind", kind)));
    STEPS.forEach(step -> controllerErrors(tags.and("step", step)));
    primaryLost(tags);
    splitView(tags);
  }

  public void primaryLost(String clusterKey) {
    primaryLost(clusterTags(clusterKey)).increment();
  }

  public void splitView(String clusterKey) {
    splitView(clusterTags(clusterKey)).increment();
  }

  public void controllerError(String clusterKey, String step) {
    controllerErrors(clusterTags(clusterKey).and("step", step)).increment();
  }

  private Counter failovers(Tags tags) {
    return Counter.builder("pgtide_failovers").description("completed failovers and switchovers, by kind")
        .tags(tags).register(registry);
  }

  private Counter controllerErrors(Tags tags) {
    return Counter.builder("pgtide_controller_errors").description("controller steps that failed")
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
    String[] parts = clusterKey.split("/", 2);
    return Tags.of("namespace", parts[0], "cluster", parts.length > 1 ? parts[1] : "");
  }
}
