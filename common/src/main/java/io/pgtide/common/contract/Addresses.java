package io.pgtide.common.contract;

/** Every event-bus address pgtide uses; nothing else names an address. */
public final class Addresses {
  /** Sidecar → operator: full {@link InstanceReport} snapshots. */
  public static final String REPORTS = "pgtide.reports";
  /** Operator-internal: reports the hub already decoded and checked, as {@link InstanceReport} objects. */
  public static final String REPORTS_DECODED = "pgtide.reports.decoded";
  /** Operator-internal: member connected / disconnected / rejected message events. */
  public static final String MEMBER_EVENTS = "pgtide.member-events";
  /** Operator → dashboard and CLI: cluster state snapshots. */
  public static final String CLUSTER_STATE = "pgtide.cluster-state";
  /** Operator → dashboard and CLI: failover, switchover and scale events. */
  public static final String CLUSTER_EVENTS = "pgtide.cluster-events";
  /** Prefix of the per-member command addresses. */
  public static final String COMMAND_PREFIX = "pgtide.cmd.";
  /** Regex for the outbound permission of the bridge: commands only. */
  public static final String COMMAND_REGEX = "pgtide\\.cmd\\.[a-z0-9-]+\\.[a-z0-9-]+\\.[a-z0-9-]+";

  private Addresses() {
  }

  public static String command(MemberId id) {
    return COMMAND_PREFIX + id.namespace() + "." + id.cluster() + "." + id.member();
  }
}
