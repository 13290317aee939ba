package io.pgtide.common.contract;

/**
 * A custom metric query (see {@link CustomQueries}) that failed on its last run: its prefix and a short reason (an
 * error of PostgreSQL, its statement timeout, a column missing from the result or not a number). Sent in every
 * {@link InstanceReport} while it fails.
 */
public record QueryFailure(String query, String error) {
  /** Longest reason sent; PostgreSQL's messages are shorter, a result's value quoted in one may not be. */
  public static final int MAX_ERROR_CHARS = 300;
  /** Most failures one report carries (a file of a thousand broken queries must not make a report too large). */
  public static final int MAX_PER_REPORT = 100;

  public QueryFailure {
    if (query == null || query.isBlank()) {
      throw new IllegalArgumentException("a query failure names its query");
    }
    error = shorten(error == null ? "" : error);
  }

  static String shorten(String error) {
    String oneLine = error.strip().replace('\n', ' ');
    return oneLine.length() <= MAX_ERROR_CHARS ? oneLine : oneLine.substring(0, MAX_ERROR_CHARS - 1) + "…";
  }
}
