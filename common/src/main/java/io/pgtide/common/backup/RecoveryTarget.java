package io.pgtide.common.backup;

import io.pgtide.common.crd.PostgresClusterSpec;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * Where a restore stops: a time, an LSN, or the latest recoverable point. Pure; checked against the repository's
 * recoverable range before anything is started, so a bad target never creates a half-restored cluster.
 */
public record RecoveryTarget(Instant time, String lsn) {
  public static final RecoveryTarget LATEST = new RecoveryTarget(null, null);

  public static RecoveryTarget from(PostgresClusterSpec.RecoverySpec spec) {
    if (spec.source == null || spec.source.isBlank()) {
      throw new IllegalArgumentException("bootstrap.recovery.source is required");
    }
    if (spec.targetTime != null && spec.targetLSN != null) {
      throw new IllegalArgumentException("bootstrap.recovery: give targetTime or targetLSN, not both");
    }
    if (spec.targetLSN != null) {
      if (!spec.targetLSN.matches("[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}")) {
        throw new IllegalArgumentException("bootstrap.recovery.targetLSN must look like 0/3000060, got '"
            + spec.targetLSN + "'");
      }
      return new RecoveryTarget(null, spec.targetLSN.toUpperCase(java.util.Locale.ROOT));
    }
    return spec.targetTime == null ? LATEST : new RecoveryTarget(time(spec.targetTime), null);
  }

  public static Instant time(String rfc3339) {
    try {
      return OffsetDateTime.parse(rfc3339.strip()).toInstant();
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("the target time must be RFC 3339 with an offset, e.g. "
          + "2026-11-29T10:15:00Z, got '" + rfc3339 + "'");
    }
  }

  /** Why this target cannot be reached from a repository whose first recoverable point is {@code first}, or null. */
  public String unreachable(Instant first, Instant now) {
    if (time == null) {
      return first == null ? "the source has no completed base backup" : null;
    }
    if (time.isAfter(now)) {
      return "the target time " + time + " is in the future";
    }
    if (first == null) {
      return "the source has no completed base backup";
    }
    if (time.isBefore(first)) {
      return "the target time " + time + " is before the first recoverable point " + first;
    }
    return null;
  }

  @Override
  public String toString() {
    return time != null ? "time " + time : lsn != null ? "LSN " + lsn : "the latest recoverable point";
  }
}
