package io.pgtide.operator.state;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.operator.TestReports;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterViewTest {
  static MemberView m(String name, Role role, long lsn, boolean healthy, boolean connected, long receivedAt) {
    MemberId id = new MemberId("ns", "c", name);
    return new MemberView(id, TestReports.report(id, role, 1, lsn, healthy), receivedAt, connected);
  }

  @Test
  void derivesPrimaryReplicasLagAndMostAdvanced() {
    long now = System.currentTimeMillis();
    ClusterView v = new ClusterView("ns/c", Map.of(
        "c-0", m("c-0", Role.PRIMARY, 10_000, true, true, now),
        "c-1", m("c-1", Role.REPLICA, 9_000, true, true, now),
        "c-2", m("c-2", Role.REPLICA, 9_500, true, true, now),
        "c-3", m("c-3", Role.REPLICA, 9_900, true, false, now)), now, 3_000);
    assertThat(v.primary()).map(p -> p.id().member()).contains("c-0");
    assertThat(v.splitView()).isFalse();
    assertThat(v.healthyReplicas()).extracting(r -> r.id().member()).containsExactly("c-1", "c-2");
    assertThat(v.lagBytes("c-1")).isEqualTo(1_000L);
    assertThat(v.lagBytes("c-0")).isZero();
    assertThat(v.mostAdvancedReplica()).map(r -> r.id().member()).contains("c-2");
  }

  @Test
  void twoLivePrimariesAreASplitViewWithNoPrimary() {
    long now = System.currentTimeMillis();
    ClusterView v = new ClusterView("ns/c", Map.of(
        "c-0", m("c-0", Role.PRIMARY, 10_000, true, true, now),
        "c-1", m("c-1", Role.PRIMARY, 10_000, true, true, now)), now, 3_000);
    assertThat(v.splitView()).isTrue();
    assertThat(v.primary()).isEmpty();
    assertThat(v.lagBytes("c-1")).isNull();
  }

  @Test
  void staleUnhealthyOrDisconnectedPrimaryIsNoPrimary() {
    long now = System.currentTimeMillis();
    assertThat(new ClusterView("ns/c", Map.of("c-0", m("c-0", Role.PRIMARY, 1, true, true, now - 5_000)), now, 3_000)
        .primary()).isEmpty();
    assertThat(new ClusterView("ns/c", Map.of("c-0", m("c-0", Role.PRIMARY, 1, false, true, now)), now, 3_000)
        .primary()).isEmpty();
    assertThat(new ClusterView("ns/c", Map.of("c-0", m("c-0", Role.PRIMARY, 1, true, false, now)), now, 3_000)
        .primary()).isEmpty();
  }
}
