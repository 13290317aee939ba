package io.pgtide.operator.autoscale;

import io.pgtide.common.crd.PostgresClusterSpec;
import java.time.Duration;

/** The autoscaling spec, parsed and validated once. */
public record ScalingSettings(boolean enabled, int minReplicas, int maxReplicas, Double targetQpsPerReplica,
                              Double maxLatencyMs, Double targetCpuUtilization, Double targetMemoryUtilization,
                              Duration scaleUpCooldown, Duration scaleDownCooldown, int maxStep,
                              long maxReplicationLagBytes, Duration window) {

  /** Scale down only when every signal is below this fraction of its target (hysteresis). */
  public static final double SCALE_DOWN_BELOW = 0.7;
  /** …and the load spread over one member fewer would stay below this fraction of the target. */
  public static final double PROJECTED_MAX = 0.9;

  public ScalingSettings {
    if (minReplicas < 1 || maxReplicas < minReplicas) {
      throw new IllegalArgumentException("autoscaling needs 1 <= minReplicas <= maxReplicas, got " + minReplicas
          + ".." + maxReplicas);
    }
    if (maxStep < 1) {
      throw new IllegalArgumentException("autoscaling.maxStep must be at least 1");
    }
  }

  public static ScalingSettings from(PostgresClusterSpec.AutoscalingSpec a, Duration window) {
    return new ScalingSettings(a.enabled, a.minReplicas, a.maxReplicas, a.targetQpsPerReplica, a.maxLatencyMs,
        percent(a.targetCpuUtilization), percent(a.targetMemoryUtilization), duration(a.scaleUpCooldown),
        duration(a.scaleDownCooldown), a.maxStep, bytes(a.maxReplicationLagBytes), window);
  }

  private static Double percent(Double value) {
    return value == null ? null : value > 1 ? value / 100.0 : value;
  }

  /** "60s", "5m", "1h", or plain seconds. */
  public static Duration duration(String text) {
    String t = text.trim();
    try {
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      char unit = t.charAt(t.length() - 1);
      if (Character.isDigit(unit)) {
        return Duration.ofSeconds(Long.parseLong(t));
      }
      long n = Long.parseLong(t.substring(0, t.length() - 1));
      return switch (unit) {
        case 's' -> Duration.ofSeconds(n);
        case 'm' -> Duration.ofMinutes(n);
        case 'h' -> Duration.ofHours(n);
        default -> throw new IllegalArgumentException();
      };
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("'" + text + "' is not a duration like 60s, 5m or 1h");
    }
  }

  /** "16Mi", "1Gi", "500k", or plain bytes. */
  public static long bytes(String text) {
    String t = text.trim();
    String[][] units = {{"Ki", "1024"}, {"Mi", "1048576"}, {"Gi", "1073741824"}, {"k", "1000"}, {"M", "1000000"},
        {"G", "1000000000"}};
    try {
      for (String[] u : units) {
        if (t.endsWith(u[0])) {
          return Long.parseLong(t.substring(0, t.length() - u[0].length())) * Long.parseLong(u[1]);
        }
      }
      return Long.parseLong(t);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is not a size like 16Mi or 1Gi");
    }
  }
}
