package io.pgtide.sidecar;

import io.pgtide.common.contract.LoadStats;

/**
 * Turns two consecutive samples into rates. QPS counts statements from {@code pg_stat_statements} when it is
 * installed and falls back to transactions from {@code pg_stat_database} when it is not; mean latency needs
 * {@code pg_stat_statements} (total_exec_time / calls over the interval) and is null without it. The sidecar's own
 * queries are subtracted, so an idle server reads 0.
 */
public final class LoadCalculator {
  private LoadCalculator() {
  }

  public static LoadStats between(PgSample previous, PgSample current) {
    return between(previous, current, null);
  }

  /** The same, with transactions measured by {@code transactions} (burst-proof) when it is given. */
  public static LoadStats between(PgSample previous, PgSample current, TransactionRate transactions) {
    if (transactions != null && current != null) {
      double smoothed = transactions.update(current.takenAtNanos(), current.xacts(), current.queriesIssued());
      LoadStats raw = between(previous, current, null);
      return raw == LoadStats.EMPTY ? raw : new LoadStats("none".equals(raw.latencySource()) ? smoothed : raw.qps(),
          smoothed, raw.meanLatencyMs(), raw.latencySource(), raw.deadlocks(), raw.tempBytes(), raw.cacheHitRatio());
    }
    if (previous == null || current == null) {
      return LoadStats.EMPTY;
    }
    double seconds = (current.takenAtNanos() - previous.takenAtNanos()) / 1e9;
    if (seconds <= 0) {
      return LoadStats.EMPTY;
    }
    long ownTransactions = current.queriesIssued();
    long xacts = Math.max(0, current.xacts() - previous.xacts() - ownTransactions);
    double tps = xacts / seconds;
    double qps = tps;
    Double latency = null;
    String source = "none";
    if (current.statementCalls() != null && previous.statementCalls() != null) {
      long calls = Math.max(0, current.statementCalls() - previous.statementCalls() - ownTransactions);
      double timeMs = Math.max(0, current.statementTimeMs() - previous.statementTimeMs());
      qps = calls / seconds;
      latency = calls == 0 ? 0.0 : timeMs / calls;
      source = "pg_stat_statements";
    }
    long hits = current.blksHit() - previous.blksHit();
    long reads = current.blksRead() - previous.blksRead();
    Double hitRatio = hits + reads <= 0 ? null : (double) hits / (hits + reads);
    return new LoadStats(qps, tps, latency, source, current.deadlocks(), current.tempBytes(), hitRatio);
  }
}
