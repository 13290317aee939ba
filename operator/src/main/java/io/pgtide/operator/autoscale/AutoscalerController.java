package io.pgtide.operator.autoscale;

import io.pgtide.common.cluster.ClusterKey;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.pgtide.common.contract.InstanceReport;
import io.pgtide.common.contract.Role;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.operator.failover.ClusterEvents;
import io.pgtide.operator.failover.FailoverCoordinator;
import io.pgtide.operator.infra.Infrastructure;
import io.pgtide.operator.metrics.OperatorMetrics;
import io.pgtide.operator.state.ClusterState;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Samples the cluster state, asks {@link ScalingPolicy} for a decision and applies it through the infrastructure:
 * never by writing {@code spec}. A scale-down that would remove the primary (the highest ordinal) first switches
 * over to the best candidate. Every decision that changes something is an event, a metric and {@code lastScale}.
 */
public final class AutoscalerController {
  private final Vertx vertx;
  private final String key;
  private final ClusterState state;
  private final Infrastructure infra;
  private final FailoverCoordinator failover;
  private final ClusterEvents events;
  private final OperatorMetrics metrics;
  private final Supplier<PostgresClusterSpec> spec;
  private final Deque<ClusterSample> samples = new ArrayDeque<>();
  private final AtomicInteger current = new AtomicInteger();
  private final AtomicInteger desired = new AtomicInteger();
  private final JsonArray history = new JsonArray();
  private long lastUpAt;
  private long lastDownAt;
  private Integer converging;
  private boolean acting;
  private ScalingDecision last;
  private JsonObject lastScale;

  public AutoscalerController(Vertx vertx, String key, ClusterState state, Infrastructure infra,
                              FailoverCoordinator failover, ClusterEvents events, OperatorMetrics metrics,
                              Supplier<PostgresClusterSpec> spec) {
    this.vertx = vertx;
    this.key = key;
    this.state = state;
    this.infra = infra;
    this.failover = failover;
    this.events = events;
    this.metrics = metrics;
    this.spec = spec;
  }

  public void start() {
    var tags = OperatorMetrics.clusterTags(key);
    Gauge.builder("pgtide_autoscaler_desired_members", desired, AtomicInteger::get)
        .description("members the autoscaler wants").tags(tags).register(metrics.registry());
    Gauge.builder("pgtide_autoscaler_current_members", current, AtomicInteger::get)
        .description("members the infrastructure runs").tags(tags).register(metrics.registry());
    // the decision counters from 0, so increase() and the alert that reads them see the first decision
    for (String direction : List.of("up", "down")) {
      Counter.builder("pgtide_autoscaler_decisions")
          .description("scale decisions applied, by direction and the signal that drove them")
          .tags(tags.and("direction", direction).and("reason", "none")).register(metrics.registry());
    }
    long every = ScalingSettings.duration(spec.get().autoscaling.sampleInterval).toMillis();
    timer = vertx.setPeriodic(every, every, t -> tick());
  }

  private long timer = -1;

  public boolean running() {
    return timer >= 0;
  }

  public void stop() {
    vertx.cancelTimer(timer);
    timer = -1;
  }

  public synchronized JsonObject status() {
    return new JsonObject().put("current", current.get()).put("desired", desired.get())
        .put("lastDecision", last == null ? null : new JsonObject().put("desired", last.desired())
            .put("reason", last.reason()).put("blockedBy", last.blockedBy()))
        .put("lastScale", lastScale).put("decisions", history.copy());
  }

  synchronized void tick() {
    if (acting) {
      return;
    }
    PostgresClusterSpec s = spec.get();
    ScalingSettings settings;
    try {
      settings = ScalingSettings.from(s.autoscaling, ScalingSettings.duration(s.autoscaling.window));
    } catch (IllegalArgumentException e) {
      events.emit(key, "Warning", "AutoscalingInvalid", e.getMessage());
      return;
    }
    infra.members(key).onSuccess(names -> decide(settings, s, names));
  }

  private synchronized void decide(ScalingSettings settings, PostgresClusterSpec s, List<String> names) {
    long now = System.currentTimeMillis();
    ClusterView view = state.view(key);
    current.set(names.size());
    String notYet = establishing(view, names);
    if (notYet != null) {
      // a cluster still coming up (no pod yet, or members not reporting) is not a signal: deciding on it scaled
      // a new cluster "0 -> 1" below minReplicas and fought the reconciler
      last = new ScalingDecision(names.size(), names.size(), "waiting: " + notYet, "establishing");
      samples.clear();
      return;
    }
    samples.addLast(sample(view, names, now, settings.maxReplicationLagBytes()));
    while (!samples.isEmpty() && samples.peekFirst().at() < now - settings.window().toMillis() * 2) {
      samples.removeFirst();
    }
    if (converging != null && converged(view, names, settings.maxReplicationLagBytes())) {
      converging = null;
      samples.clear(); // a new membership starts a fresh window
    }
    ScalingDecision d = ScalingPolicy.decide(settings, names.size(), s.replicas, new ArrayList<>(samples), now,
        lastUpAt, lastDownAt, converging != null || failover.incidentOpen(key));
    last = d;
    // while a scale converges the decision holds at the members that run now; what the cluster is to have is the
    // target. Reporting the hold put status.desiredReplicas back to the old count, and the reconciler undid the
    // scale-up before the new member came (AutoscalerK8sE2E, CI 2026-12-04)
    desired.set(converging != null ? converging : d.desired());
    if (!d.changes()) {
      return;
    }
    apply(d, names, now);
  }

  /** Why the cluster is not yet one to scale, null when it is: every member runs, reports live, one is primary. */
  static String establishing(ClusterView view, List<String> names) {
    if (names.isEmpty()) {
      return "no member runs yet";
    }
    if (view.primary().isEmpty()) {
      return "no live primary";
    }
    long live = names.stream().filter(n -> view.members().containsKey(n)
        && view.members().get(n).live(view.at(), view.staleAfterMs())).count();
    return live < names.size() ? live + " of " + names.size() + " members report live" : null;
  }

  private void apply(ScalingDecision d, List<String> names, long now) {
    acting = true;
    String highest = names.stream().max(Comparator.comparingInt(AutoscalerController::ordinal)).orElse(null);
    boolean removesPrimary = d.desired() < d.current() && highest != null
        && state.view(key).primary().map(p -> p.id().member().equals(highest)).orElse(false);
    if (removesPrimary) {
      events.emit(key, "Normal", "ScaleDownSwitchover", highest + " is the primary and the highest ordinal: "
          + "switching over before removing it");
    }
    Future<?> first = removesPrimary ? failover.switchover(key, null) : Future.succeededFuture();
    first.compose(v -> infra.scale(key, d.desired()))
        .onSuccess(v -> {
          synchronized (this) {
            if (d.desired() > d.current()) {
              lastUpAt = now;
            } else {
              lastDownAt = now;
              names.stream().filter(n -> ordinal(n) >= d.desired()).forEach(n ->
                  state.forget(member(key, n)));
            }
            converging = d.desired();
            lastScale = new JsonObject().put("time", Instant.ofEpochMilli(now).toString()).put("from", d.current())
                .put("to", d.desired()).put("reason", d.reason());
            history.add(lastScale.copy());
            if (history.size() > 50) {
              history.remove(0);
            }
            samples.clear();
          }
          events.emit(key, "Normal", d.desired() > d.current() ? "ScaledUp" : "ScaledDown",
              d.current() + " -> " + d.desired() + " members: " + d.reason());
          Counter.builder("pgtide_autoscaler_decisions")
              .description("scale decisions applied, by direction and the signal that drove them")
              .tags(OperatorMetrics.clusterTags(key).and("direction", d.direction()).and("reason", d.signal())).register(metrics.registry())
              .increment();
        })
        .onFailure(e -> {
          metrics.controllerError(key, "autoscale");
          events.emit(key, "Warning", "ScaleFailed", d.current() + " -> " + d.desired() + ": " + e.getMessage());
        })
        .onComplete(ar -> {
          synchronized (this) {
            acting = false;
          }
        });
  }

  private boolean converged(ClusterView view, List<String> names, long maxLag) {
    if (names.size() != converging) {
      return false;
    }
    long now = System.currentTimeMillis();
    return names.stream().allMatch(n -> {
      MemberView m = view.members().get(n);
      if (m == null || !m.live(now, view.staleAfterMs())) {
        return false;
      }
      Long lag = view.lagBytes(n);
      return m.role() == Role.PRIMARY || (lag != null && lag <= maxLag);
    });
  }

  private static ClusterSample sample(ClusterView view, List<String> names, long now, long maxLag) {
    List<ClusterSample.Member> members = new ArrayList<>();
    for (String n : names) {
      MemberView m = view.members().get(n);
      if (m == null || m.report() == null) {
        members.add(new ClusterSample.Member(n, false, false, Long.MAX_VALUE, null, null, null, null));
        continue;
      }
      InstanceReport r = m.report();
      boolean live = m.live(now, view.staleAfterMs());
      Long lag = view.lagBytes(n);
      members.add(new ClusterSample.Member(n, r.role() == Role.PRIMARY, live,
          lag == null ? (r.role() == Role.PRIMARY ? 0 : Long.MAX_VALUE) : lag,
          live ? r.load().qps() : null, live ? r.load().meanLatencyMs() : null,
          live ? r.resources().cpuUtilization() : null, live ? r.resources().memoryUtilization() : null));
    }
    return new ClusterSample(now, members);
  }

  static int ordinal(String member) {
    return io.pgtide.common.contract.MemberId.ordinal(member);
  }

  private static io.pgtide.common.contract.MemberId member(String clusterKey, String member) {
    ClusterKey key = ClusterKey.parse(clusterKey);
    return new io.pgtide.common.contract.MemberId(key.namespace(), key.name(), member);
  }
}
