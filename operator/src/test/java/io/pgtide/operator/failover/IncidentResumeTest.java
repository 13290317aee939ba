package io.pgtide.operator.failover;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.Acceptance;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.operator.TestReports;
import io.pgtide.operator.failover.FailoverCoordinator.ClusterPolicy;
import io.pgtide.operator.failover.FailoverEffect.Emit;
import io.pgtide.operator.failover.FailoverEffect.Fence;
import io.pgtide.operator.failover.FailoverEffect.Persist;
import io.pgtide.operator.failover.FailoverState.Incident;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An incident kept by the operator that led before: what is kept, and the next leader's decision, pure. It resumes
 * a recent one (which then completes with one record, recovers, or goes on without repeating what was done) and
 * closes an old one with the reason.
 */
class IncidentResumeTest {
  private static final long T0 = 5_000_000;
  private static final ClusterPolicy POLICY = new ClusterPolicy(4_000, 33_554_432, false);

  private static ClusterView view(long at, String primary, boolean healthy, Acceptance acceptance) {
    Map<String, MemberView> m = new HashMap<>();
    for (String member : List.of("pg-0", "pg-1")) {
      MemberId id = new MemberId("shop", "pg", member);
      boolean isPrimary = member.equals(primary);
      m.put(member, new MemberView(id, TestReports.report(id, isPrimary ? Role.PRIMARY : Role.REPLICA, 1, 1000,
          !isPrimary || healthy, null, false, isPrimary ? acceptance : Acceptance.ACCEPTING), at, true));
    }
    return new ClusterView("shop/pg", m, at, 10_000);
  }

  private static List<String> reasons(FailoverMachine.Step step) {
    return step.effects().stream().filter(e -> e instanceof Emit).map(e -> ((Emit) e).reason()).toList();
  }

  private static IncidentIntent kept(String step, long startedAt) {
    return new IncidentIntent("pg-0@" + startedAt, "pg-0", step.startsWith("fence") ? "zombie-fenced" : "failover",
        step, startedAt, "sidecar disconnected");
  }

  @Test
  void whatIsKeptBringsBackHowFarTheIncidentWent() {
    Incident opened = Incident.opened("pg-0", T0, "no report");
    for (Incident i : List.of(opened, opened.announce(), opened.announce().release(), opened.announce().fence(),
        opened.announce().fence().fenceNotConfirmed())) {
      Incident back = IncidentIntent.of(i).toIncident();
      assertThat(back.lost()).isEqualTo("pg-0");
      assertThat(back.detectedAt()).isEqualTo(T0);
      assertThat(back.lostBecause()).isEqualTo("no report");
      assertThat(back.kind()).isEqualTo(i.kind());
      assertThat(List.of(back.announced(), back.fenced(), back.fenceUnconfirmed(), back.released()))
          .isEqualTo(List.of(i.announced(), i.fenced(), i.fenceUnconfirmed(), i.released()));
      assertThat(IncidentIntent.of(back)).isEqualTo(IncidentIntent.of(i));
    }
    assertThat(IncidentIntent.of(opened.announce().fence()).step()).isEqualTo("fenced");
    assertThat(IncidentIntent.of(opened).incidentId()).isEqualTo("pg-0@" + T0);
    assertThat(IncidentIntent.of(null)).isNull();
  }

  @Test
  void aRecentIncidentIsResumedAndCompletesUnderTheNewLeaderWithOneRecord() {
    long now = T0 + 20_000;
    FailoverMachine.Step resumed = FailoverMachine.resume(FailoverState.INITIAL, kept("announced", T0), now);
    assertThat(reasons(resumed)).containsExactly("IncidentResumed");
    assertThat(resumed.state().lost()).isEqualTo("pg-0");
    assertThat(resumed.state().primary()).isEqualTo("pg-0");

    FailoverMachine.Step done = FailoverMachine.observe(resumed.state(), view(now, "pg-1", true,
        Acceptance.ACCEPTING), POLICY, now);
    FailoverRecord record = new FailoverRecord("failover", "pg-0", "pg-1", T0, now);
    assertThat(done.effects().get(0)).isEqualTo(new Persist(null, record));
    // announced by the operator before: not again; completed once
    assertThat(reasons(done)).containsExactly("FailoverCompleted");
    assertThat(done.effects()).filteredOn(e -> e instanceof FailoverEffect.Completed).hasSize(1);
    assertThat(done.state().last()).isEqualTo(record);
    assertThat(done.state().incident()).isNull();
  }

  @Test
  void aResumedIncidentWhosePrimaryIsBackClosesAsRecoveredUnrecorded() {
    long now = T0 + 5_000;
    FailoverState s = FailoverMachine.resume(FailoverState.INITIAL, kept("announced", T0), now).state();
    FailoverMachine.Step back = FailoverMachine.observe(s, view(now, "pg-0", true, Acceptance.ACCEPTING), POLICY,
        now);
    assertThat(back.effects().get(0)).isEqualTo(new Persist(null, null));
    assertThat(reasons(back)).containsExactly("PrimaryRecovered");
    assertThat(back.state().last()).isNull();
  }

  @Test
  void aFencedPrimaryIsNotFencedAgainByTheNextLeader() {
    long now = T0 + 30_000;
    FailoverState s = FailoverMachine.resume(FailoverState.INITIAL, kept("fenced", T0), now).state();
    // still frozen, long past the delay, a replica qualifies: fencing was done already
    FailoverMachine.Step step = FailoverMachine.observe(s, view(now, "pg-0", false, Acceptance.HUNG), POLICY, now);
    step = FailoverMachine.observe(step.state(), view(now + 10_000, "pg-0", false, Acceptance.HUNG), POLICY,
        now + 10_000);
    assertThat(step.effects()).doesNotContain(new Fence("pg-0"));
    assertThat(reasons(step)).doesNotContain("FencingZombie", "PrimaryLost");
    FailoverMachine.Step done = FailoverMachine.observe(step.state(), view(now + 11_000, "pg-1", true,
        Acceptance.ACCEPTING), POLICY, now + 11_000);
    assertThat(done.state().last().kind()).isEqualTo("zombie-fenced");
  }

  @Test
  void anOldIncidentIsClosedWithTheReasonAndNothingElseChanges() {
    long now = T0 + FailoverMachine.RESUME_WITHIN_MS + 1;
    FailoverMachine.Step closed = FailoverMachine.resume(FailoverState.INITIAL, kept("announced", T0), now);
    assertThat(closed.effects().get(0)).isEqualTo(new Persist(null, null));
    assertThat(reasons(closed)).containsExactly("IncidentClosed");
    assertThat(((Emit) closed.effects().get(1)).message()).contains("pg-0@" + T0).contains("closed unrecorded");
    assertThat(closed.state()).isEqualTo(FailoverState.INITIAL);
  }

  @Test
  void nothingKeptIsNothingToDo() {
    FailoverMachine.Step none = FailoverMachine.resume(FailoverState.INITIAL, null, T0);
    assertThat(none.effects()).isEmpty();
    assertThat(none.state()).isEqualTo(FailoverState.INITIAL);
  }
}
