package io.pgtide.common.contract;

import java.util.List;

/**
 * A complete snapshot of one member, sent every interval and at once on a role or health change.
 * LSNs are byte positions; lag is in bytes (timestamps grow on idle clusters), {@code replayDelaySeconds} is
 * informative only. {@code customQueryFailures}: the custom metric queries whose last run failed (none when all
 * work or there are none; a sidecar of schema 1.1 or older sends none).
 */
public record InstanceReport(
    MemberId id,
    String schemaVersion,
    String sessionId,
    long seq,
    long collectedAt,
    Role role,
    String patroniRole,
    String patroniState,
    String roleConflict,
    boolean noFailover,
    boolean pendingRestart,
    Long timeline,
    Long currentLsn,
    Long receivedLsn,
    Long replayedLsn,
    Long lagBytes,
    Double replayDelaySeconds,
    String walReceiverStatus,
    List<StandbyRow> standbys,
    LoadStats load,
    Connections connections,
    Resources resources,
    boolean healthy,
    String reason,
    Acceptance acceptance,
    List<QueryFailure> customQueryFailures) {

  public InstanceReport {
    standbys = standbys == null ? List.of() : List.copyOf(standbys);
    load = load == null ? LoadStats.EMPTY : load;
    connections = connections == null ? Connections.EMPTY : connections;
    resources = resources == null ? Resources.EMPTY : resources;
    role = role == null ? Role.UNKNOWN : role;
    acceptance = acceptance == null ? Acceptance.UNKNOWN : acceptance;
    customQueryFailures = customQueryFailures == null ? List.of() : List.copyOf(customQueryFailures);
  }

  /** A report without custom query failures. */
  public InstanceReport(MemberId id, String schemaVersion, String sessionId, long seq, long collectedAt, Role role,
                        String patroniRole, String patroniState, String roleConflict, boolean noFailover,
                        boolean pendingRestart, Long timeline, Long currentLsn, Long receivedLsn, Long replayedLsn,
                        Long lagBytes, Double replayDelaySeconds, String walReceiverStatus, List<StandbyRow> standbys,
                        LoadStats load, Connections connections, Resources resources, boolean healthy,
                        String reason, Acceptance acceptance) {
    this(id, schemaVersion, sessionId, seq, collectedAt, role, patroniRole, patroniState, roleConflict, noFailover,
        pendingRestart, timeline, currentLsn, receivedLsn, replayedLsn, lagBytes, replayDelaySeconds,
        walReceiverStatus, standbys, load, connections, resources, healthy, reason, acceptance, List.of());
  }

  /** A report that says nothing of how new connections are answered ({@link Acceptance#UNKNOWN}). */
  public InstanceReport(MemberId id, String schemaVersion, String sessionId, long seq, long collectedAt, Role role,
                        String patroniRole, String patroniState, String roleConflict, boolean noFailover,
                        boolean pendingRestart, Long timeline, Long currentLsn, Long receivedLsn, Long replayedLsn,
                        Long lagBytes, Double replayDelaySeconds, String walReceiverStatus, List<StandbyRow> standbys,
                        LoadStats load, Connections connections, Resources resources, boolean healthy,
                        String reason) {
    this(id, schemaVersion, sessionId, seq, collectedAt, role, patroniRole, patroniState, roleConflict, noFailover,
        pendingRestart, timeline, currentLsn, receivedLsn, replayedLsn, lagBytes, replayDelaySeconds,
        walReceiverStatus, standbys, load, connections, resources, healthy, reason, Acceptance.UNKNOWN, List.of());
  }

  /** The same report with these custom query failures (the sidecar adds its custom queries' state last). */
  public InstanceReport withCustomQueryFailures(List<QueryFailure> failures) {
    return new InstanceReport(id, schemaVersion, sessionId, seq, collectedAt, role, patroniRole, patroniState,
        roleConflict, noFailover, pendingRestart, timeline, currentLsn, receivedLsn, replayedLsn, lagBytes,
        replayDelaySeconds, walReceiverStatus, standbys, load, connections, resources, healthy, reason, acceptance,
        failures);
  }

  /** The most advanced WAL position this member is known to hold. */
  public Long walPosition() {
    if (role == Role.PRIMARY && currentLsn != null) {
      return currentLsn;
    }
    return replayedLsn != null ? replayedLsn : receivedLsn;
  }
}
