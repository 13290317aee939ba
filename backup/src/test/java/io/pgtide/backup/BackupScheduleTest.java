package io.pgtide.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class BackupScheduleTest {
  private static final Instant NOW = Instant.parse("2026-11-29T12:00:00Z");
  private static final Instant LATER = NOW.plusSeconds(3600);

  @Test
  void aNewRepositoryGetsItsFirstBackupAtOnceAndThenFollowsTheSchedule() {
    assertThat(BackupController.backupDue(NOW, LATER, null, false, false)).as("none yet").isTrue();
    assertThat(BackupController.backupDue(NOW, LATER, null, false, true)).as("before the schedule").isFalse();
    assertThat(BackupController.backupDue(LATER, LATER, null, false, true)).as("the schedule fired").isTrue();
  }

  @Test
  void aFailedBackupWaitsForItsRetryUnlessOneIsAskedFor() {
    Instant retry = NOW.plusSeconds(30);
    assertThat(BackupController.backupDue(NOW, NOW, retry, false, false)).as("not every pass").isFalse();
    assertThat(BackupController.backupDue(retry, NOW, retry, false, false)).as("at the retry").isTrue();
    assertThat(BackupController.backupDue(NOW, LATER, retry, true, true)).as("backup now").isTrue();
  }

  @Test
  void retriesBackOffFromThirtySecondsToTenMinutes() {
    assertThat(BackupController.retryAfter(1)).isEqualTo(Duration.ofSeconds(30));
    assertThat(BackupController.retryAfter(2)).isEqualTo(Duration.ofSeconds(60));
    assertThat(BackupController.retryAfter(5)).isEqualTo(Duration.ofSeconds(480));
    assertThat(BackupController.retryAfter(6)).isEqualTo(Duration.ofSeconds(600));
    assertThat(BackupController.retryAfter(40)).isEqualTo(Duration.ofSeconds(600));
  }
}
