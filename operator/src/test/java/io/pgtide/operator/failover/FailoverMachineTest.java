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
import io.pgtide.operator.failover.FailoverEffect.PointPrimary;
import io.pgtide.operator.failover.FailoverEffect.ReleaseIfDead;
import io.pgtide.operator.state.ClusterView;
import io.pgtide.operator.state.MemberView;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The failover decisions as a pure machine: states, observations at given times, and the effects asked for. */
class FailoverMachineTest {
  private static final long T0 = 1_000_000;
  private static final ClusterPolicy POLICY = new ClusterPolicy(4_000, 33_554_432, false);

  /** Members as the stream shows them at {@code at}: name → (role, healthy, acceptance), all fresh and connected. */
  private static ClusterView view(long at, Object... members) {
    Map<String, MemberView> m = new HashMap<>();
    for (int i = 0; i < members.length; i += 4) {
      MemberId id = new MemberId("shop", "pg", (String) members[i]);
      m.put(id.member(), new MemberView(id, TestReports.report(id, (Role) members[i + 1], 1, 1000,
          (Boolean) members[i + 2], null, false, (Acceptance) members[i + 3]), at, true));
    }
    return new ClusterView("shop/pg", m, at, 10_000);
  }

  private static ClusterView healthy(long at, String primary) {
    return view(at, primary, Role.PRIMARY, true, Acceptance.ACCEPTING,
        primary.equals("pg-0") ? "pg-1" : "pg-0", Role.REPLICA, true, Acceptance.ACCEPTING);
  }

  private static ClusterView primaryDown(long at, Acceptance acceptance) {
    return view(at, "pg-0", Role.PRIMARY, false, acceptance, "pg-1", Role.REPLICA, true, Acceptance.ACCEPTING);
  }

  private static List<String> reasons(FailoverMachine.Step step) {
    return step.effects().stream().filter(e -> e instanceof Emit).map(e -> ((Emit) e).reason()).toList();
  }

  private static FailoverState running() {
    return FailoverMachine.observe(FailoverState.INITIAL, healthy(T0 - 10_000, "pg-0"), POLICY, T0 - 10_000).state();
  }

  @Test
  void aPrimarySeenPointsTheEndpointOnce() {
    FailoverMachine.Step first = FailoverMachine.observe(FailoverState.INITIAL, healthy(T0, "pg-0"), POLICY, T0);
    assertThat(first.effects()).containsExactly(new PointPrimary("pg-0"));
    assertThat(first.state().primary()).isEqualTo("pg-0");

    FailoverMachine.Step again = FailoverMachine.observe(first.state(), healthy(T0 + 250, "pg-0"), POLICY, T0 + 250);
    assertThat(again.effects()).isEmpty();
    assertThat(again.state()).isEqualTo(first.state());
  }

  @Test
  void aLostPrimaryIsAnnouncedAfterTheBlipWindowAndTheFailoverCompletesWhenAnotherLeads() {
    FailoverMachine.Step lost = FailoverMachine.observe(running(), primaryDown(T0, Acceptance.REFUSED), POLICY, T0);
    assertThat(lost.state().lost()).isEqualTo("pg-0");
    // kept before anything is done about it
    IncidentIntent detected = new IncidentIntent("pg-0@" + T0, "pg-0", "failover", "detected", T0,
        "unhealthy: down");
    assertThat(lost.effects()).containsExactly(new Persist(detected, null), new ReleaseIfDead("pg-0"));

    FailoverMachine.Step announced = FailoverMachine.observe(lost.state(), primaryDown(T0 + 1_500, Acceptance.REFUSED),
        POLICY, T0 + 1_500);
    assertThat(reasons(announced)).containsExactly("PrimaryLost");
    assertThat(announced.effects()).contains(new FailoverEffect.CountPrimaryLost(), new ReleaseIfDead("pg-0"));

    FailoverMachine.Step done = FailoverMachine.observe(announced.state(), healthy(T0 + 2_000, "pg-1"), POLICY,
        T0 + 2_000);
    FailoverRecord record = new FailoverRecord("failover", "pg-0", "pg-1", T0, T0 + 2_000);
    // closed and recorded in one write, before the endpoint moves and the record is told
    assertThat(done.effects()).containsExactly(new Persist(null, record), new PointPrimary("pg-1"),
        new Emit("Normal", "FailoverCompleted", "pg-0 -> pg-1 in 2000 ms (failover)"),
        new FailoverEffect.Completed(record));
    assertThat(done.state().incident()).isNull();
    assertThat(done.state().last()).isEqualTo(record);
    assertThat(done.state().primary()).isEqualTo("pg-1");
  }

  @Test
  void aBlipIsLoggedNotAnnounced() {
    FailoverState lost = FailoverMachine.observe(running(), primaryDown(T0, Acceptance.REFUSED), POLICY, T0).state();
    FailoverMachine.Step back = FailoverMachine.observe(lost, healthy(T0 + 500, "pg-0"), POLICY, T0 + 500);
    assertThat(back.effects()).hasSize(2).containsExactly(new Persist(null, null), back.effects().get(1));
    assertThat(back.effects().get(1)).isInstanceOf(FailoverEffect.LogBlip.class);
    assertThat(back.state().incident()).isNull();
  }

  @Test
  void aZombieIsFencedOnlyAfterBeingFrozenForTheWholeDelayAndAnyAnswerRestartsTheClock() {
    FailoverState s = FailoverMachine.observe(running(), primaryDown(T0, Acceptance.HUNG), POLICY, T0).state();
    s = FailoverMachine.observe(s, primaryDown(T0 + 3_000, Acceptance.STARTING_UP), POLICY, T0 + 3_000).state();
    s = FailoverMachine.observe(s, primaryDown(T0 + 3_500, Acceptance.HUNG), POLICY, T0 + 3_500).state();
    FailoverMachine.Step early = FailoverMachine.observe(s, primaryDown(T0 + 7_499, Acceptance.HUNG), POLICY,
        T0 + 7_499);
    assertThat(early.effects()).doesNotContain(new Fence("pg-0"));

    FailoverMachine.Step fenced = FailoverMachine.observe(early.state(), primaryDown(T0 + 7_500, Acceptance.HUNG),
        POLICY, T0 + 7_500);
    assertThat(fenced.effects()).containsExactly(new Persist(IncidentIntent.of(fenced.state().incident()), null),
        new Emit("Warning", "FencingZombie", "pg-0 still holds the primary "
        + "role but has not accepted new connections for 7500 ms; fencing it so Patroni elects pg-1"),
        new Fence("pg-0"));
    assertThat(fenced.state().incident().fenced()).isTrue();

    FailoverMachine.Step done = FailoverMachine.observe(fenced.state(), healthy(T0 + 9_000, "pg-1"), POLICY,
        T0 + 9_000);
    assertThat(done.state().last().kind()).isEqualTo("zombie-fenced");
  }

  @Test
  void aRestartingPrimaryIsLeftToPatroniAndSaidSoOnce() {
    FailoverState s = FailoverMachine.observe(running(), primaryDown(T0, Acceptance.REFUSED), POLICY, T0).state();
    FailoverMachine.Step due = FailoverMachine.observe(s, primaryDown(T0 + 4_000, Acceptance.STARTING_UP), POLICY,
        T0 + 4_000);
    assertThat(reasons(due)).containsExactly("PrimaryLost", "PrimaryRestarting");
    FailoverMachine.Step later = FailoverMachine.observe(due.state(), primaryDown(T0 + 9_000, Acceptance.REFUSED),
        POLICY, T0 + 9_000);
    assertThat(reasons(later)).isEmpty();
    assertThat(later.effects()).doesNotContain(new Fence("pg-0"));
  }

  @Test
  void noFenceWhileNoReplicaQualifiesSaidOnce() {
    ClusterView noReplica = view(T0, "pg-0", Role.PRIMARY, false, Acceptance.HUNG,
        "pg-1", Role.REPLICA, false, Acceptance.REFUSED);
    FailoverState s = FailoverMachine.observe(running(), noReplica, POLICY, T0).state();
    ClusterView later = view(T0 + 5_000, "pg-0", Role.PRIMARY, false, Acceptance.HUNG,
        "pg-1", Role.REPLICA, false, Acceptance.REFUSED);
    FailoverMachine.Step withheld = FailoverMachine.observe(s, later, POLICY, T0 + 5_000);
    assertThat(reasons(withheld)).containsExactly("PrimaryLost", "FenceWithheld");
    FailoverMachine.Step again = FailoverMachine.observe(withheld.state(), later, POLICY, T0 + 5_100);
    assertThat(reasons(again)).isEmpty();
  }

  @Test
  void aSplitViewIsOneEventUntilItResolvesAndTheEndpointStays() {
    ClusterView split = view(T0, "pg-0", Role.PRIMARY, true, Acceptance.ACCEPTING,
        "pg-1", Role.PRIMARY, true, Acceptance.ACCEPTING);
    FailoverMachine.Step opened = FailoverMachine.observe(running(), split, POLICY, T0);
    assertThat(reasons(opened)).containsExactly("SplitView");
    assertThat(opened.effects()).contains(new FailoverEffect.CountSplitView()).noneMatch(e -> e instanceof PointPrimary);
    assertThat(FailoverMachine.observe(opened.state(), split, POLICY, T0 + 250).effects()).isEmpty();
    FailoverMachine.Step resolved = FailoverMachine.observe(opened.state(), healthy(T0 + 500, "pg-0"), POLICY,
        T0 + 500);
    assertThat(reasons(resolved)).containsExactly("SplitViewResolved");
  }

  @Test
  void aConfirmedDeathOrAnUnconfirmedFenceNamesHowTheIncidentEnded() {
    FailoverState lost = FailoverMachine.observe(running(), primaryDown(T0, Acceptance.REFUSED), POLICY, T0).state();

    FailoverMachine.Step other = FailoverMachine.released(lost, "pg-7");
    assertThat(other.state()).as("another member's answer").isEqualTo(lost);
    FailoverMachine.Step released = FailoverMachine.released(lost, "pg-0");
    assertThat(reasons(released)).containsExactly("LeaderLockReleased");
    assertThat(FailoverMachine.observe(released.state(), healthy(T0 + 100, "pg-1"), POLICY, T0 + 100).state().last()
        .kind()).isEqualTo("confirmed-dead");
    assertThat(FailoverMachine.observe(released.state(), primaryDown(T0 + 600, Acceptance.REFUSED), POLICY, T0 + 600)
        .effects()).as("no more asking once released").doesNotContain(new ReleaseIfDead("pg-0"));

    FailoverMachine.Step unconfirmed = FailoverMachine.fenceFailed(lost, "pg-0", "not confirmed");
    assertThat(unconfirmed.effects()).containsExactly(
        new Persist(IncidentIntent.of(unconfirmed.state().incident()), null), new FailoverEffect.CountError("fence"),
        new Emit("Warning", "FenceNotConfirmed", "not confirmed"));
    assertThat(FailoverMachine.observe(unconfirmed.state(), healthy(T0 + 100, "pg-1"), POLICY, T0 + 100).state()
        .last().kind()).isEqualTo("zombie-ttl");
  }

  @Test
  void noIncidentOpensDuringASwitchoverAndAFreshStartAdoptsTheMemberStillReportingPrimary() {
    FailoverState switching = running().withSwitching(true);
    assertThat(FailoverMachine.observe(switching, primaryDown(T0, Acceptance.REFUSED), POLICY, T0).state().incident())
        .isNull();

    FailoverMachine.Step fresh = FailoverMachine.observe(FailoverState.INITIAL, primaryDown(T0, Acceptance.HUNG),
        POLICY, T0);
    assertThat(fresh.state().lost()).isEqualTo("pg-0");
    assertThat(fresh.state().incident().lostBecause()).isEqualTo("unhealthy: down");
  }
}
