package io.pgtide.operator.state;

import io.pgtide.common.contract.Role;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A cluster at one instant, derived from the latest member views. Pure. A member counts as primary only when it
 * is live and says so; more than one live primary is a split view and is flagged, never silently resolved.
 */
public record ClusterView(String key, Map<String, MemberView> members, long at, long staleAfterMs) {

  public ClusterView {
    members = Map.copyOf(new TreeMap<>(members));
  }

  public List<MemberView> primaries() {
    return members.values().stream().filter(m -> m.live(at, staleAfterMs) && m.role() == Role.PRIMARY)
        .sorted(Comparator.comparing(m -> m.id().member())).toList();
  }

  public Optional<MemberView> primary() {
    List<MemberView> p = primaries();
    return p.size() == 1 ? Optional.of(p.get(0)) : Optional.empty();
  }

  public boolean splitView() {
    return primaries().size() > 1;
  }

  public List<MemberView> healthyReplicas() {
    return members.values().stream().filter(m -> m.live(at, staleAfterMs) && m.role() == Role.REPLICA)
        .sorted(Comparator.comparing(m -> m.id().member())).toList();
  }

  /** Bytes a member is behind the primary's current WAL position (from the stream), null when unknown. */
  public Long lagBytes(String member) {
    MemberView m = members.get(member);
    Optional<MemberView> p = primary();
    if (m == null || p.isEmpty() || m.report() == null) {
      return null;
    }
    if (m == p.get()) {
      return 0L;
    }
    Long primaryLsn = p.get().report().currentLsn();
    Long replayed = m.report().replayedLsn();
    return primaryLsn == null || replayed == null ? null : Math.max(0, primaryLsn - replayed);
  }

  public Optional<MemberView> mostAdvancedReplica() {
    return healthyReplicas().stream().filter(m -> m.report().walPosition() != null)
        .max(Comparator.comparingLong(m -> m.report().walPosition()));
  }
}
