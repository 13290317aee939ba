package io.pgtide.common.logs;

import io.pgtide.common.contract.LogLine;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * PostgreSQL's csvlog, streamed: RFC 4180 fields (quoted, {@code ""} for a quote, newlines inside quotes), one record
 * per line end outside quotes. The columns this reads are the first fourteen, the same from PostgreSQL 13 (24
 * columns) through 17 (26: 14 added {@code leader_pid} and {@code query_id} at the end): log_time, user_name,
 * database_name, process_id, connection_from, session_id, session_line_num, command_tag, session_start_time,
 * virtual_transaction_id, transaction_id, error_severity, sql_state_code, message, then detail. The statement text
 * (column 20, {@code query}) is left out on purpose: a failed {@code ALTER ROLE … PASSWORD} carries the password.
 * Pure and bounded: a field keeps at most {@link #MAX_FIELD_CHARS} characters, a record at most
 * {@link #MAX_FIELDS} fields, whatever the file holds.
 */
public final class CsvLogParser implements LogParser {
  static final int MAX_FIELD_CHARS = 8192;
  static final int MAX_FIELDS = 32;
  private static final int MIN_FIELDS = 14;
  private static final Pattern OFFSET = Pattern.compile("[+-]\\d{2}(:?\\d{2})?");
  private static final DateTimeFormatter LOCAL = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss[.SSS]");

  private final List<String> fields = new ArrayList<>();
  private final StringBuilder field = new StringBuilder();
  private boolean inQuotes;
  private boolean quoteSeen; // a quote inside quotes: the next char says whether it was "" or the closing one
  private boolean truncated;
  private long malformed;

  @Override
  public List<LogLine> feed(String text) {
    List<LogLine> out = new ArrayList<>();
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoteSeen) {
        quoteSeen = false;
        if (c == '"') {
          append(c);
          continue;
        }
        inQuotes = false; // that quote closed the field; c is read as outside quotes
      }
      if (inQuotes) {
        if (c == '"') {
          quoteSeen = true;
        } else {
          append(c);
        }
      } else if (c == '"') {
        inQuotes = true;
      } else if (c == ',') {
        endField();
      } else if (c == '\n') {
        endField();
        LogLine line = record(fields);
        if (line != null) {
          out.add(line);
        } else {
          malformed++;
        }
        fields.clear();
      } else if (c != '\r') {
        append(c);
      }
    }
    return out;
  }

  @Override
  public void reset() {
    fields.clear();
    field.setLength(0);
    inQuotes = false;
    quoteSeen = false;
    truncated = false;
  }

  /** Records that were not csvlog (too few columns, no time): skipped and counted. */
  public long malformed() {
    return malformed;
  }

  private void append(char c) {
    if (field.length() < MAX_FIELD_CHARS) {
      field.append(c);
    } else {
      truncated = true;
    }
  }

  private void endField() {
    if (fields.size() < MAX_FIELDS) {
      fields.add(truncated ? field + "…" : field.toString());
    }
    field.setLength(0);
    truncated = false;
  }

  private static LogLine record(List<String> f) {
    if (f.size() < MIN_FIELDS) {
      return null;
    }
    Long time = parseTime(f.get(0));
    if (time == null) {
      return null;
    }
    Long pid = null;
    try {
      pid = f.get(3).isEmpty() ? null : Long.parseLong(f.get(3));
    } catch (NumberFormatException e) {
      // not a number: left out, the line is still worth showing
    }
    return new LogLine(time, LogLine.POSTGRES, 0, empty(f.get(11)), empty(f.get(12)), empty(f.get(1)),
        empty(f.get(2)), pid, empty(f.get(13)), f.size() > 14 ? empty(f.get(14)) : null);
  }

  private static String empty(String s) {
    return s.isEmpty() ? null : s;
  }

  /**
   * {@code 2024-05-01 12:00:00.123 UTC}: the zone is log_timezone's abbreviation or a numeric offset ({@code +02}).
   * Spilo's log_timezone is UTC and local mode sets it so; an abbreviation Java does not know (CEST) is read as UTC
   * rather than dropping the line.
   */
  static Long parseTime(String text) {
    int space = text.lastIndexOf(' ');
    if (space < 0) {
      return null;
    }
    LocalDateTime local;
    try {
      local = LocalDateTime.parse(text.substring(0, space), LOCAL);
    } catch (DateTimeException e) {
      return null;
    }
    String zone = text.substring(space + 1);
    ZoneId id;
    try {
      id = OFFSET.matcher(zone).matches() ? ZoneOffset.of(zone.length() == 3 ? zone + ":00" : zone)
          : ZoneId.of(zone, ZoneId.SHORT_IDS);
    } catch (DateTimeException e) {
      id = abbreviation(zone);
    }
    return local.atZone(id).toInstant().toEpochMilli();
  }

  private static ZoneId abbreviation(String zone) {
    java.util.TimeZone tz = java.util.TimeZone.getTimeZone(zone); // GMT when unknown
    return tz.getID().equals("GMT") && !zone.equals("GMT") ? ZoneOffset.UTC : tz.toZoneId();
  }
}
