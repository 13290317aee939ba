package io.pgtide.operator.metrics;

import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.QueryFailure;
import io.pgtide.operator.failover.ClusterEvents;
import io.pgtide.operator.state.MemberView;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Tells of a custom metric query that starts failing on a member: a Warning event {@value #REASON} on the cluster
 * (a Kubernetes Event on the PostgresCluster, in local mode the event history and the dashboard) naming the query,
 * the member and the reason, once per transition into failure — not for every report while it keeps failing, nor
 * again when only its reason changes. Fed by every member's reports (each sidecar sends the queries whose last run
 * failed); a query that works again may fail again, and is told of again. What is known starts empty: a sidecar that
 * restarts, or an operator that takes over the lead, tells again of a query failing then.
 */
public final class CustomQueryFailures {
  public static final String REASON = "CustomQueryFailed";
  private final ClusterEvents events;
  /** The queries failing on each member, as its last report said. */
  private final Map<MemberId, Set<String>> failing = new ConcurrentHashMap<>();

  public CustomQueryFailures(ClusterEvents events) {
    this.events = events;
  }

  /** A member changed (a report, a connection): an event per query that failed in no report of it before. */
  public void onChange(String clusterKey, MemberView member) {
    if (member.report() == null) {
      return;
    }
    List<QueryFailure> now = member.report().customQueryFailures();
    Set<String> before = failing.put(member.id(), now.stream().map(QueryFailure::query)
        .collect(Collectors.toUnmodifiableSet()));
    for (QueryFailure f : started(before == null ? Set.of() : before, now)) {
      events.emit(clusterKey, "Warning", REASON, message(member.id().member(), f));
    }
  }

  /** Forgets every member of a deleted cluster. */
  public void forget(String clusterKey) {
    failing.keySet().removeIf(id -> id.clusterKey().equals(clusterKey));
  }

  /** The failures of {@code now} whose query was not failing {@code before}, in the report's order. Pure. */
  static List<QueryFailure> started(Set<String> before, List<QueryFailure> now) {
    return now.stream().filter(f -> !before.contains(f.query())).toList();
  }

  /** The event's message: the query first (what a reader looks for), then where and why. Pure. */
  static String message(String member, QueryFailure f) {
    return "custom query " + f.query() + " failed on " + member + (f.error().isEmpty() ? "" : ": " + f.error());
  }
}
