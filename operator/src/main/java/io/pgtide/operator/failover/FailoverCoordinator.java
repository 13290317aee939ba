package io.pgtide.operator.failover;

import io.pgtide.common.contract.CommandPayload;
import io.pgtide.common.contract.CommandResult;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.operator.hub.CommandClient;
import io.pgtide.operator.infra.Infrastructure;
import io.pgtide.operator.metrics.OperatorMetrics;
import io.pgtide.operator.state.ClusterState;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
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
  private boolean active;
  private boolean listening;
  private long timer = -1;
  /** How often an open incident asks the infrastructure whether the lost primary is confirmed dead. */
  static final long RELEASE_ASK_EVERY_MS = 500;
  /**
   * A primary not live for less than this is a blip (one failed 1 s probe on a busy machine, seen at every start
   * under load), not an incident: no PrimaryLost event or count. The incident's bookkeeping (and the confirmed-death
   * check) still starts at once; a failover within the window is announced when it completes.
   */
  static final long ANNOUNCE_AFTER_MS = 1_500;

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

  private static final class Tracked {
    String primary;          // last confirmed primary
    String endpoint;         // where the primary endpoint points
    String lost;             // primary we lost, while an incident is open
    long detectedAt;
    boolean fenced;
    boolean switching;
    boolean split;           // a split view is open: reported once, when it starts
    boolean fenceUnconfirmed; // the fence could not be confirmed: nothing was forced, Patroni's ttl decides
    boolean fenceWithheld;   // a fence was due but no candidate qualified: reported once per incident
    boolean recoveringNoted; // a fence was due but the primary is restarting, not frozen: reported once per incident
    long frozenSince;        // since when the lost primary has reported new connections hung (0: it has not)
    boolean released;        // the lost primary's leader lock was released on confirmed death
    long releaseAskedAt;     // the last time the infrastructure was asked to confirm its death
    boolean announced;       // PrimaryLost was emitted (and counted) for the open incident
    String lostBecause;      // what the lost primary's last report said
    FailoverRecord last;
  }

  public FailoverCoordinator(Vertx vertx, ClusterState state, Infrastructure infra, CommandClient commands,
                             OperatorMetrics metrics, ClusterEvents events) {
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
   * Stops acting (this replica no longer leads): no endpoint moves, no fencing. What it knew of open incidents is
   * dropped; a replica that leads again picks up from the stream, as after an operator restart.
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
    return t == null ? Optional.empty() : Optional.ofNullable(t.last);
  }

  public Optional<String> endpoint(String clusterKey) {
    Tracked t = clusters.get(clusterKey);
    return t == null ? Optional.empty() : Optional.ofNullable(t.endpoint);
  }

  public boolean incidentOpen(String clusterKey) {
    Tracked t = clusters.get(clusterKey);
    return t != null && t.lost != null;
  }

  private Tracked tracked(String key) {
    return clusters.computeIfAbsent(key, k -> {
      metrics.clusterSeen(k);
      return new Tracked();
    });
  }

  private ClusterPolicy policy(String key) {
    return policies.getOrDefault(key, new ClusterPolicy(15_000, 33_554_432, false));
  }

  synchronized void evaluate(String key) {
    Tracked t = tracked(key);
    ClusterView view = state.view(key);
    long now = System.currentTimeMillis();
    if (view.splitView()) {
      // one incident, one event and one count: this runs on every report and every 250 ms while it lasts
      if (!t.split) {
        t.split = true;
        metrics.splitView(key);
        events.emit(key, "Warning", "SplitView", "more than one member reports itself primary: "
            + view.primaries().stream().map(m -> m.id().member()).toList() + "; not moving the endpoint");
      }
      return;
    }
    if (t.split) {
      t.split = false;
      events.emit(key, "Normal", "SplitViewResolved", "one primary again: "
          + view.primary().map(m -> m.id().member()).orElse("none yet"));
    }
    Optional<MemberView> primary = view.primary();
    if (primary.isPresent()) {
      String p = primary.get().id().member();
      if (!p.equals(t.endpoint)) {
        t.endpoint = p;
        infra.pointPrimary(key, p).onFailure(e -> controllerError(key, "pointPrimary", e));
      }
      if (t.lost != null && !p.equals(t.lost)) {
        complete(key, t, p, now);
      } else if (t.lost != null && p.equals(t.lost)) {
        if (t.announced) {
          events.emit(key, "Normal", "PrimaryRecovered", p + " is a healthy primary again after "
              + (now - t.detectedAt) + " ms" + (t.fenced ? " (it was fenced; Patroni kept it leader)" : "")
              + "; no failover was needed");
        } else {
          LOG.info("[{}] {} was not live for {} ms ({}); not an incident", key, p, now - t.detectedAt,
              t.lostBecause);
        }
        t.lost = null;
        t.fenced = false;
        t.fenceUnconfirmed = false;
        t.fenceWithheld = false;
    t.recoveringNoted = false;
    t.frozenSince = 0;
      }
      t.primary = p;
      return;
    }
    if (t.primary == null) {
      // a fresh start (operator restarted mid-incident): a member still reporting the primary role, fresh and
      // connected but unhealthy, is the primary we have lost — e.g. a zombie, which must still be fenced
      view.members().values().stream().filter(m -> m.connected() && !m.stale(now, view.staleAfterMs())
          && m.role() == Role.PRIMARY).map(m -> m.id().member()).findFirst().ifPresent(m -> t.primary = m);
    }
    if (t.primary != null && t.lost == null && !t.switching) {
      t.lost = t.primary;
      t.detectedAt = now;
      t.fenced = false;
      t.fenceUnconfirmed = false;
      t.released = false;
      t.recoveringNoted = false;
      t.frozenSince = 0;
      t.releaseAskedAt = 0;
      t.announced = false;
      t.lostBecause = describe(view.members().get(t.lost), view);
    }
    if (t.lost != null && !t.announced && now - t.detectedAt >= ANNOUNCE_AFTER_MS) {
      announce(key, t);
    }
    if (t.lost != null && !t.fenced && !t.released && now - t.releaseAskedAt >= RELEASE_ASK_EVERY_MS) {
      // a dead primary holds its leader lock until the ttl runs out; when its death is confirmed there is nothing
      // to wait for (node loss is never confirmed, so it keeps the ttl)
      t.releaseAskedAt = now;
      String lost = t.lost;
      infra.releaseIfDead(key, lost).onSuccess(released -> {
        if (released) {
          synchronized (this) {
            if (lost.equals(t.lost)) {
              t.released = true;
            }
          }
          events.emit(key, "Normal", "LeaderLockReleased", lost + "'s Patroni and PostgreSQL are confirmed gone; "
              + "released its leader lock so Patroni elects without waiting for the ttl");
        }
      }).onFailure(e -> controllerError(key, "releaseIfDead", e));
    }
    if (t.lost != null && !t.fenced) {
      MemberView old = view.members().get(t.lost);
      boolean reporting = old != null && old.connected() && !old.stale(now, view.staleAfterMs())
          && old.role() == Role.PRIMARY;
      // a zombie is frozen the whole delay: an answer of any kind (refused, starting up) restarts the clock, so a
      // postmaster that is slow to answer once while it restarts is not taken for one
      if (!reporting || !old.report().acceptance().mayBeFrozen()) {
        t.frozenSince = 0;
      } else if (t.frozenSince == 0) {
        t.frozenSince = now;
      }
      long delay = policy(key).failoverDelayMs();
      if (reporting && t.frozenSince == 0 && now - t.detectedAt >= delay && !t.recoveringNoted) {
        // down or in crash recovery, not frozen: Patroni restarts it (or fails over after primary_start_timeout);
        // fencing would turn a restart into a failover
        t.recoveringNoted = true;
        events.emit(key, "Normal", "PrimaryRestarting", t.lost + " is down or recovering (new connections "
            + old.report().acceptance().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
            + "), not frozen; leaving it to Patroni, not fencing");
      }
      if (reporting && t.frozenSince != 0 && now - t.frozenSince >= delay) {
        // still reporting as primary but not healthy for failoverDelay: a zombie Patroni will not resolve
        // the zombie's own replication view cannot be trusted here, so synchronous standbys are not required:
        // the question is only whether any live replica could take over (Patroni picks which)
        CandidateRanking.Ranking ranking = CandidateRanking.rank(view, policy(key).maximumLagOnFailover(),
            Set.of(t.lost));
        if (ranking.empty()) {
          // fencing would leave no primary at all: Patroni keeps the zombie until a replica qualifies
          if (!t.fenceWithheld) {
            t.fenceWithheld = true;
            events.emit(key, "Warning", "FenceWithheld", t.lost + " is a zombie primary but no replica qualifies to "
                + "replace it (" + ranking.explain() + "); not fencing");
          }
          return;
        }
        t.fenced = true;
        events.emit(key, "Warning", "FencingZombie", t.lost + " still holds the primary role but has not accepted "
            + "new connections for " + (now - t.detectedAt) + " ms; fencing it so Patroni elects "
            + ranking.candidates().get(0).id().member());
        String fencing = t.lost;
        infra.fence(key, fencing).onFailure(e -> {
          synchronized (this) {
            if (fencing.equals(t.lost)) {
              t.fenceUnconfirmed = true;
            }
          }
          metrics.controllerError(key, "fence");
          events.emit(key, "Warning", "FenceNotConfirmed", e.getMessage());
        });
      }
    }
  }

  /** The incident is real: it lasted past the blip window, or a new primary took over. */
  private void announce(String key, Tracked t) {
    t.announced = true;
    events.emit(key, "Warning", "PrimaryLost", t.lost + " is no longer a live primary (" + t.lostBecause
        + "); waiting for Patroni to elect a new one");
    metrics.primaryLost(key);
  }

  private void complete(String key, Tracked t, String newPrimary, long now) {
    if (!t.announced) {
      announce(key, t);
    }
    String kind = t.fenceUnconfirmed ? "zombie-ttl" : t.fenced ? "zombie-fenced" : t.released ? "confirmed-dead"
        : "failover";
    t.fenceUnconfirmed = false;
    FailoverRecord record = new FailoverRecord(kind,
        t.lost, newPrimary, t.detectedAt, now);
    t.last = record;
    t.lost = null;
    t.fenceWithheld = false;
    t.recoveringNoted = false;
    t.frozenSince = 0;
    events.emit(key, "Normal", "FailoverCompleted", record.from() + " -> " + record.to() + " in "
        + record.durationMs() + " ms (" + record.kind() + ")");
    metrics.failover(key, record);
    Runnable hook = afterFailover.get(key);
    if (hook != null) {
      hook.run();
    }
  }

  /** A planned switchover to {@code candidate} or the best one; refused with a reason when it cannot be done. */
  public synchronized Future<FailoverRecord> switchover(String key, String candidate) {
    Tracked t = tracked(key);
    ClusterView view = state.view(key);
    if (t.switching) {
      return Future.failedFuture("a switchover of " + key + " is already in progress");
    }
    if (t.lost != null) {
      return Future.failedFuture("a failover of " + key + " is in progress (primary " + t.lost + " lost)");
    }
    Optional<MemberView> primary = view.primary();
    if (primary.isEmpty()) {
      return Future.failedFuture("no live primary in " + key + "; switchover needs one");
    }
    if (primary.get().id().member().equals(candidate)) {
      // idempotent: a request repeated after an operator restart must not switch again
      events.emit(key, "Normal", "SwitchoverNotNeeded", candidate + " is already the primary");
      long now = System.currentTimeMillis();
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
    t.switching = true;
    long started = System.currentTimeMillis();
    events.emit(key, "Normal", "SwitchoverStarted", from + " -> " + (to == null ? "the synchronous standby" : to));
    return commands.send(leaderId, new CommandPayload.Switchover(from, to), 60_000)
        .compose(result -> result.ok() ? awaitNewPrimary(key, from, to, 60_000)
            : Future.failedFuture("Patroni refused the switchover: " + describe(result)))
        .map(newPrimary -> {
          FailoverRecord r = new FailoverRecord("switchover", from, newPrimary, started, System.currentTimeMillis());
          t.last = r;
          t.primary = newPrimary;
          metrics.failover(key, r);
          events.emit(key, "Normal", "SwitchoverCompleted", from + " -> " + newPrimary + " in " + r.durationMs()
              + " ms");
          return r;
        })
        .onComplete(ar -> t.switching = false);
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

  private static String describe(MemberView m, ClusterView view) {
    if (m == null) {
      return "no report";
    }
    if (!m.connected()) {
      return "sidecar disconnected";
    }
    if (m.stale(view.at(), view.staleAfterMs())) {
      return "no report for " + (view.at() - m.receivedAt()) + " ms";
    }
    if (!m.report().healthy()) {
      return "unhealthy: " + m.report().reason();
    }
    return "role " + m.role().name().toLowerCase();
  }
}
