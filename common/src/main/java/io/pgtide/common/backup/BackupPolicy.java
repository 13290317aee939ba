package io.pgtide.common.backup;

import io.pgtide.common.crd.PostgresClusterSpec;

/**
 * What {@code spec.backup} asks for, checked and translated into the repository's terms. Pure.
 *
 * <p>Retention: Barman has one policy per server, either a redundancy (keep N backups) or a recovery window; the
 * spec's {@code count} maps to Barman's {@code minimum_redundancy} when a window is set, so both hold: every point
 * in the window stays recoverable and at least {@code count} backups remain even when they are older.
 */
public record BackupPolicy(CronSchedule schedule, int keep, Integer windowDays, CronSchedule verifySchedule) {
  /** The replication slot Barman streams WAL from (a Patroni permanent slot while spec.backup is declared). */
  public static final String SLOT = "pgtide_barman";


  public static BackupPolicy from(PostgresClusterSpec.BackupSpec spec) {
    if (spec == null) {
      throw new IllegalArgumentException("spec.backup is missing");
    }
    CronSchedule schedule;
    try {
      schedule = CronSchedule.parse(spec.schedule);
      schedule.next(java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("backup.schedule: " + e.getMessage());
    }
    PostgresClusterSpec.RetentionSpec r = spec.retention == null ? new PostgresClusterSpec.RetentionSpec()
        : spec.retention;
    if (r.count < 1) {
      throw new IllegalArgumentException("backup.retention.count must be at least 1, got " + r.count);
    }
    CronSchedule verify = null;
    if (spec.verifySchedule != null && !"never".equals(spec.verifySchedule.strip())) {
      try {
        verify = CronSchedule.parse(spec.verifySchedule);
        verify.next(java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("backup.verifySchedule: " + e.getMessage());
      }
    }
    return new BackupPolicy(schedule, r.count, r.window == null ? null : windowDays(r.window), verify);
  }

  /** {@code 7d} or {@code 2w} as days; anything else (hours, months, no unit) is refused with the reason. */
  static int windowDays(String window) {
    String w = window.strip();
    if (!w.matches("[1-9][0-9]{0,4}[dw]")) {
      throw new IllegalArgumentException("backup.retention.window must be days or weeks like 7d or 2w, got '"
          + window + "'");
    }
    int n = Integer.parseInt(w.substring(0, w.length() - 1));
    return w.endsWith("w") ? n * 7 : n;
  }

  /** Barman's {@code retention_policy} line. */
  public String barmanRetention() {
    return windowDays == null ? "REDUNDANCY " + keep : "RECOVERY WINDOW OF " + windowDays + " DAYS";
  }

  /** Barman's {@code minimum_redundancy}: with a window, the count is a floor. */
  public int minimumRedundancy() {
    return windowDays == null ? 0 : keep;
  }

  /** The first problem with {@code spec.backup}, or null (the validator's form). */
  public static String problem(PostgresClusterSpec.BackupSpec spec) {
    if (spec == null) {
      return null;
    }
    try {
      from(spec);
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }
}
