package io.pgtide.common.logs;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.LogLine;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class PatroniLogParserTest {
  @Test
  void readsPatroniLinesPostgresStderrAndKeepsATracebackWithItsError() {
    PatroniLogParser p = new PatroniLogParser(ZoneOffset.UTC);
    List<LogLine> lines = p.feed("""
        2024-05-01 12:00:00,250 INFO: no action. I am (c-0), the leader with the lock
        2024-05-01 12:00:01.000 UTC [77] LOG:  redirecting log output to logging collector process
        2024-05-01 12:00:02,001 ERROR: Exception during execution of long running task
        Traceback (most recent call last):
        2024-05-01 12:00:03,""");
    assertThat(lines).extracting(LogLine::severity).containsExactly("INFO", "LOG", "ERROR", "ERROR");
    assertThat(lines.get(0).time()).isEqualTo(Instant.parse("2024-05-01T12:00:00.250Z").toEpochMilli());
    assertThat(lines.get(0).message()).isEqualTo("no action. I am (c-0), the leader with the lock");
    assertThat(lines.get(1).pid()).isEqualTo(77L);
    assertThat(lines.get(3).message()).isEqualTo("Traceback (most recent call last):");
    assertThat(lines.get(3).time()).isEqualTo(lines.get(2).time());
    assertThat(p.feed("000 WARNING: half a line before\n")).singleElement()
        .satisfies(l -> assertThat(l.severity()).isEqualTo("WARNING"));
  }

  @Test
  void aContinuationBeforeAnyLineIsNotPlacedInTime() {
    assertThat(new PatroniLogParser(ZoneOffset.UTC).feed("  File \"x.py\", line 1\n")).isEmpty();
  }
}
