package io.pgtide.operator.autoscale;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongToDoubleFunction;
import org.junit.jupiter.api.Test;

class ScalingPolicyTest {
  static final long SEC = 1000;
  static final ScalingSettings QPS = new ScalingSettings(true, 2, 6, 500.0, null, null, null, Duration.ofSeconds(60),
      Duration.ofSeconds(300), 1, 16 << 20, Duration.ofSeconds(60));

  /** Samples every 5 s for the last {@code seconds}, total cluster QPS from {@code load(t)} spread evenly. */
  static List<ClusterSample> samples(int members, long now, int seconds, LongToDoubleFunction load) {
    List<ClusterSample> out = new ArrayList<>();
    for (long t = now - seconds * SEC + 5 * SEC; t <= now; t += 5 * SEC) {
      double total = load.applyAsDouble(t);
      List<ClusterSample.Member> ms = new ArrayList<>();
      for (int i = 0; i < members; i++) {
        ms.add(new ClusterSample.Member("c-" + i, i == 0, true, 0, total / members, 2.0, 0.3, 0.4));
      }
      out.add(new ClusterSample(t, ms));
    }
    return out;
  }

  static ScalingDecision decide(ScalingSettings s, int members, List<ClusterSample> samples, long now) {
    return ScalingPolicy.decide(s, members, members, samples, now, 0, 0, false);
  }

  @Test
  void steadyLoadWithinTargetHolds() {
    long now = 1_000_000;
    ScalingDecision d = decide(QPS, 3, samples(3, now, 120, t -> 3 * 400), now);
    assertThat(d.changes()).isFalse();
    assertThat(d.blockedBy()).isNull();
  }

  @Test
  void sustainedLoadOverTargetScalesUpByOneWithAReasonNamingTheNumbers() {
    long now = 1_000_000;
    ScalingDecision d = decide(QPS, 3, samples(3, now, 120, t -> 3 * 812), now);
    assertThat(d.desired()).isEqualTo(4);
    assertThat(d.reason()).isEqualTo("qps/replica 812 > target 500 over 60 s");
  }

  @Test
  void maxStepBoundsABigStepAndMaxReplicasClamps() {
    long now = 1_000_000;
    ScalingSettings step3 = new ScalingSettings(true, 2, 5, 500.0, null, null, null, Duration.ofSeconds(60),
        Duration.ofSeconds(300), 3, 16 << 20, Duration.ofSeconds(60));
    assertThat(decide(step3, 3, samples(3, now, 120, t -> 3 * 1500), now).desired()).isEqualTo(5);
    ScalingDecision atMax = decide(step3, 5, samples(5, now, 120, t -> 5 * 1500), now);
    assertThat(atMax.desired()).isEqualTo(5);
    assertThat(atMax.blockedBy()).contains("maxReplicas 5");
  }

  @Test
  void lowLoadScalesDownByOneAfterTheCooldownButNeverBelowMin() {
    long now = 1_000_000;
    ScalingDecision d = decide(QPS, 4, samples(4, now, 120, t -> 4 * 100), now);
    assertThat(d.desired()).isEqualTo(3);
    assertThat(d.reason()).contains("qps/replica 100 < 350");
    ScalingDecision cooling = ScalingPolicy.decide(QPS, 4, 4, samples(4, now, 120, t -> 400), now, 0,
        now - 100 * SEC, false);
    assertThat(cooling.changes()).isFalse();
    assertThat(cooling.blockedBy()).isEqualTo("scale-down cooldown, 200 s left");
    assertThat(decide(QPS, 2, samples(2, now, 120, t -> 0), now).changes()).isFalse();
  }

  @Test
  void hysteresisKeepsLoadJustUnderTargetFromScalingDown() {
    long now = 1_000_000;
    // 450/member is under target but not under 70 %: hold
    assertThat(decide(QPS, 3, samples(3, now, 120, t -> 3 * 450), now).changes()).isFalse();
    // 330/member is under 70 %, but on 2 members it would be 495 > 90 % of target: hold
    assertThat(decide(QPS, 3, samples(3, now, 120, t -> 3 * 330), now).changes()).isFalse();
  }

  @Test
  void aSpikeShorterThanTheWindowIsIgnored() {
    long now = 1_000_000;
    ScalingDecision d = decide(QPS, 3, samples(3, now, 120, t -> t > now - 20 * SEC ? 3 * 2000 : 3 * 300), now);
    assertThat(d.changes()).isFalse();
  }

  @Test
  void upCooldownIsSeparateFromDown() {
    long now = 1_000_000;
    ScalingDecision d = ScalingPolicy.decide(QPS, 3, 3, samples(3, now, 120, t -> 3 * 900), now, now - 30 * SEC,
        now - 10 * SEC, false);
    assertThat(d.changes()).isFalse();
    assertThat(d.blockedBy()).isEqualTo("scale-up cooldown, 30 s left");
    ScalingDecision after = ScalingPolicy.decide(QPS, 3, 3, samples(3, now, 120, t -> 3 * 900), now,
        now - 61 * SEC, now - 10 * SEC, false);
    assertThat(after.desired()).isEqualTo(4);
  }

  @Test
  void oscillatingLoadChangesAtMostOncePerCooldownWindow() {
    // a noisy square wave: 20 s at 900/member, 20 s at 100/member, for 30 minutes; apply every decision
    int members = 3;
    long lastUp = 0;
    long lastDown = 0;
    List<Long> changes = new ArrayList<>();
    List<ClusterSample> history = new ArrayList<>();
    for (long now = 0; now < 1_800 * SEC; now += 5 * SEC) {
      long t = now;
      double perMember = ((t / (20 * SEC)) % 2 == 0) ? 900 : 100;
      List<ClusterSample.Member> ms = new ArrayList<>();
      for (int i = 0; i < members; i++) {
        ms.add(new ClusterSample.Member("c-" + i, i == 0, true, 0, perMember, null, null, null));
      }
      history.add(new ClusterSample(t, ms));
      ScalingDecision d = ScalingPolicy.decide(QPS, members, members, history, now, lastUp, lastDown, false);
      if (d.changes()) {
        changes.add(now);
        if (d.desired() > members) {
          lastUp = now;
        } else {
          lastDown = now;
        }
        members = d.desired();
        history.clear(); // new membership: a fresh window
      }
    }
    assertThat(changes).as("a square wave shorter than the window never looks sustained").isEmpty();
  }

  @Test
  void laggingAndNotReadyMembersAreNotCapacity() {
    long now = 1_000_000;
    List<ClusterSample> s = new ArrayList<>();
    for (long t = now - 115 * SEC; t <= now; t += 5 * SEC) {
      s.add(new ClusterSample(t, List.of(
          new ClusterSample.Member("c-0", true, true, 0, 450.0, null, null, null),
          new ClusterSample.Member("c-1", false, true, 1L << 30, 450.0, null, null, null),
          new ClusterSample.Member("c-2", false, false, 0, null, null, null, null))));
    }
    ScalingDecision d = decide(QPS, 3, s, now);
    // 900 qps over the one capacity member: over target
    assertThat(d.desired()).isEqualTo(4);
    assertThat(d.reason()).contains("qps/replica 900");
  }

  @Test
  void missingOrStaleMetricsNeverScaleDown() {
    long now = 1_000_000;
    ScalingSettings latency = new ScalingSettings(true, 1, 6, 500.0, 50.0, null, null, Duration.ofSeconds(60),
        Duration.ofSeconds(60), 1, 16 << 20, Duration.ofSeconds(60));
    List<ClusterSample> noLatency = new ArrayList<>();
    for (long t = now - 115 * SEC; t <= now; t += 5 * SEC) {
      noLatency.add(new ClusterSample(t, List.of(new ClusterSample.Member("c-0", true, true, 0, 10.0, null, null, null),
          new ClusterSample.Member("c-1", false, true, 0, 10.0, null, null, null))));
    }
    ScalingDecision d = decide(latency, 2, noLatency, now);
    assertThat(d.changes()).isFalse();
    assertThat(d.blockedBy()).contains("missing latency");
    assertThat(decide(QPS, 4, List.of(), now).changes()).as("no samples").isFalse();
    assertThat(decide(QPS, 4, samples(4, now - 600 * SEC, 120, t -> 0), now).changes()).as("only old samples")
        .isFalse();
  }

  @Test
  void convergingDisabledAndOutOfBoundsCases() {
    long now = 1_000_000;
    ScalingDecision converging = ScalingPolicy.decide(QPS, 3, 3, samples(3, now, 120, t -> 9000), now, 0, 0, true);
    assertThat(converging.changes()).isFalse();
    assertThat(converging.reason()).contains("converging");
    ScalingSettings off = new ScalingSettings(false, 2, 6, 500.0, null, null, null, Duration.ofSeconds(60),
        Duration.ofSeconds(300), 1, 16 << 20, Duration.ofSeconds(60));
    assertThat(ScalingPolicy.decide(off, 3, 5, samples(3, now, 120, t -> 0), now, 0, 0, false).desired()).isEqualTo(5);
    assertThat(decide(QPS, 1, List.of(), now).desired()).isEqualTo(2);
    assertThat(decide(QPS, 8, List.of(), now).desired()).isEqualTo(7);
  }

  @Test
  void cpuAndMemorySignalsScaleUp() {
    long now = 1_000_000;
    ScalingSettings cpu = new ScalingSettings(true, 1, 6, null, null, 0.7, 0.8, Duration.ofSeconds(60),
        Duration.ofSeconds(300), 2, 16 << 20, Duration.ofSeconds(60));
    List<ClusterSample> s = new ArrayList<>();
    for (long t = now - 115 * SEC; t <= now; t += 5 * SEC) {
      s.add(new ClusterSample(t, List.of(new ClusterSample.Member("c-0", true, true, 0, 1.0, null, 0.95, 0.5),
          new ClusterSample.Member("c-1", false, true, 0, 1.0, null, 0.95, 0.5))));
    }
    ScalingDecision d = decide(cpu, 2, s, now);
    assertThat(d.desired()).isEqualTo(3);
    assertThat(d.reason()).contains("cpu 95% > target 70%");
  }

  @Test
  void parsesDurationsAndSizes() {
    assertThat(ScalingSettings.duration("60s")).isEqualTo(Duration.ofSeconds(60));
    assertThat(ScalingSettings.duration("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(ScalingSettings.duration("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(ScalingSettings.bytes("16Mi")).isEqualTo(16L << 20);
    assertThat(ScalingSettings.bytes("1Gi")).isEqualTo(1L << 30);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ScalingSettings.duration("soon"))
        .hasMessageContaining("not a duration");
  }

  @Test
  void decisionsCarryABoundedSignalLabelForMetrics() {
    assertThat(new ScalingDecision(2, 3, "qps/replica 812 > target 500 over 60 s", null).signal()).isEqualTo("qps");
    assertThat(new ScalingDecision(2, 3, "latency 40.0 ms > max 20.0 ms, cpu 90% > target 70% over 60 s", null)
        .signal()).isEqualTo("latency");
    assertThat(new ScalingDecision(3, 2, "qps/replica 10 < 350, cpu 5% over 60 s", null).signal())
        .isEqualTo("underutilized");
    assertThat(new ScalingDecision(1, 2, "members 1 < minReplicas 2", null).signal()).isEqualTo("bounds");
  }
  /**
   * A window of four sample intervals (4 s of 1 s samples), the ticks running a few milliseconds late each time: the
   * window's first sample then lies an interval after the window's start, and checking that one held forever
   * (ScaleDownPrimaryIT, CI 2026-12-05). What tells is how long the policy has watched.
   */
  @Test
  void aWindowOfAFewIntervalsDecidesOnceWatchedThatLongWhateverTheTicksLateness() {
    ScalingSettings short4s = new ScalingSettings(true, 1, 2, 100_000.0, null, null, null, Duration.ofSeconds(5),
        Duration.ofSeconds(5), 1, 16 << 20, Duration.ofSeconds(4));
    List<ClusterSample> watched = new ArrayList<>();
    long start = 1_000_000;
    for (int tick = 0; tick < 10; tick++) {
      long at = start + tick * SEC + tick; // each tick 1 ms later than the one before
      watched.add(new ClusterSample(at, List.of(new ClusterSample.Member("c-0", true, true, 0, 50.0, 0.1, 0.05, 0.1),
          new ClusterSample.Member("c-1", false, true, 0, 1.0, 0.1, 0.05, 0.1))));
      ScalingDecision d = ScalingPolicy.decide(short4s, 2, 2, List.copyOf(watched), at, 0, 0, false);
      if (at - start < 3_200) {
        assertThat(d.reason()).as("after %d ms", at - start).startsWith("not enough samples yet");
      } else {
        assertThat(d.desired()).as("after %d ms: %s", at - start, d.reason()).isEqualTo(1);
      }
    }
  }
}
