package io.pgtide.operator.k8s.model;

import io.pgtide.operator.patroni.PendingRestart;
import io.pgtide.common.crd.PostgresClusterStatus;
import io.pgtide.operator.failover.FailoverRecord;
import io.pgtide.operator.failover.IncidentIntent;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What the controllers observed, written into a cluster's status: members and primary from the live view, the last
 * user sync (counts and per-role failures, never a password) with its {@code UsersSynced} condition, the
 * autoscaler's decision and the last failover. Pure: it edits the status it is given.
 */
public final class ClusterStatusModel {
  public static final String USERS_SYNCED = "UsersSynced";

  private ClusterStatusModel() {
  }

  public static void observe(PostgresClusterStatus s, ClusterView view, JsonObject users, JsonObject autoscaler,
                             FailoverRecord lastFailover, Instant now) {
    long at = view.at();
    List<PostgresClusterStatus.Member> members = new ArrayList<>();
    int ready = 0;
    // sorted: a map's order would reorder the list and rewrite an unchanged status
    for (MemberView m : new java.util.TreeMap<>(view.members()).values()) {
      PostgresClusterStatus.Member out = new PostgresClusterStatus.Member();
      out.name = m.id().member();
      out.role = m.role().name().toLowerCase(java.util.Locale.ROOT);
      out.ready = m.live(at, view.staleAfterMs());
      out.timeline = m.report() == null ? null : m.report().timeline();
      // live numbers (lag, QPS) are in the metrics and `pgtide status`: in status they would rewrite it every tick
      ready += out.ready ? 1 : 0;
      members.add(out);
    }
    s.members = members;
    s.readyMembers = ready;
    s.primary = view.primary().map(p -> p.id().member()).orElse(s.primary);
    if (users != null) {
      users(s, users, now);
    }
    if (autoscaler != null) {
      autoscaler(s, autoscaler);
    }
    if (lastFailover != null) {
      s.lastFailover = failover(lastFailover);
    }
  }

  /** {@code status.lastFailover} of a completed failover or switchover. */
  public static PostgresClusterStatus.Failover failover(FailoverRecord record) {
    PostgresClusterStatus.Failover f = new PostgresClusterStatus.Failover();
    f.kind = record.kind();
    f.from = record.from();
    f.to = record.to();
    f.detectedAt = Instant.ofEpochMilli(record.detectedAt()).toString();
    f.completedAt = Instant.ofEpochMilli(record.completedAt()).toString();
    f.durationMs = record.durationMs();
    return f;
  }

  /** {@code status.failover} of an open incident; null for none. */
  public static PostgresClusterStatus.FailoverIntent intent(IncidentIntent intent) {
    if (intent == null) {
      return null;
    }
    PostgresClusterStatus.FailoverIntent f = new PostgresClusterStatus.FailoverIntent();
    f.incidentId = intent.incidentId();
    f.target = intent.target();
    f.kind = intent.kind();
    f.step = intent.step();
    f.startedAt = Instant.ofEpochMilli(intent.startedAt()).toString();
    f.reason = intent.reason();
    return f;
  }

  /** The open incident {@code status.failover} holds; null for none or one that cannot be read. */
  public static IncidentIntent intent(PostgresClusterStatus.FailoverIntent f) {
    if (f == null || f.target == null || f.startedAt == null) {
      return null;
    }
    try {
      long at = Instant.parse(f.startedAt).toEpochMilli();
      return new IncidentIntent(f.incidentId, f.target, f.kind, f.step == null ? "detected" : f.step, at,
          f.reason == null ? "unknown" : f.reason);
    } catch (java.time.format.DateTimeParseException e) {
      return null;
    }
  }

  /**
   * {@code Ready} tells the truth: True only when exactly one live member reports primary and accepts writes (its
   * sidecar is connected and healthy) and the primary Service routes to it ({@code routedToPrimary}: the members
   * the Service's endpoints name). The phase follows: Degraded while a reconcile is refused, Running when Ready,
   * else Pending.
   */
  public static void ready(PostgresClusterStatus s, ClusterView view, java.util.Set<String> routedToPrimary,
                           Instant now) {
    var primary = view.primary();
    int total = view.members().size();
    long live = view.members().values().stream().filter(m -> m.live(view.at(), view.staleAfterMs())).count();
    if (view.splitView()) {
      condition(s, "Ready", "False", "SplitView", view.primaries().size() + " members report primary", now);
    } else if (primary.isEmpty()) {
      condition(s, "Ready", "False", "NoPrimary", "no live member reports primary (" + live + " of " + total
          + " members live)", now);
    } else if (!routedToPrimary.contains(primary.get().id().member())) {
      condition(s, "Ready", "False", "PrimaryNotRouted", "primary " + primary.get().id().member()
          + " is not behind the primary Service yet", now);
    } else if (primary.get().report() != null && "standby_leader".equals(primary.get().report().patroniRole())) {
      // a standby cluster's leader: Ready means it serves (reads) through the Service and follows its source
      condition(s, "Ready", "True", "StandbyLeaderServing", "standby leader " + primary.get().id().member()
          + " serves reads through the Service; " + live + " of " + total + " members live", now);
    } else {
      condition(s, "Ready", "True", "PrimaryServing", "primary " + primary.get().id().member()
          + " accepts writes through the Service; " + live + " of " + total + " members live", now);
    }
    boolean degraded = s.conditions.stream().anyMatch(c -> "Degraded".equals(c.type) && "True".equals(c.status));
    boolean isReady = s.conditions.stream().anyMatch(c -> "Ready".equals(c.type) && "True".equals(c.status));
    s.phase = degraded ? "Degraded" : isReady ? "Running" : "Pending";
  }

  /** A user sync result ({@code changed}, {@code failed}, {@code synced}) as counts, failures and a condition. */
  static void users(PostgresClusterStatus s, JsonObject result, Instant now) {
    PostgresClusterStatus.Users u = new PostgresClusterStatus.Users();
    JsonArray failed = result.getJsonArray("failed", new JsonArray());
    for (int i = 0; i < failed.size(); i++) {
      PostgresClusterStatus.Failure f = new PostgresClusterStatus.Failure();
      f.name = failed.getJsonObject(i).getString("name");
      f.reason = failed.getJsonObject(i).getString("reason");
      u.failed.add(f);
    }
    u.synced = result.getInteger("synced", 0);
    s.users = u;
    if (result.getString("skipped") != null) {
      condition(s, USERS_SYNCED, "True", "FromSource", "not synced here: " + result.getString("skipped"), now);
    } else if (u.failed.isEmpty()) {
      condition(s, USERS_SYNCED, "True", "Synced", u.synced + " roles in sync", now);
    } else {
      condition(s, USERS_SYNCED, "False", "SomeRolesFailed", u.failed.size() + " of " + (u.synced + u.failed.size())
          + " roles not synced: " + String.join(", ", u.failed.stream().map(f -> f.name).limit(10).toList()), now);
    }
  }

  static void autoscaler(PostgresClusterStatus s, JsonObject a) {
    if (a.getInteger("desired", 0) > 0) {
      s.desiredReplicas = a.getInteger("desired");
    }
    JsonObject last = a.getJsonObject("lastScale");
    if (last != null) {
      PostgresClusterStatus.Scale scale = new PostgresClusterStatus.Scale();
      scale.time = last.getString("time");
      scale.from = last.getInteger("from");
      scale.to = last.getInteger("to");
      scale.reason = last.getString("reason");
      s.lastScale = scale;
    }
  }

  /**
   * {@code Progressing}: True while a rolling update has pods to restart or members have parameters pending a
   * restart, False once every pod is up to date and nothing is pending.
   */
  public static void progressing(PostgresClusterStatus s, RollingUpdate.Step step, PendingRestart.Step restart,
                                 Instant now) {
    if (step == null) {
      return;
    }
    if (step.action() != RollingUpdate.Action.DONE) {
      condition(s, "Progressing", "True", "RollingUpdate", step.reason(), now);
    } else if (restart != null && restart.action() != PendingRestart.Action.NONE) {
      condition(s, "Progressing", "True", "RestartPending", restart.reason(), now);
    } else {
      condition(s, "Progressing", "False", "UpToDate", step.reason(), now);
    }
  }

  public static final String MEMBERS_SPREAD = "MembersSpread";

  /**
   * {@code MembersSpread}: True while every scheduled member has a node of its own; False naming a member the
   * scheduler cannot place (with its message) or the members that share a node, so a cluster that one node's loss
   * would take down is never so silently. Only the cluster's own pods count (owned by its StatefulSet).
   */
  public static void placement(PostgresClusterStatus s, List<io.fabric8.kubernetes.api.model.Pod> pods,
                               Instant now) {
    java.util.Map<String, List<String>> byNode = new java.util.TreeMap<>();
    List<String> unschedulable = new ArrayList<>();
    for (var pod : pods) {
      if (pod.getMetadata().getDeletionTimestamp() != null) {
        continue;
      }
      String member = pod.getMetadata().getName();
      String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
      if (node != null) {
        byNode.computeIfAbsent(node, n -> new ArrayList<>()).add(member);
        continue;
      }
      var conditions = pod.getStatus() == null ? List.<io.fabric8.kubernetes.api.model.PodCondition>of()
          : pod.getStatus().getConditions();
      conditions.stream().filter(c -> "PodScheduled".equals(c.getType()) && "False".equals(c.getStatus())
          && "Unschedulable".equals(c.getReason())).findFirst()
          .ifPresent(c -> unschedulable.add(member + ": " + c.getMessage()));
    }
    List<String> shared = byNode.entrySet().stream().filter(e -> e.getValue().size() > 1)
        .map(e -> String.join(", ", e.getValue().stream().sorted().toList()) + " on " + e.getKey()).toList();
    if (!unschedulable.isEmpty()) {
      condition(s, MEMBERS_SPREAD, "False", "Unschedulable", "cannot be scheduled: "
          + String.join("; ", unschedulable.stream().sorted().toList()), now);
    } else if (!shared.isEmpty()) {
      condition(s, MEMBERS_SPREAD, "False", "SharedNode", "members share a node (losing it loses them all): "
          + String.join("; ", shared), now);
    } else if (!byNode.isEmpty()) {
      condition(s, MEMBERS_SPREAD, "True", "DistinctNodes", byNode.size() + " members on " + byNode.size()
          + " nodes", now);
    }
  }

  /**
   * {@code Conflict}: True while a name the cluster wants is held by an object it does not own (nothing is applied
   * then), with the reason and the message naming the objects; False once every such name is its own or free.
   */
  public static void conflict(PostgresClusterStatus s, String reason, String message, Instant now) {
    if (reason != null) {
      condition(s, Ownership.CONDITION, "True", reason, message, now);
    } else {
      condition(s, Ownership.CONDITION, "False", "NoConflict", "every object this cluster wants is its own or absent",
          now);
    }
  }

  /** Sets one condition, keeping the others; the transition time moves only when the status changes. */
  public static void condition(PostgresClusterStatus s, String type, String status, String reason, String message,
                               Instant now) {
    PostgresClusterStatus.Condition previous = s.conditions.stream().filter(c -> type.equals(c.type)).findFirst()
        .orElse(null);
    PostgresClusterStatus.Condition c = new PostgresClusterStatus.Condition();
    c.type = type;
    c.status = status;
    c.reason = reason;
    c.message = message;
    c.lastTransitionTime = previous != null && Objects.equals(previous.status, status)
        ? previous.lastTransitionTime : now.toString();
    List<PostgresClusterStatus.Condition> all = new ArrayList<>(s.conditions);
    all.removeIf(x -> type.equals(x.type));
    all.add(c);
    all.sort(java.util.Comparator.comparing(x -> x.type));
    s.conditions = all;
  }
}
