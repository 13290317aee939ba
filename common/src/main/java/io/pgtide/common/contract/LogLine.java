package io.pgtide.common.contract;

import java.util.List;

/**
 * One line of a member's logs as its sidecar parsed it: PostgreSQL's csvlog ({@code source} {@code postgres}) or
 * Patroni's output ({@code patroni}). {@code time} is epoch milliseconds; {@code seq} numbers the lines of one
 * sidecar run and source (a follower skips what it has seen). Fields PostgreSQL left empty are null. The failed
 * statement's text ({@code query}) is never carried: it may hold a password ({@code ALTER ROLE … PASSWORD}).
 */
public record LogLine(long time, String source, long seq, String severity, String sqlstate, String user,
                      String database, Long pid, String message, String detail) {
  public static final String POSTGRES = "postgres";
  public static final String PATRONI = "patroni";

  /** Severities from least to most severe, PostgreSQL's and Patroni's (Python's) names side by side. */
  private static final List<List<String>> RANKS = List.of(
      List.of("DEBUG", "DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5"),
      List.of("LOG", "INFO", "STATEMENT"),
      List.of("NOTICE"),
      List.of("WARNING"),
      List.of("ERROR"),
      List.of("FATAL", "CRITICAL"),
      List.of("PANIC"));

  /**
   * The rank of a severity name (case-insensitive), or -1 when unknown. LOG ranks with INFO: PostgreSQL ranks LOG
   * high for the server log, but a reader asking for WARNING and above does not want checkpoint chatter.
   */
  public static int rank(String severity) {
    if (severity == null) {
      return -1;
    }
    String s = severity.toUpperCase(java.util.Locale.ROOT);
    for (int i = 0; i < RANKS.size(); i++) {
      if (RANKS.get(i).contains(s)) {
        return i;
      }
    }
    return -1;
  }

  /** At or above {@code minSeverity} (null: everything; a line of unknown severity passes only then). */
  public boolean atLeast(String minSeverity) {
    return minSeverity == null || rank(severity) >= rank(minSeverity);
  }

  /** A rough size on the heap (two bytes a char, plus the record): what a bounded buffer counts. */
  public long weight() {
    return 96 + 2L * (len(severity) + len(sqlstate) + len(user) + len(database) + len(message) + len(detail));
  }

  private static int len(String s) {
    return s == null ? 0 : s.length();
  }
}
