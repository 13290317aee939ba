package io.pgtide.operator.failover;

import io.pgtide.common.cluster.ClusterLog;
import io.pgtide.common.contract.CommandPayload;
import io.pgtide.common.contract.CommandResult;
import io.pgtide.common.contract.MemberId;
import io.pgtide.operator.hub.CommandClient;
import io.pgtide.operator.infra.Infrastructure;
import io.pgtide.operator.metrics.OperatorMetrics;
import io.pgtide.operator.state.ClusterState;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sees a primary fail first (its stream stops, its sidecar drops, or it reports unhealthy), lets Patroni fail over,
 * and finishes the job when the new primary appears: primary endpoint, user sync, record, event, metrics. A zombie
 * primary (frozen postmaster: Patroni keeps the leader key and never acts) is fenced through the infrastructure
 * after {@code failoverDelay}. Planned switchovers go through Patroni, one at a time per cluster.
 */
public final class FailoverCoordinator {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FailoverCoordinator.class);
  private final Vertx vertx;
  private final ClusterState state;
  private final Infrastructure infra;
  private final CommandClient commands;
  private final OperatorMetrics metrics;
  private final ClusterEvents events;
  private final Map<String, Tracked> clusters = new ConcurrentHashMap<>();
  private final Map<String, ClusterPolicy> policies = new ConcurrentHashMap<>();
  private final Map<String, Runnable> afterFailover = new ConcurrentHashMap<>();
  private final java.util.function.LongSupplier clock;
  private volatile IncidentStore store = IncidentStore.NONE;
  private boolean active;
  private boolean listening;
  private long timer = -1;

  /** Per-cluster settings the coordinator needs. */
  public record ClusterPolicy(long failoverDelayMs, long maximumLagOnFailover, boolean synchronousMode,
                              long patroniTtlMs) {
    public ClusterPolicy(long failoverDelayMs, long maximumLagOnFailover, boolean synchronousMode) {
      this(failoverDelayMs, maximumLagOnFailover, synchronousMode, 30_000);
    }

    public static ClusterPolicy of(io.pgtide.common.crd.PostgresClusterSpec spec) {
      return new ClusterPolicy(spec.failoverDelaySeconds * 1000L, spec.patroni.maximumLagOnFailover,
          spec.patroni.synchronousMode, spec.patroni.ttl * 1000L);
    }

    /** How long a failover may take: Patroni's ttl runs out, or the operator fences after its delay. */
    public double budgetSeconds() {
      return (patroniTtlMs + failoverDelayMs) / 1000.0;
    }
  }

  /**
   * One cluster's state, replaced whole by each step. A holder, so that a switchover still running when the cluster
   * was dropped ({@link #stop}, {@link #forget}) updates the dropped holder, not a successor.
   */
  private static final class Tracked {
    FailoverState state = FailoverState.INITIAL;
    /** The incident a previous operator kept is being read: nothing is decided until it is in. */
    boolean loading = true;
    /** The last write to the store: writes go one after the other, so an older intent never lands last. */
    Future<Void> saving = Future.succeededFuture();
  }

  public FailoverCoordinator(Vertx vertx, ClusterState state, Infrastructure infra, CommandClient commands,
                             OperatorMetrics metrics, ClusterEvents events) {
    this(vertx, state, infra, commands, metrics, events, System::currentTimeMillis);
  }

  FailoverCoordinator(Vertx vertx, ClusterState state, Infrastructure infra, CommandClient commands,
                      OperatorMetrics metrics, ClusterEvents events, java.util.function.LongSupplier clock) {
    this.clock = clock;
    this.vertx = vertx;
    this.state = state;
    this.infra = infra;
    this.commands = commands;
    this.metrics = metrics;
    this.events = events;
  }

  /** Starts acting on the stream (only the operator replica that leads does); idempotent. */
  public synchronized void start() {
    if (active) {
      return;
    }
    active = true;
    if (!listening) {
      listening = true;
      state.onChange((key, member) -> {
        if (active) {
          evaluate(key);
        }
      });
    }
    timer = vertx.setPeriodic(250, t -> state.clusterKeys().forEach(this::evaluate));
  }

  /**
   * Keeps open incidents in {@code store} (written before each is acted on) and resumes the one a previous operator
   * kept there; set before {@link #start}.
   */
  public void persistTo(IncidentStore store) {
    this.store = store;
  }

  /**
   * Stops acting (this replica no longer leads): no endpoint moves, no fencing. What it knew of open incidents is
   * dropped here; they are kept in the {@link IncidentStore}, where the replica that leads next resumes them.
   */
  public synchronized void stop() {
    active = false;
    vertx.cancelTimer(timer);
    clusters.clear();
  }

  public void policy(String clusterKey, ClusterPolicy policy) {
    policies.put(clusterKey, policy);
    metrics.failoverBudget(clusterKey, policy.budgetSeconds());
  }

  /** Runs after every completed failover of this cluster (user sync on the new primary); one hook per cluster. */
  public void afterFailover(String clusterKey, Runnable hook) {
    afterFailover.put(clusterKey, hook);
  }

  /** A deleted cluster's hook goes with it. */
  public void forget(String clusterKey) {
    afterFailover.remove(clusterKey);
    policies.remove(clusterKey);
    clusters.remove(clusterKey);
  }

  public Optional<FailoverRecord> lastFailover(String clusterKey) {
    Tracked t = clusters.get(clusterKey);
    return t == null ? Optional.empty() : Optional.ofNullable(t.state.last());
  }

  public Optional<String> endpoint(String clusterKey) {
    Tracked t = clusters.get(clusterKey);
    return t == null ? Optional.empty() : Optional.ofNullable(t.state.endpoint());
  }

  public boolean incidentOpen(String clusterKey) {
    Tracked t = clusters.get(clusterKey);
    return t != null && t.state.incident() != null;
  }

  private synchronized Tracked tracked(String key) {
    Tracked t = clusters.get(key);
    if (t == null) {
      t = new Tracked();
      clusters.put(key, t);
      metrics.clusterSeen(key);
      resume(key, t);
    }
    return t;
  }

  /** Reads the incident a previous operator kept for the cluster, then resumes or closes it. */
  private void resume(String key, Tracked t) {
    store.load(key).onComplete(ar -> {
      synchronized (this) {
        if (ar.failed()) {
          ClusterLog.of(LOG, key).warn("cannot read the incident kept for it ({}); starting from the stream",
              ar.cause().getMessage());
        }
        t.loading = false;
        apply(key, t, FailoverMachine.resume(t.state, ar.succeeded() ? ar.result() : null, clock.getAsLong()));
      }
    });
  }

  private ClusterPolicy policy(String key) {
    return policies.getOrDefault(key, new ClusterPolicy(15_000, 33_554_432, false));
  }

  synchronized void evaluate(String key) {
    Tracked t = tracked(key);
    if (t.loading) {
      return;
    }
    FailoverMachine.Step step = FailoverMachine.observe(t.state, state.view(key), policy(key), clock.getAsLong());
    apply(key, t, step);
  }

  /**
   * Stores the next state, then carries out its effects in order: an effect whose answer arrives at once (a future
   * already complete) then sees the state it was decided in.
   */
  private synchronized void apply(String key, Tracked t, FailoverMachine.Step step) {
    t.state = step.state();
    run(key, t, step.effects(), 0);
  }

  /**
   * Carries out {@code effects} from {@code from} on; at a {@link FailoverEffect.Persist} the rest waits until the
   * store has it. A failed write is counted and reported, and the rest still runs: a zombie primary is fenced even
   * when the API server cannot take the intent, as before there was one.
   */
  private void run(String key, Tracked t, List<FailoverEffect> effects, int from) {
    for (int i = from; i < effects.size(); i++) {
      if (effects.get(i) instanceof FailoverEffect.Persist p) {
        int next = i + 1;
        t.saving = t.saving.transform(ignored -> store.save(key, p.intent(), p.completed()))
            .onComplete(ar -> {
              synchronized (this) {
                if (ar.failed()) {
                  controllerError(key, "keepIncident", ar.cause());
                }
                run(key, t, effects, next);
              }
            });
        return;
      }
      execute(key, t, effects.get(i));
    }
  }

  private void execute(String key, Tracked t, FailoverEffect effect) {
    if (effect instanceof FailoverEffect.Emit e) {
      events.emit(key, e.type(), e.reason(), e.message());
    } else if (effect instanceof FailoverEffect.PointPrimary e) {
      infra.pointPrimary(key, e.member()).onFailure(err -> controllerError(key, "pointPrimary", err));
    } else if (effect instanceof FailoverEffect.ReleaseIfDead e) {
      infra.releaseIfDead(key, e.member()).onSuccess(released -> {
        if (released) {
          apply(key, t, FailoverMachine.released(t.state, e.member()));
        }
      }).onFailure(err -> controllerError(key, "releaseIfDead", err));
    } else if (effect instanceof FailoverEffect.Fence e) {
      infra.fence(key, e.member()).onFailure(err -> apply(key, t,
          FailoverMachine.fenceFailed(t.state, e.member(), err.getMessage())));
    } else if (effect instanceof FailoverEffect.CountSplitView) {
      metrics.splitView(key);
    } else if (effect instanceof FailoverEffect.CountPrimaryLost) {
      metrics.primaryLost(key);
    } else if (effect instanceof FailoverEffect.CountError e) {
      metrics.controllerError(key, e.step());
    } else if (effect instanceof FailoverEffect.Completed e) {
      metrics.failover(key, e.record());
      Runnable hook = afterFailover.get(key);
      if (hook != null) {
        hook.run();
      }
    } else if (effect instanceof FailoverEffect.LogBlip e) {
      ClusterLog.of(LOG, key).info("{}", e.message());
    }
  }

  /**
   * Holds the cluster as during a planned switchover ({@code true}) or lets it go: while held, a primary that stops
   * is not an incident (no fence, no leader-lock release) and no switchover starts. A major-version upgrade stops
   * the primary on purpose, and Spilo kills Patroni when it restarts it on the new major.
   */
  public synchronized void hold(String key, boolean held) {
    Tracked t = tracked(key);
    if (t.state.switching() != held && t.state.incident() == null) {
      t.state = t.state.withSwitching(held);
    }
  }

  /** Whether the cluster is held ({@link #hold}) or a switchover runs. */
  public boolean held(String key) {
    Tracked t = clusters.get(key);
    return t != null && t.state.switching();
  }

  /** A planned switchover to {@code candidate} or the best one; refused with a reason when it cannot be done. */
  public synchronized Future<FailoverRecord> switchover(String key, String candidate) {
    Tracked t = tracked(key);
    ClusterView view = state.view(key);
    if (t.loading) {
      return Future.failedFuture("the operator is still reading the incident kept for " + key + "; try again");
    }
    if (t.state.switching()) {
      return Future.failedFuture("a switchover of " + key + " is already in progress");
    }
    if (t.state.incident() != null) {
      return Future.failedFuture("a failover of " + key + " is in progress (primary " + t.state.lost() + " lost)");
    }
    Optional<MemberView> primary = view.primary();
    if (primary.isEmpty()) {
      return Future.failedFuture("no live primary in " + key + "; switchover needs one");
    }
    if (primary.get().id().member().equals(candidate)) {
      // idempotent: a request repeated after an operator restart must not switch again
      events.emit(key, "Normal", "SwitchoverNotNeeded", candidate + " is already the primary");
      long now = clock.getAsLong();
      return Future.succeededFuture(new FailoverRecord("switchover", candidate, candidate, now, now));
    }
    CandidateRanking.Ranking ranking = CandidateRanking.rank(view, policy(key).maximumLagOnFailover(), Set.of(),
        policy(key).synchronousMode(), true);
    Optional<MemberView> chosen = candidate == null ? ranking.candidates().stream().findFirst()
        : ranking.candidates().stream().filter(m -> m.id().member().equals(candidate)).findFirst();
    if (chosen.isEmpty()) {
      return Future.failedFuture(candidate == null ? "no candidate qualifies: " + ranking.explain()
          : candidate + " does not qualify: " + ranking.excluded().getOrDefault(candidate, "not a member"));
    }
    String from = primary.get().id().member();
    // In synchronous mode the sync standby is Patroni's to know (its DCS key can be ahead of what the stream has
    // shown): for "the best candidate" let Patroni pick it among the synchronous standbys.
    String to = candidate == null && policy(key).synchronousMode() ? null : chosen.get().id().member();
    MemberId leaderId = primary.get().id();
    t.state = t.state.withSwitching(true);
    long started = clock.getAsLong();
    events.emit(key, "Normal", "SwitchoverStarted", from + " -> " + (to == null ? "the synchronous standby" : to));
    return commands.send(leaderId, new CommandPayload.Switchover(from, to), 60_000)
        .compose(result -> result.ok() ? awaitNewPrimary(key, from, to, 60_000)
            : Future.failedFuture("Patroni refused the switchover: " + describe(result)))
        .map(newPrimary -> {
          FailoverRecord r = new FailoverRecord("switchover", from, newPrimary, started, clock.getAsLong());
          synchronized (this) {
            t.state = FailoverMachine.switchedOver(t.state, r);
          }
          metrics.failover(key, r);
          events.emit(key, "Normal", "SwitchoverCompleted", from + " -> " + newPrimary + " in " + r.durationMs()
              + " ms");
          return r;
        })
        .onComplete(ar -> {
          synchronized (this) {
            t.state = t.state.withSwitching(false);
          }
        });
  }

  /** Completes with the new primary: {@code member} when named, otherwise any live primary other than {@code from}. */
  private Future<String> awaitNewPrimary(String key, String from, String member, long timeoutMs) {
    io.vertx.core.Promise<String> done = io.vertx.core.Promise.promise();
    long deadline = System.currentTimeMillis() + timeoutMs;
    long timer = vertx.setPeriodic(100, id -> {
      Optional<String> p = state.view(key).primary().map(v -> v.id().member());
      if (p.isPresent() && (member == null ? !p.get().equals(from) : p.get().equals(member))) {
        done.tryComplete(p.get());
      } else if (System.currentTimeMillis() > deadline) {
        done.tryFail((member == null ? "no new primary" : member + " did not become primary") + " within "
            + timeoutMs + " ms");
      }
    });
    return done.future().onComplete(ar -> vertx.cancelTimer(timer));
  }

  private void controllerError(String key, String step, Throwable e) {
    metrics.controllerError(key, step);
    events.emit(key, "Warning", "ControllerError", step + " failed: " + e.getMessage());
  }

  private static String describe(CommandResult r) {
    return r.errorCode() + ": " + r.errorMessage();
  }
}
