package io.pgtide.sidecar;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Transactions per second from {@code pg_stat_database} when {@code pg_stat_statements} is not there. Since
 * PostgreSQL 15 a backend publishes its counts in bursts — at most once a second, and a busy one only every ~10 s
 * — so the counter's delta over one sampling interval swings between 0 and several times the real rate. While
 * the counter moves every interval (backends that go idle between statements publish every second) the interval
 * rate is used as is; once intervals without a move appear, the rate is measured between the moments the counter
 * moved (over the last 20 s) instead. It reads 0 once nothing moved for longer than a busy backend waits, and never
 * goes negative.
 */
public final class TransactionRate {
  static final long HORIZON_NANOS = 20_000_000_000L;
  static final long IDLE_NANOS = 11_000_000_000L;
  private final Deque<long[]> moves = new ArrayDeque<>();
  private long ownTotal;
  private Long last;
  private long lastAt;
  private int movesInARow;

  /**
   * @param counter {@code xact_commit + xact_rollback} now
   * @param own the sidecar's own statements since the previous call (not load)
   */
  public synchronized double update(long atNanos, long counter, long own) {
    ownTotal += own;
    long net = counter - ownTotal;
    if (last == null) {
      last = net;
      lastAt = atNanos;
      moves.addLast(new long[] {atNanos, net});
      return 0;
    }
    double interval = atNanos > lastAt ? Math.max(0, net - last) * 1e9 / (atNanos - lastAt) : 0;
    movesInARow = net > last ? movesInARow + 1 : 0;
    lastAt = atNanos;
    if (net > last) {
      // a burst: what it carries accumulated since the previous move, but at most over one busy flush interval
      if (moves.size() == 1 && atNanos - moves.peekFirst()[0] > IDLE_NANOS) {
        moves.peekFirst()[0] = atNanos - IDLE_NANOS;
      }
      moves.addLast(new long[] {atNanos, net});
      last = net;
    }
    while (moves.size() > 2 && atNanos - moves.peekFirst()[0] > HORIZON_NANOS) {
      moves.removeFirst();
    }
    if (movesInARow >= 3) {
      return interval;
    }
    long[] first = moves.peekFirst();
    long[] latest = moves.peekLast();
    if (first == latest || atNanos - latest[0] > IDLE_NANOS) {
      if (atNanos - latest[0] > IDLE_NANOS) {
        moves.clear();
        moves.addLast(latest);
      }
      return 0;
    }
    return Math.max(0, (latest[1] - first[1]) * 1e9 / (latest[0] - first[0]));
  }
}
