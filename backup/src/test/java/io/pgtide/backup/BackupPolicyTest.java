package io.pgtide.backup;

import io.pgtide.common.backup.RecoveryTarget;
import io.pgtide.common.backup.BackupPolicy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtide.common.crd.PostgresClusterSpec;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackupPolicyTest {
  private static PostgresClusterSpec.BackupSpec spec(String schedule, int count, String window) {
    PostgresClusterSpec.BackupSpec b = new PostgresClusterSpec.BackupSpec();
    b.schedule = schedule;
    b.retention.count = count;
    b.retention.window = window;
    return b;
  }

  @Test
  void countAloneIsRedundancyAndAWindowKeepsTheCountAsAFloor() {
    BackupPolicy byCount = BackupPolicy.from(spec("0 3 * * *", 5, null));
    assertThat(byCount.barmanRetention()).isEqualTo("REDUNDANCY 5");
    assertThat(byCount.minimumRedundancy()).isZero();
    BackupPolicy byWindow = BackupPolicy.from(spec("0 3 * * *", 3, "2w"));
    assertThat(byWindow.barmanRetention()).isEqualTo("RECOVERY WINDOW OF 14 DAYS");
    assertThat(byWindow.minimumRedundancy()).isEqualTo(3);
  }

  @Test
  void badInputIsRefusedWithTheField() {
    assertThat(BackupPolicy.problem(spec("every day", 1, null))).startsWith("backup.schedule:");
    assertThat(BackupPolicy.problem(spec("0 3 * * *", 0, null))).contains("retention.count must be at least 1");
    assertThat(BackupPolicy.problem(spec("0 3 * * *", 1, "12h"))).contains("days or weeks like 7d or 2w");
    assertThat(BackupPolicy.problem(spec("0 3 * * *", 1, "7"))).contains("got '7'");
    assertThat(BackupPolicy.problem(null)).isNull();
  }

  @Test
  void recoveryTargetsParseAndAreCheckedAgainstTheRecoverableRange() {
    PostgresClusterSpec.RecoverySpec r = new PostgresClusterSpec.RecoverySpec();
    r.source = "pg1";
    assertThat(RecoveryTarget.from(r)).isEqualTo(RecoveryTarget.LATEST);
    r.targetTime = "2026-11-29T10:15:00+01:00";
    RecoveryTarget t = RecoveryTarget.from(r);
    assertThat(t.time()).isEqualTo(Instant.parse("2026-11-29T09:15:00Z"));
    Instant now = Instant.parse("2026-11-29T12:00:00Z");
    assertThat(t.unreachable(Instant.parse("2026-11-29T09:00:00Z"), now)).isNull();
    assertThat(t.unreachable(Instant.parse("2026-11-29T09:30:00Z"), now)).contains("before the first recoverable");
    assertThat(t.unreachable(null, now)).contains("no completed base backup");
    assertThat(t.unreachable(Instant.parse("2026-11-29T09:00:00Z"), Instant.parse("2026-11-29T09:10:00Z")))
        .contains("in the future");

    r.targetTime = "yesterday";
    assertThatThrownBy(() -> RecoveryTarget.from(r)).hasMessageContaining("RFC 3339");
    r.targetTime = null;
    r.targetLSN = "0/3000060";
    assertThat(RecoveryTarget.from(r).lsn()).isEqualTo("0/3000060");
    r.targetLSN = "3000060";
    assertThatThrownBy(() -> RecoveryTarget.from(r)).hasMessageContaining("0/3000060");
    r.targetLSN = null;
    r.source = " ";
    assertThatThrownBy(() -> RecoveryTarget.from(r)).hasMessageContaining("source is required");
  }

  @Test
  void targetTimesAreWrittenTheWayPostgresqlReadsThem() {
    assertThat(Barman.postgresTime(Instant.parse("2026-11-29T23:04:52.302973605Z")))
        .isEqualTo("2026-11-29 23:04:52.302973+00");
  }

  @Test
  void theBackupChosenEndedBeforeTheTarget() {
    List<Barman.BackupInfo> backups = List.of(
        new Barman.BackupInfo("20261129T080000", "DONE", Instant.parse("2026-11-29T08:00:05Z"), 1),
        new Barman.BackupInfo("20261129T090000", "FAILED", null, 0),
        new Barman.BackupInfo("20261129T100000", "DONE", Instant.parse("2026-11-29T10:00:05Z"), 1));
    assertThat(Restore.choose(backups, new RecoveryTarget(Instant.parse("2026-11-29T09:59:00Z"), null)).id())
        .isEqualTo("20261129T080000");
    assertThat(Restore.choose(backups, new RecoveryTarget(Instant.parse("2026-11-29T10:00:06Z"), null)).id())
        .as("a second of margin over the catalogue's whole seconds").isEqualTo("20261129T100000");
    assertThat(Restore.choose(backups, RecoveryTarget.LATEST).id()).isEqualTo("20261129T100000");
    assertThat(Restore.choose(backups, new RecoveryTarget(null, "0/5000000")).id()).isEqualTo("20261129T080000");
    assertThatThrownBy(() -> Restore.choose(backups, new RecoveryTarget(Instant.parse("2026-11-29T07:00:00Z"),
        null))).hasMessageContaining("before the first recoverable point");
  }
}
