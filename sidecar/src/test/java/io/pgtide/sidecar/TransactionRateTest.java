package io.pgtide.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class TransactionRateTest {
  static final long S = 1_000_000_000L;

  @Test
  void steadyLoadPublishedInTenSecondBurstsReadsTheRealRateNotZeroOrAMultiple() {
    TransactionRate rate = new TransactionRate();
    long counter = 0;
    double last = 0;
    for (int t = 0; t <= 60; t++) {
      if (t > 0 && t % 10 == 0) {
        counter += 12_000; // 1200/s, published every 10 s
      }
      last = rate.update(t * S, counter, 0);
      if (t >= 20) {
        assertThat(last).as("at %d s", t).isCloseTo(1200, within(1.0));
      }
    }
    assertThat(last).isCloseTo(1200, within(1.0));
  }

  @Test
  void idleAfterLoadReadsZeroAndOwnQueriesAreNotLoad() {
    TransactionRate rate = new TransactionRate();
    long counter = 0;
    for (int t = 0; t <= 30; t++) {
      counter += t <= 20 ? 500 : 1; // the sidecar's own query every second after the load stops
      rate.update(t * S, counter, t <= 20 ? 0 : 1);
    }
    double idle = 0;
    for (int t = 31; t <= 45; t++) {
      counter += 1;
      idle = rate.update(t * S, counter, 1);
    }
    assertThat(idle).isZero();
  }

  @Test
  void aFirstBurstAfterALongIdleIsSpreadOverOneFlushIntervalAtMost() {
    TransactionRate rate = new TransactionRate();
    rate.update(0, 0, 0);
    assertThat(rate.update(100 * S, 0, 0)).isZero();
    assertThat(rate.update(105 * S, 11_000, 0)).isCloseTo(1000, within(1.0));
  }

  @Test
  void aCounterThatMovesEverySecondIsReadAsIsSoAStepShowsAtOnce() {
    TransactionRate rate = new TransactionRate();
    long counter = 0;
    double last = 0;
    for (int t = 0; t <= 10; t++) {
      counter += t == 0 ? 0 : 100;
      last = rate.update(t * S, counter, 0);
    }
    assertThat(last).isCloseTo(100, within(1.0));
    counter += 5_000;
    assertThat(rate.update(11 * S, counter, 0)).isCloseTo(5_000, within(1.0));
  }
}
