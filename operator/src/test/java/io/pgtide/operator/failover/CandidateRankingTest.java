package io.pgtide.operator.failover;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.InstanceReport;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.operator.TestReports;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CandidateRankingTest {
  static final long NOW = System.currentTimeMillis();

  static MemberView member(String name, Role role, Long replayed, Long received, boolean healthy, boolean connected,
                           long age, boolean noFailover) {
    MemberId id = new MemberId("ns", "c", name);
    InstanceReport base = TestReports.report(id, role, 1, role == Role.PRIMARY ? 10_000 : 0, healthy);
    var json = ContractCodec.encode(base).put("replayedLsn", replayed).put("receivedLsn", received)
        .put("noFailover", noFailover);
    return new MemberView(id, ContractCodec.decodeReport(json), NOW - age, connected);
  }

  static ClusterView view(MemberView... members) {
    Map<String, MemberView> m = new HashMap<>();
    for (MemberView v : members) {
      m.put(v.id().member(), v);
    }
    return new ClusterView("ns/c", m, NOW, 3_000);
  }

  @Test
  void ordersByReplayedThenReceivedThenLagThenName() {
    ClusterView v = view(
        member("c-0", Role.PRIMARY, null, null, true, true, 0, false),
        member("c-1", Role.REPLICA, 9_000L, 9_500L, true, true, 0, false),
        member("c-2", Role.REPLICA, 9_900L, 9_900L, true, true, 0, false),
        member("c-3", Role.REPLICA, 9_900L, 9_950L, true, true, 0, false),
        member("c-4", Role.REPLICA, 9_900L, 9_950L, true, true, 0, false));
    var ranking = CandidateRanking.rank(v, 1_000_000, Set.of());
    assertThat(ranking.candidates()).extracting(m -> m.id().member()).containsExactly("c-3", "c-4", "c-2", "c-1");
    assertThat(ranking.excluded()).containsOnlyKeys("c-0");
  }

  @Test
  void excludesUnhealthyDisconnectedStaleNoFailoverAndLaggingMembersWithReasons() {
    ClusterView v = view(
        member("c-0", Role.PRIMARY, null, null, true, true, 0, false),
        member("c-1", Role.REPLICA, 9_999L, 9_999L, false, true, 0, false),
        member("c-2", Role.REPLICA, 9_999L, 9_999L, true, false, 0, false),
        member("c-3", Role.REPLICA, 9_999L, 9_999L, true, true, 10_000, false),
        member("c-4", Role.REPLICA, 9_999L, 9_999L, true, true, 0, true),
        member("c-5", Role.REPLICA, 1_000L, 1_000L, true, true, 0, false),
        member("c-6", Role.REPLICA, 9_999L, 9_999L, true, true, 0, false));
    var ranking = CandidateRanking.rank(v, 5_000, Set.of("c-6"));
    assertThat(ranking.empty()).isTrue();
    assertThat(ranking.excluded()).containsEntry("c-2", "sidecar disconnected").containsEntry("c-3", "no fresh report")
        .containsEntry("c-4", "tagged nofailover").containsEntry("c-6", "excluded");
    assertThat(ranking.excluded().get("c-1")).startsWith("unhealthy");
    assertThat(ranking.excluded().get("c-5")).contains("lag 9000 bytes > maximumLagOnFailover 5000");
    assertThat(ranking.explain()).contains("c-4: tagged nofailover");
  }

  @Test
  void withoutAPrimaryLagIsMeasuredAgainstTheMostAdvancedReplica() {
    ClusterView v = view(
        member("c-1", Role.REPLICA, 9_000L, 9_000L, true, true, 0, false),
        member("c-2", Role.REPLICA, 5_000L, 5_000L, true, true, 0, false));
    var ranking = CandidateRanking.rank(v, 1_000, Set.of());
    assertThat(ranking.candidates()).extracting(m -> m.id().member()).containsExactly("c-1");
  }

  @Test
  void aSwitchoverCandidateMustBeStreamingFromThePrimary() {
    MemberId pid = new MemberId("ns", "c", "c-0");
    var json = ContractCodec.encode(TestReports.report(pid, Role.PRIMARY, 1, 10_000, true)).put("standbys",
        new io.vertx.core.json.JsonArray().add(new io.vertx.core.json.JsonObject().put("name", "c-1")
            .put("state", "streaming").put("syncState", "async").put("lsnDistanceBytes", 0))
            .add(new io.vertx.core.json.JsonObject().put("name", "c-2").put("state", "catchup")
                .put("syncState", "async").put("lsnDistanceBytes", 0)));
    MemberView primary = new MemberView(pid, ContractCodec.decodeReport(json), NOW, true);
    ClusterView v = view(primary,
        member("c-1", Role.REPLICA, 9_000L, 9_000L, true, true, 0, false),
        member("c-2", Role.REPLICA, 9_999L, 9_999L, true, true, 0, false),
        member("c-3", Role.REPLICA, 9_999L, 9_999L, true, true, 0, false));
    var planned = CandidateRanking.rank(v, 1_000_000, Set.of(), false, true);
    assertThat(planned.candidates()).extracting(m -> m.id().member()).containsExactly("c-1");
    assertThat(planned.excluded()).containsEntry("c-2", "not streaming from the primary")
        .containsEntry("c-3", "not streaming from the primary");
    assertThat(CandidateRanking.rank(v, 1_000_000, Set.of()).candidates()).as("a failover does not ask the primary")
        .hasSize(3);
  }
}
