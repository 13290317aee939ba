package io.pgtide.common.backup;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;
import java.util.Locale;
import java.util.Map;

/**
 * A five-field cron schedule (minute hour day-of-month month day-of-week), evaluated in UTC as Kubernetes CronJobs
 * are: numbers, {@code *}, ranges {@code a-b}, steps {@code *}{@code /n} and {@code a-b/n}, lists, and the macros
 * {@code @hourly @daily @weekly @monthly}. When both day fields are restricted a day matches either (cron's rule).
 * Pure; {@link #parse} throws {@link IllegalArgumentException} with the field and value that are wrong.
 */
public final class CronSchedule {
  private static final Map<String, String> MACROS = Map.of("@hourly", "0 * * * *", "@daily", "0 0 * * *",
      "@midnight", "0 0 * * *", "@weekly", "0 0 * * 0", "@monthly", "0 0 1 * *");
  private static final String[] NAMES = {"minute", "hour", "day of month", "month", "day of week"};
  private static final int[][] RANGES = {{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}};

  private final String text;
  private final BitSet[] fields;
  private final boolean anyDayOfMonth;
  private final boolean anyDayOfWeek;

  private CronSchedule(String text, BitSet[] fields, boolean anyDayOfMonth, boolean anyDayOfWeek) {
    this.text = text;
    this.fields = fields;
    this.anyDayOfMonth = anyDayOfMonth;
    this.anyDayOfWeek = anyDayOfWeek;
  }

  public static CronSchedule parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("a cron schedule is required (five fields, e.g. \"0 3 * * *\")");
    }
    String expanded = MACROS.getOrDefault(text.strip().toLowerCase(Locale.ROOT), text.strip());
    String[] parts = expanded.split("\\s+");
    if (parts.length != 5) {
      throw new IllegalArgumentException("'" + text + "' is not a cron schedule: it needs five fields (minute hour "
          + "day-of-month month day-of-week), got " + parts.length);
    }
    BitSet[] fields = new BitSet[5];
    for (int i = 0; i < 5; i++) {
      fields[i] = field(text, i, parts[i]);
    }
    if (fields[4].get(7)) {
      fields[4].set(0); // 7 is Sunday too
    }
    return new CronSchedule(text, fields, parts[2].equals("*"), parts[4].equals("*"));
  }

  private static BitSet field(String text, int index, String value) {
    int min = RANGES[index][0];
    int max = RANGES[index][1];
    BitSet bits = new BitSet(max + 1);
    for (String item : value.split(",", -1)) {
      String range = item;
      int step = 1;
      int slash = item.indexOf('/');
      if (slash >= 0) {
        range = item.substring(0, slash);
        step = number(text, index, item.substring(slash + 1), 1, max);
      }
      int from;
      int to;
      if (range.equals("*")) {
        from = min;
        to = max;
      } else if (range.contains("-")) {
        String[] ends = range.split("-", -1);
        if (ends.length != 2) {
          throw invalid(text, index, item);
        }
        from = number(text, index, ends[0], min, max);
        to = number(text, index, ends[1], min, max);
        if (from > to) {
          throw new IllegalArgumentException("'" + text + "': the " + NAMES[index] + " range " + range
              + " runs backwards");
        }
      } else {
        from = number(text, index, range, min, max);
        to = slash >= 0 ? max : from;
      }
      for (int v = from; v <= to; v += step) {
        bits.set(v);
      }
    }
    return bits;
  }

  private static int number(String text, int index, String value, int min, int max) {
    int n;
    try {
      n = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw invalid(text, index, value);
    }
    if (n < min || n > max) {
      throw new IllegalArgumentException("'" + text + "': " + NAMES[index] + " " + n + " is outside " + min + ".."
          + max);
    }
    return n;
  }

  private static IllegalArgumentException invalid(String text, int index, String value) {
    return new IllegalArgumentException("'" + text + "' is not a cron schedule: the " + NAMES[index] + " field has '"
        + value + "'");
  }

  /** The first time after {@code after} (exclusive) that the schedule fires, in UTC, to the minute. */
  public ZonedDateTime next(ZonedDateTime after) {
    ZonedDateTime t = after.withZoneSameInstant(ZoneOffset.UTC).truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
    // five years of minutes is an upper bound for any satisfiable schedule (Feb 29 on a given weekday included)
    ZonedDateTime limit = t.plusYears(5);
    while (t.isBefore(limit)) {
      if (!fields[3].get(t.getMonthValue())) {
        t = t.plusMonths(1).withDayOfMonth(1).withHour(0).withMinute(0);
        continue;
      }
      if (!dayMatches(t)) {
        t = t.plusDays(1).withHour(0).withMinute(0);
        continue;
      }
      if (!fields[1].get(t.getHour())) {
        t = t.plusHours(1).withMinute(0);
        continue;
      }
      if (!fields[0].get(t.getMinute())) {
        t = t.plusMinutes(1);
        continue;
      }
      return t;
    }
    throw new IllegalArgumentException("'" + text + "' never fires (e.g. a day that does not exist in its months)");
  }

  private boolean dayMatches(ZonedDateTime t) {
    boolean dom = fields[2].get(t.getDayOfMonth());
    boolean dow = fields[4].get(t.getDayOfWeek().getValue() % 7);
    if (anyDayOfMonth || anyDayOfWeek) {
      return dom && dow;
    }
    return dom || dow;
  }

  /** The gap between two firings after {@code from}: what the "no backup within 1.5 × schedule" alert scales. */
  public long typicalIntervalSeconds(ZonedDateTime from) {
    ZonedDateTime a = next(from);
    ZonedDateTime b = next(a);
    return java.time.Duration.between(a, b).toSeconds();
  }

  @Override
  public String toString() {
    return text;
  }
}
