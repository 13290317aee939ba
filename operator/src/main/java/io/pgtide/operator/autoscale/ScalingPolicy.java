package io.pgtide.operator.autoscale;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Decides the member count from a window of samples. Pure.
 * <ul>
 *   <li>Signals per sample: QPS of all live members per capacity member, the highest member latency, mean CPU and memory
 *   utilisation. Capacity members are ready and within {@code maxReplicationLagBytes}.</li>
 *   <li>Scale up when a signal stayed over its target for the whole window (its lowest value in the window is
 *   over): a spike shorter than the window is ignored. Enough members to bring it back, at most maxStep.</li>
 *   <li>Scale down by one only when every configured signal stayed below 70 % of its target for the whole window
 *   (its highest value), the load spread over one member fewer would stay below 90 % (hysteresis), and every
 *   configured signal has data in every sample.</li>
 *   <li>Never below min or above max; cooldowns separately for up (since the last scale-up) and down (since the
 *   last scale of either direction); no decision while a previous scale converges or data is missing.</li>
 * </ul>
 */
public final class ScalingPolicy {
  private ScalingPolicy() {
  }

  /**
   * @param current      members now (including the primary)
   * @param specReplicas spec.replicas, which rules when autoscaling is disabled
   * @param samples      oldest first, every sample taken since the membership last settled (the caller keeps up to
   *                     two windows of them)
   * @param converging   a previous scale has not converged (new member not streaming yet, removed one not gone)
   */
  public static ScalingDecision decide(ScalingSettings s, int current, int specReplicas, List<ClusterSample> samples,
                                       long now, long lastUpAt, long lastDownAt, boolean converging) {
    if (!s.enabled()) {
      return new ScalingDecision(current, specReplicas, "autoscaling disabled; spec.replicas rules", null);
    }
    if (converging) {
      return hold(current, "a previous scale is still converging");
    }
    ScalingDecision outOfBounds = intoBounds(s, current);
    if (outOfBounds != null) {
      return outOfBounds;
    }
    List<ClusterSample> window = samples.stream().filter(x -> x.at() > now - s.window().toMillis()).toList();
    // observed long enough: the first sample since the membership settled, not the window's first, is what tells.
    // The window's first lies up to one interval after the window's start, so with a window of a few intervals
    // (4 s of 1 s samples) checking it held forever whenever the ticks ran a millisecond late (ScaleDownPrimaryIT)
    if (window.size() < 3 || samples.get(0).at() > now - s.window().toMillis() * 8 / 10) {
      return hold(current, "not enough samples yet for a " + s.window().toSeconds() + " s window");
    }
    Signals sustained = Signals.of(window, s.maxReplicationLagBytes(), true);
    if (sustained.capacity == 0) {
      return hold(current, "no member counts as capacity (not ready or lagging)");
    }
    Over over = overTarget(s, sustained);
    if (!over.reasons().isEmpty()) {
      return scaleUp(s, current, sustained.capacity, over, now, lastUpAt);
    }
    return scaleDown(s, current, sustained.capacity, Signals.of(window, s.maxReplicationLagBytes(), false), now,
        lastUpAt, lastDownAt);
  }

  /** A member count outside [min, max] is brought back (by at most maxStep), whatever the load; null inside. */
  static ScalingDecision intoBounds(ScalingSettings s, int current) {
    if (current < s.minReplicas()) {
      return new ScalingDecision(current, Math.min(s.minReplicas(), current + s.maxStep()),
          "members " + current + " < minReplicas " + s.minReplicas(), null);
    }
    if (current > s.maxReplicas()) {
      return new ScalingDecision(current, Math.max(s.maxReplicas(), current - s.maxStep()),
          "members " + current + " > maxReplicas " + s.maxReplicas(), null);
    }
    return null;
  }

  /** The signals over their targets for the whole window, and how far over the worst one is (at least 1). */
  record Over(List<String> reasons, double factor) {
  }

  static Over overTarget(ScalingSettings s, Signals sig) {
    List<String> over = new ArrayList<>();
    double factor = 1.0;
    if (s.targetQpsPerReplica() != null && sig.qpsPerMember != null && sig.qpsPerMember > s.targetQpsPerReplica()) {
      over.add(fmt("qps/replica %.0f > target %.0f", sig.qpsPerMember, s.targetQpsPerReplica()));
      factor = Math.max(factor, sig.qpsPerMember / s.targetQpsPerReplica());
    }
    if (s.maxLatencyMs() != null && sig.latencyMs != null && sig.latencyMs > s.maxLatencyMs()) {
      over.add(fmt("latency %.1f ms > max %.1f ms", sig.latencyMs, s.maxLatencyMs()));
      factor = Math.max(factor, sig.latencyMs / s.maxLatencyMs());
    }
    if (s.targetCpuUtilization() != null && sig.cpu != null && sig.cpu > s.targetCpuUtilization()) {
      over.add(fmt("cpu %.0f%% > target %.0f%%", sig.cpu * 100, s.targetCpuUtilization() * 100));
      factor = Math.max(factor, sig.cpu / s.targetCpuUtilization());
    }
    if (s.targetMemoryUtilization() != null && sig.memory != null && sig.memory > s.targetMemoryUtilization()) {
      over.add(fmt("memory %.0f%% > target %.0f%%", sig.memory * 100, s.targetMemoryUtilization() * 100));
      factor = Math.max(factor, sig.memory / s.targetMemoryUtilization());
    }
    return new Over(over, factor);
  }

  /** Enough members to bring the worst signal back under its target, at most maxStep, unless at max or cooling down. */
  static ScalingDecision scaleUp(ScalingSettings s, int current, int capacity, Over over, long now, long lastUpAt) {
    String reason = String.join(", ", over.reasons()) + overWindow(s);
    if (current >= s.maxReplicas()) {
      return new ScalingDecision(current, current, reason, "at maxReplicas " + s.maxReplicas());
    }
    long left = lastUpAt + s.scaleUpCooldown().toMillis() - now;
    if (left > 0) {
      return new ScalingDecision(current, current, reason, "scale-up cooldown, " + (left + 999) / 1000 + " s left");
    }
    int needed = (int) Math.ceil(capacity * over.factor()) - capacity;
    int step = Math.max(1, Math.min(s.maxStep(), needed));
    return new ScalingDecision(current, Math.min(s.maxReplicas(), current + step), reason, null);
  }

  /**
   * How the peaks compare with the scale-down thresholds: the signals without data, each configured signal's peak,
   * and whether all are comfortably under (70 % of target, and under 90 % spread over one member fewer).
   */
  record Comfort(List<String> missing, List<String> under, boolean comfortable) {
  }

  static Comfort comfort(ScalingSettings s, Signals peak, int current) {
    List<String> missing = new ArrayList<>();
    List<String> under = new ArrayList<>();
    boolean comfortable = true;
    double projected = current / (double) Math.max(1, current - 1);
    if (s.targetQpsPerReplica() != null) {
      if (peak.qpsPerMember == null) {
        missing.add("qps");
      } else {
        comfortable &= below(peak.qpsPerMember, s.targetQpsPerReplica(), projected);
        under.add(fmt("qps/replica %.0f < %.0f", peak.qpsPerMember,
            s.targetQpsPerReplica() * ScalingSettings.SCALE_DOWN_BELOW));
      }
    }
    if (s.maxLatencyMs() != null) {
      if (peak.latencyMs == null) {
        missing.add("latency");
      } else {
        comfortable &= peak.latencyMs < s.maxLatencyMs() * ScalingSettings.SCALE_DOWN_BELOW;
        under.add(fmt("latency %.1f ms", peak.latencyMs));
      }
    }
    if (s.targetCpuUtilization() != null) {
      if (peak.cpu == null) {
        missing.add("cpu");
      } else {
        comfortable &= below(peak.cpu, s.targetCpuUtilization(), projected);
        under.add(fmt("cpu %.0f%%", peak.cpu * 100));
      }
    }
    if (s.targetMemoryUtilization() != null) {
      if (peak.memory == null) {
        missing.add("memory");
      } else {
        comfortable &= peak.memory < s.targetMemoryUtilization() * ScalingSettings.SCALE_DOWN_BELOW;
        under.add(fmt("memory %.0f%%", peak.memory * 100));
      }
    }
    return new Comfort(missing, under, comfortable);
  }

  /** Under the scale-down threshold now, and still under the projected maximum with one member fewer. */
  private static boolean below(double peak, double target, double projected) {
    return peak < target * ScalingSettings.SCALE_DOWN_BELOW && peak * projected < target * ScalingSettings.PROJECTED_MAX;
  }

  /** One member fewer, only when every configured signal has data and is comfortably under, and not cooling down. */
  static ScalingDecision scaleDown(ScalingSettings s, int current, int capacity, Signals peak, long now,
                                   long lastUpAt, long lastDownAt) {
    Comfort c = comfort(s, peak, current);
    if (current <= s.minReplicas()) {
      return hold(current, "load within targets");
    }
    if (!c.missing().isEmpty()) {
      return new ScalingDecision(current, current, "load within targets", "missing " + String.join(", ", c.missing())
          + " data; never scaling down on missing metrics");
    }
    if (c.under().isEmpty() || !c.comfortable()) {
      return hold(current, "load within targets");
    }
    if (capacity < current) {
      return new ScalingDecision(current, current, "load within targets",
          (current - capacity) + " member(s) not counted as capacity");
    }
    String reason = String.join(", ", c.under()) + overWindow(s);
    long left = Math.max(lastUpAt, lastDownAt) + s.scaleDownCooldown().toMillis() - now;
    if (left > 0) {
      return new ScalingDecision(current, current, reason, "scale-down cooldown, " + (left + 999) / 1000 + " s left");
    }
    return new ScalingDecision(current, Math.max(s.minReplicas(), current - 1), reason, null);
  }

  private static String overWindow(ScalingSettings s) {
    return " over " + s.window().toSeconds() + " s";
  }

  private static ScalingDecision hold(int current, String why) {
    return new ScalingDecision(current, current, why, null);
  }

  private static String fmt(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  /**
   * Signals over the window: each one's lowest value ({@code sustained}, for scaling up) or highest value (for
   * scaling down). Missing data never looks like low load: the highest needs a value in every sample, the lowest
   * in at least half of them.
   */
  record Signals(int capacity, Double qpsPerMember, Double latencyMs, Double cpu, Double memory) {
    static Signals of(List<ClusterSample> window, long maxLag, boolean sustained) {
      List<Double> qps = new ArrayList<>();
      List<Double> latency = new ArrayList<>();
      List<Double> cpu = new ArrayList<>();
      List<Double> memory = new ArrayList<>();
      int capacity = Integer.MAX_VALUE;
      for (ClusterSample sample : window) {
        List<ClusterSample.Member> cap = sample.members().stream()
            .filter(m -> m.ready() && m.lagBytes() <= maxLag).toList();
        capacity = Math.min(capacity, cap.size());
        if (cap.isEmpty()) {
          continue;
        }
        // the load of every live member (lagging ones still serve theirs) over the members that count as capacity
        List<ClusterSample.Member> live = sample.members().stream().filter(ClusterSample.Member::ready).toList();
        if (live.stream().allMatch(m -> m.qps() != null)) {
          qps.add(live.stream().mapToDouble(ClusterSample.Member::qps).sum() / cap.size());
        }
        cap.stream().filter(m -> m.latencyMs() != null).mapToDouble(ClusterSample.Member::latencyMs).max()
            .ifPresent(latency::add);
        cap.stream().filter(m -> m.cpuUtilization() != null).mapToDouble(ClusterSample.Member::cpuUtilization)
            .average().ifPresent(cpu::add);
        cap.stream().filter(m -> m.memoryUtilization() != null)
            .mapToDouble(ClusterSample.Member::memoryUtilization).average().ifPresent(memory::add);
      }
      int n = window.size();
      return new Signals(capacity == Integer.MAX_VALUE ? 0 : capacity, pick(qps, n, sustained),
          pick(latency, n, sustained), pick(cpu, n, sustained), pick(memory, n, sustained));
    }

    private static Double pick(List<Double> values, int windowSize, boolean sustained) {
      if (sustained) {
        return values.isEmpty() || values.size() * 2 < windowSize ? null
            : values.stream().mapToDouble(Double::doubleValue).min().orElse(0);
      }
      return values.size() < windowSize ? null : values.stream().mapToDouble(Double::doubleValue).max().orElse(0);
    }
  }
}
