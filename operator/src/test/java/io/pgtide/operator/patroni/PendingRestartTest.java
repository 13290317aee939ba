package io.pgtide.operator.patroni;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.operator.TestReports;
import io.pgtide.operator.patroni.PendingRestart.Action;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PendingRestartTest {
  final Map<String, MemberView> members = new LinkedHashMap<>();

  void member(String name, Role role, boolean pending, boolean healthy, String receiver, boolean connected) {
    MemberId id = new MemberId("ns", "pg", name);
    members.put(name, new MemberView(id, TestReports.report(id, role, 1, 100, healthy, receiver, pending),
        System.currentTimeMillis(), connected));
  }

  void member(String name, Role role, boolean pending) {
    member(name, role, pending, true, role == Role.REPLICA ? "streaming" : null, true);
  }

  PendingRestart.Step next() {
    return PendingRestart.next(new ClusterView("ns/pg", members, System.currentTimeMillis(), 3_000));
  }

  @Test
  void nothingPendingIsNothingToDo() {
    member("pg-0", Role.PRIMARY, false);
    member("pg-1", Role.REPLICA, false);
    assertThat(next().action()).isEqualTo(Action.NONE);
  }

  @Test
  void replicasRestartFirstHighestOrdinalFirstThenTheSwitchoverThenTheOldPrimary() {
    member("pg-0", Role.PRIMARY, true);
    member("pg-1", Role.REPLICA, true);
    member("pg-2", Role.REPLICA, true);
    assertThat(next()).extracting(PendingRestart.Step::action, PendingRestart.Step::target)
        .containsExactly(Action.RESTART, "pg-2");
    member("pg-2", Role.REPLICA, false);
    assertThat(next()).extracting(PendingRestart.Step::action, PendingRestart.Step::target)
        .containsExactly(Action.RESTART, "pg-1");
    member("pg-1", Role.REPLICA, false);
    assertThat(next()).extracting(PendingRestart.Step::action, PendingRestart.Step::target)
        .containsExactly(Action.SWITCHOVER, "pg-0");
    member("pg-0", Role.REPLICA, true);
    member("pg-1", Role.PRIMARY, false);
    assertThat(next()).extracting(PendingRestart.Step::action, PendingRestart.Step::target)
        .containsExactly(Action.RESTART, "pg-0");
  }

  @Test
  void waitsWhileAMemberIsDownDisconnectedOrCatchingUp() {
    member("pg-0", Role.PRIMARY, true);
    member("pg-1", Role.REPLICA, true);
    member("pg-2", Role.REPLICA, false, false, null, true);
    assertThat(next()).extracting(PendingRestart.Step::action, PendingRestart.Step::target)
        .containsExactly(Action.WAIT, "pg-2");
    member("pg-2", Role.REPLICA, false, true, "streaming", false);
    assertThat(next().action()).isEqualTo(Action.WAIT);
    member("pg-2", Role.REPLICA, false, true, "starting", true);
    assertThat(next()).extracting(PendingRestart.Step::action, PendingRestart.Step::target)
        .containsExactly(Action.WAIT, "pg-2");
    member("pg-2", Role.REPLICA, false);
    assertThat(next().action()).isEqualTo(Action.RESTART);
  }

  @Test
  void aSingleMemberRestartsInPlace() {
    member("pg-0", Role.PRIMARY, true);
    assertThat(next()).extracting(PendingRestart.Step::action, PendingRestart.Step::target)
        .containsExactly(Action.RESTART, "pg-0");
  }
}
