package io.pgtide.operator.autoscale;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The autoscaler's decision in its parts: bounds, signals over target, scale-up sizing, scale-down comfort. */
class ScalingStepsTest {
  static final ScalingSettings QPS_CPU = new ScalingSettings(true, 2, 6, 500.0, null, 0.6, null,
      Duration.ofSeconds(60), Duration.ofSeconds(300), 2, 16 << 20, Duration.ofSeconds(60));

  static ScalingPolicy.Signals signals(Double qps, Double cpu) {
    return new ScalingPolicy.Signals(3, qps, null, cpu, null);
  }

  @Test
  void aCountOutsideTheBoundsIsBroughtBackByAtMostMaxStep() {
    assertThat(ScalingPolicy.intoBounds(QPS_CPU, 3)).isNull();
    assertThat(ScalingPolicy.intoBounds(QPS_CPU, 1).desired()).isEqualTo(2);
    assertThat(ScalingPolicy.intoBounds(QPS_CPU, 9).desired()).isEqualTo(7);
    assertThat(ScalingPolicy.intoBounds(QPS_CPU, 9).reason()).isEqualTo("members 9 > maxReplicas 6");
  }

  @Test
  void theWorstSignalOverItsTargetSetsTheFactor() {
    ScalingPolicy.Over over = ScalingPolicy.overTarget(QPS_CPU, signals(750.0, 0.9));
    assertThat(over.reasons()).containsExactly("qps/replica 750 > target 500", "cpu 90% > target 60%");
    assertThat(over.factor()).isEqualTo(1.5);
    assertThat(ScalingPolicy.overTarget(QPS_CPU, signals(400.0, null)).reasons()).isEmpty();
  }

  @Test
  void scaleUpAddsWhatTheFactorNeedsWithinMaxStepUnlessCoolingDown() {
    ScalingPolicy.Over over = new ScalingPolicy.Over(List.of("cpu 90% > target 60%"), 1.5);
    assertThat(ScalingPolicy.scaleUp(QPS_CPU, 3, 3, over, 1_000_000, 0).desired()).isEqualTo(5);
    assertThat(ScalingPolicy.scaleUp(QPS_CPU, 3, 3, new ScalingPolicy.Over(List.of("x"), 1.1), 1_000_000, 0)
        .desired()).as("at least one").isEqualTo(4);
    ScalingDecision cooling = ScalingPolicy.scaleUp(QPS_CPU, 3, 3, over, 1_000_000, 1_000_000 - 10_000);
    assertThat(cooling.desired()).isEqualTo(3);
    assertThat(cooling.blockedBy()).isEqualTo("scale-up cooldown, 50 s left");
  }

  @Test
  void comfortNeedsEverySignalsDataAndRoomWithOneMemberFewer() {
    assertThat(ScalingPolicy.comfort(QPS_CPU, signals(null, 0.1), 3).missing()).containsExactly("qps");
    assertThat(ScalingPolicy.comfort(QPS_CPU, signals(100.0, 0.1), 3).comfortable()).isTrue();
    // 300 < 350 (70 %), but over two members 450 > 450 (90 %): not comfortable
    assertThat(ScalingPolicy.comfort(QPS_CPU, signals(300.0, 0.1), 3).comfortable()).isFalse();
  }

  @Test
  void scaleDownRemovesOneOnlyWhenComfortableWithAllCapacityAndNoCooldown() {
    ScalingDecision down = ScalingPolicy.scaleDown(QPS_CPU, 3, 3, signals(100.0, 0.1), 1_000_000, 0, 0);
    assertThat(down.desired()).isEqualTo(2);
    assertThat(down.reason()).isEqualTo("qps/replica 100 < 350, cpu 10% over 60 s");
    assertThat(ScalingPolicy.scaleDown(QPS_CPU, 3, 2, signals(100.0, 0.1), 1_000_000, 0, 0).blockedBy())
        .isEqualTo("1 member(s) not counted as capacity");
    assertThat(ScalingPolicy.scaleDown(QPS_CPU, 2, 2, signals(100.0, 0.1), 1_000_000, 0, 0).desired())
        .as("at minReplicas").isEqualTo(2);
    assertThat(ScalingPolicy.scaleDown(QPS_CPU, 3, 3, signals(100.0, 0.1), 1_000_000, 0, 900_000).blockedBy())
        .isEqualTo("scale-down cooldown, 200 s left");
  }
}
