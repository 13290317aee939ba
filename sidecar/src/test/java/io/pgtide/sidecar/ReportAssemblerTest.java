package io.pgtide.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtide.common.contract.Acceptance;
import io.pgtide.common.contract.InstanceReport;
import io.pgtide.common.contract.LoadStats;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Resources;
import io.pgtide.common.contract.Role;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReportAssemblerTest {
  static final MemberId ID = new MemberId("ns", "c", "c-0");

  static PgSample sample(long at, boolean recovery, long xacts, Long calls, Double timeMs, int own) {
    return new PgSample(at, recovery, 2L, recovery ? null : 5000L, recovery ? 4000L : null, recovery ? 3000L : null,
        recovery ? 0.5 : null, recovery ? "streaming" : null, xacts, 0, 0, 0, 90, 10, 1, 2, 0, 3, 100, List.of(),
        calls, timeMs, own);
  }

  static InstanceReport assemble(ReportAssembler.Round round) {
    return ReportAssembler.assemble(ID, "s", 1, 0, round);
  }

  @Test
  void healthyPrimary() {
    PatroniStatus patroni = PatroniStatus.parse("{\"role\":\"master\",\"state\":\"running\",\"timeline\":2}");
    InstanceReport r = assemble(new ReportAssembler.Round(sample(2_000_000_000L, false, 1000, null, null, 1), null,
        sample(1_000_000_000L, false, 500, null, null, 1), patroni, null, true, null, Resources.EMPTY));
    assertThat(r.role()).isEqualTo(Role.PRIMARY);
    assertThat(r.healthy()).isTrue();
    assertThat(r.roleConflict()).isNull();
    assertThat(r.load().tps()).isEqualTo(499.0);
    assertThat(r.load().latencySource()).isEqualTo("none");
  }

  @Test
  void replicaReportsReplayBacklogAndPatroni4PrimaryNameIsAccepted() {
    PatroniStatus p4 = PatroniStatus.parse("{\"role\":\"primary\",\"state\":\"running\"}");
    assertThat(p4.role()).isEqualTo(Role.PRIMARY);
    PatroniStatus replica = PatroniStatus.parse("{\"role\":\"replica\",\"state\":\"running\",\"tags\":{\"nofailover\":true}}");
    InstanceReport r = assemble(new ReportAssembler.Round(sample(1, true, 0, null, null, 0), null, null, replica, null,
        true, null, Resources.EMPTY));
    assertThat(r.role()).isEqualTo(Role.REPLICA);
    assertThat(r.lagBytes()).isEqualTo(1000L);
    assertThat(r.noFailover()).isTrue();
  }

  @Test
  void aStandbyClustersLeaderInRecoveryLeadsItsClusterWithoutAConflict() {
    PatroniStatus patroni = PatroniStatus.parse("{\"role\":\"standby_leader\",\"state\":\"running\"}");
    InstanceReport r = assemble(new ReportAssembler.Round(sample(1, true, 0, null, null, 0), null, null, patroni,
        null, true, null, Resources.EMPTY));
    assertThat(r.role()).isEqualTo(Role.PRIMARY);
    assertThat(r.patroniRole()).isEqualTo("standby_leader");
    assertThat(r.roleConflict()).isNull();
    assertThat(r.walReceiverStatus()).isEqualTo("streaming");
    // in recovery and Patroni calls it a replica: a replica, as before
    PatroniStatus replica = PatroniStatus.parse("{\"role\":\"replica\",\"state\":\"running\"}");
    assertThat(assemble(new ReportAssembler.Round(sample(1, true, 0, null, null, 0), null, null, replica, null, true,
        null, Resources.EMPTY)).role()).isEqualTo(Role.REPLICA);
  }

  @Test
  void disagreementIsReportedNotHidden() {
    PatroniStatus patroni = PatroniStatus.parse("{\"role\":\"replica\",\"state\":\"running\"}");
    InstanceReport r = assemble(new ReportAssembler.Round(sample(1, false, 0, null, null, 0), null, null, patroni,
        null, true, null, Resources.EMPTY));
    assertThat(r.roleConflict()).isEqualTo("PostgreSQL says primary, Patroni says replica");
  }

  @Test
  void everyMissingPartGivesAReason() {
    InstanceReport down = assemble(new ReportAssembler.Round(null, "Connection refused", null, null,
        "Connection refused", true, "Connection refused", Resources.EMPTY));
    assertThat(down.healthy()).isFalse();
    assertThat(down.role()).isEqualTo(Role.UNKNOWN);
    assertThat(down.reason()).contains("postgres: Connection refused", "new connections fail", "patroni:");

    InstanceReport zombie = assemble(new ReportAssembler.Round(sample(1, false, 0, null, null, 0), null, null,
        PatroniStatus.parse("{\"role\":\"master\",\"state\":\"running\"}"), null, true,
        "no new connection within 1000 ms", Resources.EMPTY));
    assertThat(zombie.healthy()).isFalse();
    assertThat(zombie.role()).isEqualTo(Role.PRIMARY);

    InstanceReport plain = assemble(new ReportAssembler.Round(sample(1, false, 0, null, null, 0), null, null, null,
        "not configured", false, null, Resources.EMPTY));
    assertThat(plain.healthy()).isTrue();
    assertThat(plain.reason()).isNull();
  }

  @Test
  void aFrozenPostmasterIsToldFromOneThatIsDownOrStartingUp() {
    assertThat(ReportAssembler.acceptance(true, true, null)).isEqualTo(Acceptance.HUNG);
    assertThat(ReportAssembler.acceptance(true, false, null)).isEqualTo(Acceptance.REFUSED);
    // crash recovery: the postmaster forks a backend that answers, and the login is refused with 57P03
    assertThat(ReportAssembler.acceptance(false, false, "57P03")).isEqualTo(Acceptance.STARTING_UP);
    assertThat(ReportAssembler.acceptance(false, false, "28P01")).isEqualTo(Acceptance.ACCEPTING);
    assertThat(ReportAssembler.acceptance(false, false, null)).isEqualTo(Acceptance.ACCEPTING);
    assertThat(PostmasterProbe.hung(new PostmasterProbe.NoAnswer("no answer"))).isTrue();
    assertThat(PostmasterProbe.hung(new io.netty.channel.ConnectTimeoutException("full backlog"))).isTrue();
    assertThat(PostmasterProbe.hung(new java.net.ConnectException("Connection refused"))).isFalse();

    InstanceReport recovering = assemble(new ReportAssembler.Round(null,
        "FATAL: the database system is not yet accepting connections", null,
        PatroniStatus.parse("{\"role\":\"primary\",\"state\":\"starting\"}"), null, true, null, Resources.EMPTY,
        null, Acceptance.STARTING_UP));
    assertThat(recovering.healthy()).isFalse();
    assertThat(recovering.role()).isEqualTo(Role.PRIMARY);
    assertThat(recovering.acceptance()).isEqualTo(Acceptance.STARTING_UP);
  }

  @Test
  void malformedPatroniAnswersAreClearErrors() {
    assertThatThrownBy(() -> PatroniStatus.parse("<html>")).hasMessageContaining("not a JSON object");
    assertThatThrownBy(() -> PatroniStatus.parse("{\"state\":1}")).hasMessageContaining("'role' and 'state'");
  }

  @Test
  void loadUsesStatementsWhenPresentAndSubtractsOwnQueries() {
    LoadStats l = LoadCalculator.between(sample(0, false, 100, 1000L, 100.0, 3),
        sample(2_000_000_000L, false, 203, 1403L, 500.0, 3));
    assertThat(l.tps()).isEqualTo(50.0);
    assertThat(l.qps()).isEqualTo(200.0);
    assertThat(l.meanLatencyMs()).isEqualTo(1.0);
    assertThat(l.latencySource()).isEqualTo("pg_stat_statements");
    assertThat(l.cacheHitRatio()).isNull();
    assertThat(LoadCalculator.between(null, sample(1, false, 1, null, null, 0))).isEqualTo(LoadStats.EMPTY);
  }
}
