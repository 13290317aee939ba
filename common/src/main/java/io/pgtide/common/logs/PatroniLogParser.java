package io.pgtide.common.logs;

import io.pgtide.common.contract.LogLine;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Patroni's output, line by line: its own lines ({@code 2024-05-01 12:00:00,123 INFO: no action. …}, Python's
 * local time in {@code zone}), and what PostgreSQL wrote to stderr before its logging collector took over
 * ({@code 2024-05-01 12:00:00.123 UTC [42] LOG:  …}). Any other line (a traceback, a continuation) keeps the time and
 * severity of the line before it, so an error's traceback stays with the error. Pure; a line keeps at most
 * {@link CsvLogParser#MAX_FIELD_CHARS} characters.
 */
public final class PatroniLogParser implements LogParser {
  private static final Pattern PATRONI =
      Pattern.compile("^(\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}),(\\d{3}) ([A-Z]+): ?(.*)$");
  private static final Pattern POSTGRES = Pattern.compile(
      "^(\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}(?:\\.\\d{3})? \\S+) \\[(\\d+)\\] ([A-Z0-9]+):  ?(.*)$");
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

  private final ZoneId zone;
  private final StringBuilder partial = new StringBuilder();
  private long lastTime;
  private String lastSeverity;

  public PatroniLogParser(ZoneId zone) {
    this.zone = zone;
  }

  @Override
  public List<LogLine> feed(String text) {
    List<LogLine> out = new ArrayList<>();
    int start = 0;
    for (int nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      partial.append(text, start, nl);
      LogLine line = line(partial.toString());
      if (line != null) {
        out.add(line);
      }
      partial.setLength(0);
      start = nl + 1;
    }
    if (partial.length() + text.length() - start <= CsvLogParser.MAX_FIELD_CHARS) {
      partial.append(text, start, text.length());
    }
    return out;
  }

  @Override
  public void reset() {
    partial.setLength(0);
  }

  private LogLine line(String raw) {
    String text = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
    if (text.isBlank()) {
      return null;
    }
    if (text.length() > CsvLogParser.MAX_FIELD_CHARS) {
      text = text.substring(0, CsvLogParser.MAX_FIELD_CHARS) + "…";
    }
    Matcher m = PATRONI.matcher(text);
    if (m.matches()) {
      try {
        long time = LocalDateTime.parse(m.group(1), TIME).atZone(zone).toInstant().toEpochMilli()
            + Integer.parseInt(m.group(2));
        return remember(new LogLine(time, LogLine.PATRONI, 0, m.group(3), null, null, null, null, m.group(4), null));
      } catch (DateTimeException e) {
        // read as a continuation below
      }
    }
    m = POSTGRES.matcher(text);
    if (m.matches()) {
      Long time = CsvLogParser.parseTime(m.group(1));
      if (time != null) {
        return remember(new LogLine(time, LogLine.PATRONI, 0, m.group(3), null, null, null,
            Long.parseLong(m.group(2)), m.group(4), null));
      }
    }
    // a continuation: where it came from is the line before; before any, it is not placed in time
    return lastSeverity == null ? null
        : new LogLine(lastTime, LogLine.PATRONI, 0, lastSeverity, null, null, null, null, text, null);
  }

  private LogLine remember(LogLine line) {
    lastTime = line.time();
    lastSeverity = line.severity();
    return line;
  }
}
