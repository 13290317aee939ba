package io.pgtide.operator.state;

import io.pgtide.common.contract.InstanceReport;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;

/** What the operator knows of one member: its latest report, when it arrived, and whether its sidecar is connected. */
public record MemberView(MemberId id, InstanceReport report, long receivedAt, boolean connected) {

  public boolean stale(long now, long staleAfterMs) {
    return report == null || now - receivedAt > staleAfterMs;
  }

  /** Reporting, connected, fresh and healthy. */
  public boolean live(long now, long staleAfterMs) {
    return connected && !stale(now, staleAfterMs) && report.healthy();
  }

  public Role role() {
    return report == null ? Role.UNKNOWN : report.role();
  }

  public MemberView withReport(InstanceReport r, long at) {
    return new MemberView(id, r, at, true);
  }

  public MemberView disconnected() {
    return new MemberView(id, report, receivedAt, false);
  }
}
