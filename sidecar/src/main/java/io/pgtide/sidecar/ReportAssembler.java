package io.pgtide.sidecar;

import io.pgtide.common.contract.Acceptance;
import io.pgtide.common.contract.Connections;
import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.InstanceReport;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Resources;
import io.pgtide.common.contract.Role;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a report from what one round collected. Pure. PostgreSQL's own view of its role wins when it answered;
 * when PostgreSQL and Patroni disagree the disagreement is reported in {@code roleConflict}, not hidden.
 */
public final class ReportAssembler {
  private ReportAssembler() {
  }

  /** What one round produced: each part is either a value or the reason it is missing. */
  public record Round(PgSample pg, String pgError, PgSample previousPg, PatroniStatus patroni, String patroniError,
                      boolean patroniExpected, String probeError, Resources resources, TransactionRate transactions,
                      Acceptance acceptance) {
    public Round(PgSample pg, String pgError, PgSample previousPg, PatroniStatus patroni, String patroniError,
                 boolean patroniExpected, String probeError, Resources resources) {
      this(pg, pgError, previousPg, patroni, patroniError, patroniExpected, probeError, resources, null,
          Acceptance.UNKNOWN);
    }
  }

  /** SQLSTATE cannot_connect_now: the server is starting up, in crash recovery, or shutting down. */
  static final String CANNOT_CONNECT_NOW = "57P03";

  /**
   * How the postmaster answered this round. Pure.
   *
   * @param probeFailed whether the new connection of {@link PostmasterProbe} failed
   * @param probeHung whether it failed by getting no answer at all ({@link PostmasterProbe#hung})
   * @param pgSqlState the SQLSTATE the sample's login failed with, if it failed with one
   */
  public static Acceptance acceptance(boolean probeFailed, boolean probeHung, String pgSqlState) {
    if (probeFailed) {
      return probeHung ? Acceptance.HUNG : Acceptance.REFUSED;
    }
    return CANNOT_CONNECT_NOW.equals(pgSqlState) ? Acceptance.STARTING_UP : Acceptance.ACCEPTING;
  }

  static final String STANDBY_LEADER = "standby_leader";

  public static InstanceReport assemble(MemberId id, String sessionId, long seq, long collectedAt, Round round) {
    PgSample pg = round.pg();
    PatroniStatus patroni = round.patroni();
    // a standby cluster's leader replays its source's WAL, so PostgreSQL is in recovery; yet it leads its own
    // cluster (its Service, its replicas cascade from it), which Patroni names standby_leader
    boolean standbyLeader = pg != null && pg.inRecovery() && patroni != null
        && STANDBY_LEADER.equals(patroni.rawRole());
    Role pgRole = pg == null ? Role.UNKNOWN : pg.inRecovery() && !standbyLeader ? Role.REPLICA : Role.PRIMARY;
    Role patroniRole = patroni == null ? Role.UNKNOWN : patroni.role();
    Role role = pgRole != Role.UNKNOWN ? pgRole : patroniRole;
    String conflict = pgRole != Role.UNKNOWN && patroniRole != Role.UNKNOWN && pgRole != patroniRole
        ? "PostgreSQL says " + pgRole.name().toLowerCase() + ", Patroni says " + patroni.rawRole() : null;

    List<String> problems = new ArrayList<>();
    if (round.pgError() != null) {
      problems.add("postgres: " + round.pgError());
    }
    if (round.probeError() != null) {
      problems.add("new connections fail: " + round.probeError());
    }
    if (round.patroniExpected() && round.patroniError() != null) {
      problems.add("patroni: " + round.patroniError());
    }
    if (patroni != null && !"running".equals(patroni.state())) {
      problems.add("patroni state " + patroni.state());
    }
    // Patroni being absent alone does not make PostgreSQL unhealthy; PostgreSQL failing does.
    boolean healthy = round.pgError() == null && round.probeError() == null
        && (patroni == null || "running".equals(patroni.state()));

    Long timeline = pg != null ? pg.timeline() : patroni == null ? null : patroni.timeline();
    Long backlog = pg != null && pg.inRecovery() && pg.receivedLsn() != null && pg.replayedLsn() != null
        ? Math.max(0, pg.receivedLsn() - pg.replayedLsn()) : null;
    Connections conns = pg == null ? Connections.EMPTY
        : new Connections(pg.active(), pg.idle(), pg.idleInTransaction(), pg.total(), pg.maxConnections());
    return new InstanceReport(id, ContractCodec.SCHEMA_VERSION, sessionId, seq, collectedAt, role,
        patroni == null ? null : patroni.rawRole(), patroni == null ? null : patroni.state(), conflict,
        patroni != null && patroni.noFailover(), patroni != null && patroni.pendingRestart(), timeline,
        pg == null ? null : pg.currentLsn(), pg == null ? null : pg.receivedLsn(),
        pg == null ? null : pg.replayedLsn(), backlog, pg == null ? null : pg.replayDelaySeconds(),
        pg == null ? null : pg.walReceiverStatus(), pg == null ? List.of() : pg.standbys(),
        LoadCalculator.between(round.previousPg(), pg, round.transactions()), conns, round.resources(), healthy,
        problems.isEmpty() ? null : String.join("; ", problems), round.acceptance());
  }
}
