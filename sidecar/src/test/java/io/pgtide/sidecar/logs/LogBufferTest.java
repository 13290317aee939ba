package io.pgtide.sidecar.logs;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.LogLine;
import java.util.List;
import org.junit.jupiter.api.Test;

class LogBufferTest {
  static LogLine line(long time, String severity, String message) {
    return new LogLine(time, LogLine.POSTGRES, 0, severity, "XX000", null, null, null, message, null);
  }

  @Test
  void keepsTheNewestLinesWithinTheLineCap() {
    LogBuffer b = new LogBuffer(3, 1 << 20);
    for (int i = 1; i <= 5; i++) {
      b.add(line(i, "ERROR", "m" + i));
    }
    assertThat(b.size()).isEqualTo(3);
    assertThat(b.dropped()).isEqualTo(2);
    assertThat(b.query(0, null, 10, 1 << 20)).extracting(LogLine::message).containsExactly("m3", "m4", "m5");
    assertThat(b.query(0, null, 10, 1 << 20)).extracting(LogLine::seq).containsExactly(3L, 4L, 5L);
  }

  @Test
  void staysWithinItsBytesUnderAFlood() {
    LogBuffer b = new LogBuffer(1_000_000, 64 * 1024);
    String big = "e".repeat(1000);
    for (int i = 0; i < 100_000; i++) {
      b.add(line(i, "ERROR", big));
      assertThat(b.bytes()).isLessThanOrEqualTo(64 * 1024);
    }
    assertThat(b.size()).isBetween(20, 40);
    assertThat(b.dropped()).isEqualTo(100_000 - b.size());
  }

  @Test
  void aLineHeavierThanTheCapStillShowsAlone() {
    LogBuffer b = new LogBuffer(10, 100);
    b.add(line(1, "ERROR", "x".repeat(500)));
    assertThat(b.size()).isEqualTo(1);
  }

  @Test
  void filtersBySinceSeverityLimitAndAnswerSize() {
    LogBuffer b = new LogBuffer(100, 1 << 20);
    b.add(line(10, "LOG", "checkpoint"));
    b.add(line(20, "ERROR", "e1"));
    b.add(line(30, "WARNING", "w"));
    b.add(line(40, "FATAL", "f"));
    b.add(line(50, "ERROR", "e2"));
    assertThat(b.query(0, "ERROR", 10, 1 << 20)).extracting(LogLine::message).containsExactly("e1", "f", "e2");
    assertThat(b.query(25, "warning", 10, 1 << 20)).extracting(LogLine::message).containsExactly("w", "f", "e2");
    assertThat(b.query(0, null, 2, 1 << 20)).extracting(LogLine::message).containsExactly("f", "e2");
    long one = line(50, "ERROR", "e2").weight();
    assertThat(b.query(0, null, 10, one)).extracting(LogLine::message).containsExactly("e2");
    assertThat(b.query(0, "PANIC", 10, 1 << 20)).isEqualTo(List.of());
  }
}
