package io.pgtide.common.contract;

/**
 * Load over the last sampling interval. {@code latencySource} is {@code pg_stat_statements} when the mean latency
 * comes from that extension, {@code none} when it is absent (mean latency is then null).
 */
public record LoadStats(double qps, double tps, Double meanLatencyMs, String latencySource, long deadlocks,
                        long tempBytes, Double cacheHitRatio) {
  public static final LoadStats EMPTY = new LoadStats(0, 0, null, "none", 0, 0, null);
}
