package io.pgtide.common.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;

class CronScheduleTest {
  private static ZonedDateTime at(String iso) {
    return ZonedDateTime.parse(iso);
  }

  @Test
  void dailyAtThreeFiresNextAtThree() {
    CronSchedule c = CronSchedule.parse("0 3 * * *");
    assertThat(c.next(at("2026-11-29T02:59:30Z"))).isEqualTo(at("2026-11-29T03:00Z"));
    assertThat(c.next(at("2026-11-29T03:00Z"))).as("exclusive of the instant given").isEqualTo(at("2026-11-30T03:00Z"));
    assertThat(c.typicalIntervalSeconds(at("2026-11-29T00:00Z"))).isEqualTo(86_400);
  }

  @Test
  void stepsRangesListsAndMacros() {
    assertThat(CronSchedule.parse("*/15 * * * *").next(at("2026-11-29T10:16Z"))).isEqualTo(at("2026-11-29T10:30Z"));
    assertThat(CronSchedule.parse("5,35 9-17/4 * * *").next(at("2026-11-29T13:36Z")))
        .isEqualTo(at("2026-11-29T17:05Z"));
    assertThat(CronSchedule.parse("@hourly").next(at("2026-11-29T10:16Z"))).isEqualTo(at("2026-11-29T11:00Z"));
    assertThat(CronSchedule.parse("@monthly").next(at("2026-12-15T00:00Z"))).isEqualTo(at("2027-01-01T00:00Z"));
    // 2026-11-29 is a Sunday: 0 and 7 both mean Sunday
    assertThat(CronSchedule.parse("30 1 * * 7").next(at("2026-11-28T12:00Z"))).isEqualTo(at("2026-11-29T01:30Z"));
    assertThat(CronSchedule.parse("30 1 * * 1-5").next(at("2026-11-28T12:00Z"))).isEqualTo(at("2026-11-30T01:30Z"));
  }

  @Test
  void bothDayFieldsRestrictedMatchEither() {
    // the 1st of the month or any Monday (cron's rule): from Sat 2026-11-28 the next is Mon the 30th
    assertThat(CronSchedule.parse("0 0 1 * 1").next(at("2026-11-28T00:00Z"))).isEqualTo(at("2026-11-30T00:00Z"));
  }

  @Test
  void otherZonesAreReadAsUtc() {
    // 04:30 at +02:00 is 02:30 UTC: 03:00 UTC is still ahead that day
    assertThat(CronSchedule.parse("0 3 * * *").next(at("2026-11-29T04:30+02:00"))).isEqualTo(at("2026-11-29T03:00Z"));
  }

  @Test
  void badSchedulesSayWhatIsWrong() {
    assertThatThrownBy(() -> CronSchedule.parse("0 3 * *")).hasMessageContaining("five fields");
    assertThatThrownBy(() -> CronSchedule.parse("61 3 * * *")).hasMessageContaining("minute 61 is outside 0..59");
    assertThatThrownBy(() -> CronSchedule.parse("0 3 * * mon")).hasMessageContaining("day of week field has 'mon'");
    assertThatThrownBy(() -> CronSchedule.parse("0 5-2 * * *")).hasMessageContaining("runs backwards");
    assertThatThrownBy(() -> CronSchedule.parse("")).hasMessageContaining("required");
    assertThatThrownBy(() -> CronSchedule.parse("0 0 31 2 *").next(at("2026-01-01T00:00Z")))
        .hasMessageContaining("never fires");
  }
}
