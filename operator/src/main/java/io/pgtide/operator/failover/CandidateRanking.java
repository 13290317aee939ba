package io.pgtide.operator.failover;

import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Who may become primary, best first. Pure. A candidate is a live replica (healthy, connected, fresh), not tagged
 * nofailover, within {@code maxLagBytes}; ordered by highest replayed LSN, then received LSN, then lowest lag,
 * then name.
 */
public final class CandidateRanking {
  private CandidateRanking() {
  }

  public record Ranking(List<MemberView> candidates, Map<String, String> excluded) {
    public boolean empty() {
      return candidates.isEmpty();
    }

    public String explain() {
      if (excluded.isEmpty()) {
        return "no replicas";
      }
      StringBuilder sb = new StringBuilder();
      excluded.forEach((m, why) -> sb.append(sb.length() == 0 ? "" : "; ").append(m).append(": ").append(why));
      return sb.toString();
    }
  }

  public static Ranking rank(ClusterView view, long maxLagBytes, Set<String> exclude) {
    return rank(view, maxLagBytes, exclude, false);
  }

  /**
   * With {@code synchronousMode}, only the primary's synchronous standbys qualify (Patroni refuses any other
   * candidate, and only they are guaranteed to hold every acknowledged commit).
   */
  public static Ranking rank(ClusterView view, long maxLagBytes, Set<String> exclude, boolean synchronousMode) {
    return rank(view, maxLagBytes, exclude, synchronousMode, false);
  }

  /**
   * With {@code streamingOnly} (a planned switchover: the primary is there to ask), a candidate must also be in
   * the primary's {@code pg_stat_replication} as streaming: a replica stuck on a broken WAL tail can look close
   * in LSN terms and still fail to promote.
   */
  public static Ranking rank(ClusterView view, long maxLagBytes, Set<String> exclude, boolean synchronousMode,
                             boolean streamingOnly) {
    Set<String> streaming = streamingOnly ? streamingStandbys(view) : null;
    List<MemberView> ok = new ArrayList<>();
    Map<String, String> excluded = new LinkedHashMap<>();
    Set<String> sync = synchronousMode ? synchronousStandbys(view) : null;
    for (MemberView m : view.members().values()) {
      String name = m.id().member();
      String why = exclusion(view, m, maxLagBytes, exclude);
      if (why == null && sync != null && !sync.contains(name)) {
        why = "not a synchronous standby (synchronous mode)";
      }
      if (why == null && streaming != null && !streaming.contains(name)) {
        why = "not streaming from the primary";
      }
      if (why == null) {
        ok.add(m);
      } else {
        excluded.put(name, why);
      }
    }
    ok.sort(Comparator
        .comparing((MemberView m) -> orMin(m.report().replayedLsn()), Comparator.reverseOrder())
        .thenComparing(m -> orMin(m.report().receivedLsn()), Comparator.reverseOrder())
        .thenComparing(m -> lag(view, m))
        .thenComparing(m -> m.id().member()));
    return new Ranking(ok, excluded);
  }

  private static Set<String> streamingStandbys(ClusterView view) {
    return view.primary().map(p -> p.report().standbys().stream().filter(s -> "streaming".equals(s.state()))
        .map(io.pgtide.common.contract.StandbyRow::name).collect(java.util.stream.Collectors.toSet()))
        .orElse(Set.of());
  }

  private static Set<String> synchronousStandbys(ClusterView view) {
    return view.primary().map(p -> p.report().standbys().stream()
        .filter(s -> "sync".equals(s.syncState()) || "quorum".equals(s.syncState()))
        .map(io.pgtide.common.contract.StandbyRow::name).collect(java.util.stream.Collectors.toSet()))
        .orElse(Set.of());
  }

  private static String exclusion(ClusterView view, MemberView m, long maxLagBytes, Set<String> exclude) {
    if (exclude.contains(m.id().member())) {
      return "excluded";
    }
    if (!m.connected()) {
      return "sidecar disconnected";
    }
    if (m.stale(view.at(), view.staleAfterMs())) {
      return "no fresh report";
    }
    if (!m.report().healthy()) {
      return "unhealthy: " + m.report().reason();
    }
    if (m.role() != io.pgtide.common.contract.Role.REPLICA) {
      return "not a replica (" + m.role().name().toLowerCase() + ")";
    }
    if (m.report().noFailover()) {
      return "tagged nofailover";
    }
    long lag = lag(view, m);
    if (lag > maxLagBytes) {
      return "lag " + lag + " bytes > maximumLagOnFailover " + maxLagBytes;
    }
    return null;
  }

  private static long lag(ClusterView view, MemberView m) {
    Long lag = view.lagBytes(m.id().member());
    if (lag != null) {
      return lag;
    }
    // no primary to compare with (it is the one that failed): compare with the most advanced replica
    long best = view.members().values().stream().filter(o -> o.report() != null && o.report().walPosition() != null)
        .mapToLong(o -> o.report().walPosition()).max().orElse(0);
    Long own = m.report().walPosition();
    return own == null ? Long.MAX_VALUE : Math.max(0, best - own);
  }

  private static long orMin(Long v) {
    return v == null ? Long.MIN_VALUE : v;
  }
}
