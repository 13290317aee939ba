package io.pgtide.operator;

import io.pgtide.common.contract.Acceptance;
import io.pgtide.common.contract.Connections;
import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.InstanceReport;
import io.pgtide.common.contract.LoadStats;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Resources;
import io.pgtide.common.contract.Role;
import java.util.List;

/** Builds contract-valid reports for tests of the operator's own logic. */
public final class TestReports {
  private TestReports() {
  }

  public static InstanceReport report(MemberId id, Role role, long seq, long lsn, boolean healthy) {
    return report(id, role, seq, lsn, healthy, null, false);
  }

  public static InstanceReport report(MemberId id, Role role, long seq, long lsn, boolean healthy,
                                      String walReceiverStatus, boolean pendingRestart) {
    return report(id, role, seq, lsn, healthy, walReceiverStatus, pendingRestart, Acceptance.UNKNOWN);
  }

  public static InstanceReport report(MemberId id, Role role, long seq, long lsn, boolean healthy,
                                      String walReceiverStatus, boolean pendingRestart, Acceptance acceptance) {
    return new InstanceReport(id, ContractCodec.SCHEMA_VERSION, "session-" + id.member(), seq,
        System.currentTimeMillis(), role, role == Role.PRIMARY ? "master" : "replica", "running", null, false,
        pendingRestart, 1L, role == Role.PRIMARY ? lsn : null, role == Role.REPLICA ? lsn : null,
        role == Role.REPLICA ? lsn : null, 0L, null, walReceiverStatus, List.of(), new LoadStats(10, 10, 1.0, "pg_stat_statements", 0, 0, 0.99),
        new Connections(1, 2, 0, 3, 100), Resources.EMPTY, healthy, healthy ? null : "down", acceptance);
  }
}
