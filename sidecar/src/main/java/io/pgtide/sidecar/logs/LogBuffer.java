package io.pgtide.sidecar.logs;

import io.pgtide.common.contract.LogLine;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * The recent lines of one source, bounded by a count and by their weight on the heap ({@link LogLine#weight}): the
 * oldest go first, and are counted as {@link #dropped}. Numbers each line it keeps ({@code seq}, from 1). Not thread
 * safe: the sidecar touches it on its event loop only.
 */
public final class LogBuffer {
  private final int maxLines;
  private final long maxBytes;
  private final ArrayDeque<LogLine> lines = new ArrayDeque<>();
  private long bytes;
  private long nextSeq = 1;
  private long dropped;

  public LogBuffer(int maxLines, long maxBytes) {
    if (maxLines < 1 || maxBytes < 1) {
      throw new IllegalArgumentException("a log buffer needs room for a line");
    }
    this.maxLines = maxLines;
    this.maxBytes = maxBytes;
  }

  public void add(LogLine parsed) {
    LogLine line = new LogLine(parsed.time(), parsed.source(), nextSeq++, parsed.severity(), parsed.sqlstate(),
        parsed.user(), parsed.database(), parsed.pid(), parsed.message(), parsed.detail());
    lines.addLast(line);
    bytes += line.weight();
    while (lines.size() > maxLines || (bytes > maxBytes && lines.size() > 1)) {
      bytes -= lines.removeFirst().weight();
      dropped++;
    }
  }

  public void addAll(List<LogLine> parsed) {
    parsed.forEach(this::add);
  }

  /**
   * The newest lines at or after {@code sinceMs} and at or above {@code minSeverity} (null: any): at most
   * {@code limit} of them and {@code maxBytes} of weight, oldest first.
   */
  public List<LogLine> query(long sinceMs, String minSeverity, int limit, long maxBytes) {
    List<LogLine> out = new ArrayList<>();
    long budget = maxBytes;
    for (Iterator<LogLine> it = lines.descendingIterator(); it.hasNext() && out.size() < limit; ) {
      LogLine line = it.next();
      if (line.time() < sinceMs || !line.atLeast(minSeverity)) {
        continue;
      }
      budget -= line.weight();
      if (budget < 0) {
        break;
      }
      out.add(line);
    }
    Collections.reverse(out);
    return out;
  }

  public int size() {
    return lines.size();
  }

  public long bytes() {
    return bytes;
  }

  public long dropped() {
    return dropped;
  }
}
