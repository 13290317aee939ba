package io.pgtide.operator.logs;

import io.pgtide.common.contract.CommandPayload;
import io.pgtide.common.contract.LogLine;
import io.pgtide.common.logs.PatroniLogParser;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Patroni's output where a member's sidecar cannot read it. On Spilo, runit sends Patroni's lines to the container's
 * output and nowhere else; the kubelet keeps them, and the operator reads them through the API server
 * ({@code pods/log} of the {@code postgres} container). Local mode needs none: the sidecar tails Patroni's file.
 */
public interface PatroniOutput {
  /**
   * Blocking: the member's Patroni output as the kubelet holds it, each line prefixed with the kubelet's RFC 3339
   * time ({@code --timestamps}), from {@code sinceMs} on (0: its last lines).
   */
  String read(String namespace, String member, long sinceMs);

  /**
   * The lines of a kubelet log read with timestamps that a {@code logs} request asks for, oldest first, at most its
   * limit (the newest). A line's time is the kubelet's (a container's zone does not matter); its severity and text
   * are Patroni's, a traceback keeps the severity of its error. {@code seq} is stable for one line across reads, so
   * a follower that reads a second again prints it once. Pure.
   */
  static List<LogLine> lines(String kubeletLog, CommandPayload.Logs request) {
    PatroniLogParser parser = new PatroniLogParser(ZoneOffset.UTC);
    List<LogLine> out = new ArrayList<>();
    for (String raw : kubeletLog.split("\n")) {
      int space = raw.indexOf(' ');
      if (space <= 0) {
        continue;
      }
      long time;
      try {
        time = Instant.parse(raw.substring(0, space)).toEpochMilli();
      } catch (DateTimeParseException e) {
        continue; // not a kubelet line
      }
      for (LogLine l : parser.feed(raw.substring(space + 1) + "\n")) {
        LogLine line = new LogLine(time, LogLine.PATRONI,
            Integer.toUnsignedLong(Objects.hash(time, l.severity(), l.message())), l.severity(), l.sqlstate(),
            l.user(), l.database(), l.pid(), l.message(), l.detail());
        if (time >= request.sinceMs() && line.atLeast(request.minSeverity())) {
          out.add(line);
        }
      }
    }
    return out.size() > request.limit() ? out.subList(out.size() - request.limit(), out.size()) : out;
  }
}
