package io.pgtide.operator.failover;

import io.pgtide.common.contract.Role;
import io.pgtide.operator.failover.FailoverCoordinator.ClusterPolicy;
import io.pgtide.operator.failover.FailoverEffect.CountError;
import io.pgtide.operator.failover.FailoverEffect.CountPrimaryLost;
import io.pgtide.operator.failover.FailoverEffect.CountSplitView;
import io.pgtide.operator.failover.FailoverEffect.Emit;
import io.pgtide.operator.failover.FailoverEffect.Fence;
import io.pgtide.operator.failover.FailoverEffect.LogBlip;
import io.pgtide.operator.failover.FailoverEffect.PointPrimary;
import io.pgtide.operator.failover.FailoverEffect.ReleaseIfDead;
import io.pgtide.operator.failover.FailoverState.Incident;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The failover coordinator's decisions, pure: (state, what was observed, time) → (next state, effects). No I/O, no
 * clock: the coordinator passes the time, stores the next state, and then carries out the effects in order.
 */
final class FailoverMachine {
  /** How often an open incident asks the infrastructure whether the lost primary is confirmed dead. */
  static final long RELEASE_ASK_EVERY_MS = 500;
  /**
   * A primary not live for less than this is a blip (one failed 1 s probe on a busy machine, seen at every start
   * under load), not an incident: no PrimaryLost event or count. The incident's bookkeeping (and the confirmed-death
   * check) still starts at once; a failover within the window is announced when it completes.
   */
  static final long ANNOUNCE_AFTER_MS = 1_500;
  /** An incident kept by a previous operator is resumed when younger than this, closed unrecorded when older. */
  static final long RESUME_WITHIN_MS = 10 * 60_000;

  private FailoverMachine() {
  }

  /** The next state and what to do about it. */
  record Step(FailoverState state, List<FailoverEffect> effects) {
  }

  /** One evaluation of the cluster's view at {@code now}: on every report, and every 250 ms. */
  static Step observe(FailoverState state, ClusterView view, ClusterPolicy policy, long now) {
    return persisted(state, decide(state, view, policy, now));
  }

  private static Step decide(FailoverState state, ClusterView view, ClusterPolicy policy, long now) {
    List<FailoverEffect> effects = new ArrayList<>();
    if (view.splitView()) {
      return new Step(splitView(state, view, effects), effects);
    }
    FailoverState s = state;
    if (s.split()) {
      s = s.withSplit(false);
      effects.add(new Emit("Normal", "SplitViewResolved", "one primary again: "
          + view.primary().map(m -> m.id().member()).orElse("none yet")));
    }
    Optional<MemberView> primary = view.primary();
    s = primary.isPresent() ? primaryLive(s, primary.get().id().member(), now, effects)
        : primaryMissing(s, view, policy, now, effects);
    return new Step(s, effects);
  }

  /** The infrastructure confirmed {@code member} dead and released its leader lock. */
  static Step released(FailoverState state, String member) {
    FailoverState s = member.equals(state.lost()) ? state.withIncident(state.incident().release()) : state;
    return persisted(state, new Step(s, List.of(new Emit("Normal", "LeaderLockReleased", member + "'s Patroni and PostgreSQL are "
        + "confirmed gone; released its leader lock so Patroni elects without waiting for the ttl"))));
  }

  /** Fencing {@code member} could not be confirmed: nothing was forced, Patroni's ttl decides. */
  static Step fenceFailed(FailoverState state, String member, String reason) {
    FailoverState s = member.equals(state.lost()) ? state.withIncident(state.incident().fenceNotConfirmed()) : state;
    return persisted(state, new Step(s, List.of(new CountError("fence"),
        new Emit("Warning", "FenceNotConfirmed", reason))));
  }

  /**
   * When the persisted shape of the incident changed from {@code before} to the step's state, the step's effects
   * start by keeping it (or closing it, with the failover it ended in): written before anything is done about it.
   */
  static Step persisted(FailoverState before, Step step) {
    IncidentIntent was = IncidentIntent.of(before.incident());
    IncidentIntent now = IncidentIntent.of(step.state().incident());
    if (java.util.Objects.equals(was, now)) {
      return step;
    }
    FailoverRecord completed = now == null && step.state().last() != before.last() ? step.state().last() : null;
    List<FailoverEffect> effects = new ArrayList<>();
    effects.add(new FailoverEffect.Persist(now, completed));
    effects.addAll(step.effects());
    return new Step(step.state(), effects);
  }

  /**
   * The first step of an operator that found {@code intent} kept by the one before it (null: nothing was open).
   * A recent incident is resumed: its lost primary is the one to follow and the incident goes on from its step, so it
   * completes (one record), recovers or gets fenced as it would have. One older than {@link #RESUME_WITHIN_MS} is
   * closed with the reason, unrecorded: what happened since is not known, and a failover record of that length
   * would be false.
   */
  static Step resume(FailoverState state, IncidentIntent intent, long now) {
    if (intent == null || state.incident() != null) {
      return new Step(state, List.of());
    }
    String what = "incident " + intent.incidentId() + " (" + intent.target() + " lost: " + intent.reason()
        + "; step " + intent.step() + ")";
    if (now - intent.startedAt() > RESUME_WITHIN_MS) {
      return new Step(state, List.of(new FailoverEffect.Persist(null, null), new Emit("Warning", "IncidentClosed",
          what + " was left open by the previous operator " + (now - intent.startedAt()) / 1000
              + " s ago; closed unrecorded: what happened since is not known")));
    }
    return new Step(state.withPrimary(intent.target()).withIncident(intent.toIncident()), List.of(
        new Emit("Normal", "IncidentResumed", what + " was left open by the previous operator; resuming it")));
  }

  /** A planned switchover ended with {@code record}: its new primary is the one to follow. */
  static FailoverState switchedOver(FailoverState state, FailoverRecord record) {
    return state.withLast(record).withPrimary(record.to());
  }

  // one incident, one event and one count: this runs on every report and every 250 ms while it lasts
  private static FailoverState splitView(FailoverState s, ClusterView view, List<FailoverEffect> effects) {
    if (!s.split()) {
      effects.add(new CountSplitView());
      effects.add(new Emit("Warning", "SplitView", "more than one member reports itself primary: "
          + view.primaries().stream().map(m -> m.id().member()).toList() + "; not moving the endpoint"));
      return s.withSplit(true);
    }
    return s;
  }

  private static FailoverState primaryLive(FailoverState s, String p, long now, List<FailoverEffect> effects) {
    if (!p.equals(s.endpoint())) {
      s = s.withEndpoint(p);
      effects.add(new PointPrimary(p));
    }
    Incident incident = s.incident();
    if (incident != null && !p.equals(incident.lost())) {
      s = complete(s, p, now, effects);
    } else if (incident != null) {
      effects.add(recovered(incident, now));
      s = s.withIncident(null);
    }
    return s.withPrimary(p);
  }

  /** The lost primary is a healthy primary again: no failover was needed. */
  private static FailoverEffect recovered(Incident incident, long now) {
    long lasted = now - incident.detectedAt();
    if (!incident.announced()) {
      return new LogBlip(incident.lost() + " was not live for " + lasted + " ms (" + incident.lostBecause()
          + "); not an incident");
    }
    return new Emit("Normal", "PrimaryRecovered", incident.lost() + " is a healthy primary again after " + lasted
        + " ms" + (incident.fenced() ? " (it was fenced; Patroni kept it leader)" : "") + "; no failover was needed");
  }

  private static FailoverState complete(FailoverState s, String newPrimary, long now, List<FailoverEffect> effects) {
    Incident incident = s.incident();
    if (!incident.announced()) {
      incident = announce(incident, effects);
    }
    FailoverRecord record = new FailoverRecord(incident.kind(), incident.lost(), newPrimary, incident.detectedAt(), now);
    effects.add(new Emit("Normal", "FailoverCompleted", record.from() + " -> " + record.to() + " in "
        + record.durationMs() + " ms (" + record.kind() + ")"));
    effects.add(new FailoverEffect.Completed(record));
    return s.withLast(record).withIncident(null);
  }

  /** The incident is real: it lasted past the blip window, or a new primary took over. */
  private static Incident announce(Incident incident, List<FailoverEffect> effects) {
    effects.add(new Emit("Warning", "PrimaryLost", incident.lost() + " is no longer a live primary ("
        + incident.lostBecause() + "); waiting for Patroni to elect a new one"));
    effects.add(new CountPrimaryLost());
    return incident.announce();
  }

  private static FailoverState primaryMissing(FailoverState s, ClusterView view, ClusterPolicy policy, long now,
                                              List<FailoverEffect> effects) {
    if (s.primary() == null) {
      // a fresh start (operator restarted mid-incident): a member still reporting the primary role, fresh and
      // connected but unhealthy, is the primary we have lost — e.g. a zombie, which must still be fenced
      s = s.withPrimary(view.members().values().stream().filter(m -> reportsPrimary(m, view, now))
          .map(m -> m.id().member()).findFirst().orElse(null));
    }
    if (s.primary() != null && s.incident() == null && !s.switching()) {
      s = s.withIncident(Incident.opened(s.primary(), now, describe(view.members().get(s.primary()), view)));
    }
    Incident incident = s.incident();
    if (incident == null) {
      return s;
    }
    if (!incident.announced() && now - incident.detectedAt() >= ANNOUNCE_AFTER_MS) {
      incident = announce(incident, effects);
    }
    if (!incident.fenced() && !incident.released() && now - incident.releaseAskedAt() >= RELEASE_ASK_EVERY_MS) {
      // a dead primary holds its leader lock until the ttl runs out; when its death is confirmed there is nothing
      // to wait for (node loss is never confirmed, so it keeps the ttl)
      incident = incident.askedRelease(now);
      effects.add(new ReleaseIfDead(incident.lost()));
    }
    if (!incident.fenced()) {
      incident = fenceIfZombie(incident, view, policy, now, effects);
    }
    return s.withIncident(incident);
  }

  private static boolean reportsPrimary(MemberView m, ClusterView view, long now) {
    return m != null && m.connected() && !m.stale(now, view.staleAfterMs()) && m.role() == Role.PRIMARY;
  }

  /**
   * Fences the lost primary only when it still reports primary and has been frozen (new connections taken, never
   * answered) for the whole failover delay, and a replica qualifies to replace it.
   */
  private static Incident fenceIfZombie(Incident incident, ClusterView view, ClusterPolicy policy, long now,
                                        List<FailoverEffect> effects) {
    MemberView old = view.members().get(incident.lost());
    boolean reporting = reportsPrimary(old, view, now);
    // a zombie is frozen the whole delay: an answer of any kind (refused, starting up) restarts the clock, so a
    // postmaster that is slow to answer once while it restarts is not taken for one
    if (!reporting || !old.report().acceptance().mayBeFrozen()) {
      incident = incident.frozenSince(0);
    } else if (incident.frozenSince() == 0) {
      incident = incident.frozenSince(now);
    }
    long delay = policy.failoverDelayMs();
    if (reporting && incident.frozenSince() == 0 && now - incident.detectedAt() >= delay
        && !incident.recoveringNoted()) {
      // down or in crash recovery, not frozen: Patroni restarts it (or fails over after primary_start_timeout);
      // fencing would turn a restart into a failover
      incident = incident.noteRecovering();
      effects.add(new Emit("Normal", "PrimaryRestarting", incident.lost() + " is down or recovering (new "
          + "connections " + old.report().acceptance().name().toLowerCase(Locale.ROOT).replace('_', ' ')
          + "), not frozen; leaving it to Patroni, not fencing"));
    }
    if (!reporting || incident.frozenSince() == 0 || now - incident.frozenSince() < delay) {
      return incident;
    }
    // still reporting as primary but not healthy for failoverDelay: a zombie Patroni will not resolve. The zombie's
    // own replication view cannot be trusted here, so synchronous standbys are not required: the question is only
    // whether any live replica could take over (Patroni picks which)
    CandidateRanking.Ranking ranking = CandidateRanking.rank(view, policy.maximumLagOnFailover(),
        Set.of(incident.lost()));
    if (ranking.empty()) {
      // fencing would leave no primary at all: Patroni keeps the zombie until a replica qualifies
      if (!incident.fenceWithheld()) {
        effects.add(new Emit("Warning", "FenceWithheld", incident.lost() + " is a zombie primary but no replica "
            + "qualifies to replace it (" + ranking.explain() + "); not fencing"));
        return incident.withholdFence();
      }
      return incident;
    }
    effects.add(new Emit("Warning", "FencingZombie", incident.lost() + " still holds the primary role but has not "
        + "accepted new connections for " + (now - incident.detectedAt()) + " ms; fencing it so Patroni elects "
        + ranking.candidates().get(0).id().member()));
    effects.add(new Fence(incident.lost()));
    return incident.fence();
  }

  /** What the lost primary's last report said, for the PrimaryLost event. */
  static String describe(MemberView m, ClusterView view) {
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
