package io.pgtide.sidecar;

import io.pgtide.common.contract.StandbyRow;
import java.util.List;

/**
 * What one sampling round read from PostgreSQL: raw cumulative counters, before any delta is taken.
 * {@code queriesIssued} counts the sidecar's own statements since the previous sample.
 */
public record PgSample(long takenAtNanos, boolean inRecovery, Long timeline, Long currentLsn, Long receivedLsn,
                       Long replayedLsn, Double replayDelaySeconds, String walReceiverStatus, long commits,
                       long rollbacks,
                       long deadlocks, long tempBytes, long blksHit, long blksRead, int active, int idle,
                       int idleInTransaction, int total, int maxConnections, List<StandbyRow> standbys,
                       Long statementCalls, Double statementTimeMs, int queriesIssued) {
  /** Transactions ended, committed or rolled back (all databases). */
  public long xacts() {
    return commits + rollbacks;
  }
}
