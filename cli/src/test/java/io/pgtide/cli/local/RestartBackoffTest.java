package io.pgtide.cli.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RestartBackoffTest {
  static final long MIN = 60_000;

  @Test
  void firstRestartAtOnceThenTenSecondsDoublingUpToFiveMinutes() {
    assertThat(RestartBackoff.delayAfter(0)).isEqualTo(Duration.ZERO);
    assertThat(RestartBackoff.delayAfter(1)).isEqualTo(Duration.ofSeconds(10));
    assertThat(RestartBackoff.delayAfter(2)).isEqualTo(Duration.ofSeconds(20));
    assertThat(RestartBackoff.delayAfter(5)).isEqualTo(Duration.ofSeconds(160));
    assertThat(RestartBackoff.delayAfter(6)).isEqualTo(Duration.ofMinutes(5));
    assertThat(RestartBackoff.delayAfter(1000)).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void aCrashLoopWaitsLongerEachTimeAndTenHealthyMinutesForgiveIt() {
    RestartBackoff b = new RestartBackoff();
    long t = 0;
    b.running(t);
    assertThat(b.dead(t += 1000)).isTrue();
    assertThat(b.dead(t + 500)).as("the same death, seen again").isFalse();
    assertThat(b.due(t)).isTrue();
    b.restarted(t);
    b.running(t += 1000);
    b.dead(t += 1000);
    assertThat(b.due(t + 9_999)).isFalse();
    assertThat(b.due(t + 10_000)).isTrue();
    assertThat(b.waitMs(t)).isEqualTo(10_000);
    b.restarted(t += 10_000);
    b.dead(t += 1000);
    assertThat(b.waitMs(t)).isEqualTo(20_000);
    b.restarted(t += 20_000);
    assertThat(b.restarts()).isEqualTo(3);
    b.running(t);
    b.running(t += 10 * MIN);
    assertThat(b.restarts()).isZero();
    b.dead(t += 1000);
    assertThat(b.due(t)).as("forgiven: at once again").isTrue();
  }
}
