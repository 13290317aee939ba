package io.pgtide.common.contract;

/** One row of {@code pg_stat_replication} on a primary. Lags in milliseconds, null when PostgreSQL has none. */
public record StandbyRow(String name, String state, String syncState, Double writeLagMs, Double flushLagMs,
                         Double replayLagMs, long lsnDistanceBytes) {
}
