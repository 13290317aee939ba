package io.pgtide.sidecar.logs;

import io.pgtide.common.logs.CsvLogParser;
import io.pgtide.common.logs.PatroniLogParser;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.contract.LogLine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogTailerTest {
  @TempDir
  Path dir;

  static String error(int n) {
    return "2024-05-01 12:00:" + String.format("%02d", n % 60) + ".000 UTC,\"u\",\"d\",1,,s," + n
        + ",,,,0,ERROR,42P01,\"error " + n + "\",\"multi\nline\"\n";
  }

  static void append(Path file, String text) throws Exception {
    Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  @Test
  void followsAppendsWaitsForAWholeRecordAndFollowsRotationAndTruncation() throws Exception {
    LogTailer t = LogTailer.directory(dir, n -> n.endsWith(".csv"), new CsvLogParser());
    assertThat(t.poll()).isEmpty();
    assertThat(t.problem()).contains("no log file");
    Path mon = dir.resolve("postgresql-1.csv");
    append(mon, error(1));
    assertThat(t.poll()).extracting(LogLine::message).containsExactly("error 1");
    assertThat(t.problem()).isNull();
    String two = error(2);
    int mid = two.indexOf("multi") + 3; // inside a quoted field, no line end after it yet
    append(mon, two.substring(0, mid));
    assertThat(t.poll()).isEmpty();
    append(mon, two.substring(mid));
    assertThat(t.poll()).extracting(LogLine::message).containsExactly("error 2");
    Files.writeString(dir.resolve("postgresql-1.log"), "not csv\n"); // the stderr file next to it is ignored

    // rotation: the old file's last line, then the new file from its start
    append(mon, error(3));
    Path tue = dir.resolve("postgresql-2.csv");
    append(tue, error(4));
    Files.setLastModifiedTime(tue, FileTime.fromMillis(Files.getLastModifiedTime(mon).toMillis() + 1000));
    assertThat(t.poll()).extracting(LogLine::message).containsExactly("error 3", "error 4");

    // a week later the collector truncates the reused file (log_truncate_on_rotation)
    Files.writeString(mon, error(5));
    Files.setLastModifiedTime(mon, FileTime.fromMillis(Files.getLastModifiedTime(tue).toMillis() + 1000));
    assertThat(t.poll()).extracting(LogLine::message).containsExactly("error 5");
    long later = Files.getLastModifiedTime(mon).toMillis();
    Files.writeString(mon, error(6)); // rewritten again, as long as before: only its first bytes tell
    Files.setLastModifiedTime(mon, FileTime.fromMillis(later + 1000));
    assertThat(t.poll()).extracting(LogLine::message).containsExactly("error 6");
  }

  @Test
  void startsABigFileNearItsEndAtARecordBoundary() throws Exception {
    Path file = dir.resolve("postgresql-3.csv");
    StringBuilder all = new StringBuilder();
    for (int i = 0; i < 10_000; i++) {
      all.append(error(i));
    }
    append(file, all.toString());
    LogTailer t = LogTailer.directory(dir, n -> n.endsWith(".csv"), new CsvLogParser());
    var lines = t.poll();
    assertThat(lines.size()).isBetween(100, 10_000 - 1);
    assertThat(lines.get(lines.size() - 1).message()).isEqualTo("error 9999");
    assertThat(lines).allSatisfy(l -> assertThat(l.detail()).isEqualTo("multi\nline"));
  }

  @Test
  void aSingleFileThatIsReplacedIsReadAgainFromItsStart() throws Exception {
    Path file = dir.resolve("patroni.log");
    LogTailer t = LogTailer.file(file, new PatroniLogParser(java.time.ZoneOffset.UTC));
    assertThat(t.poll()).isEmpty();
    assertThat(t.problem()).contains("does not exist");
    append(file, "2024-05-01 12:00:00,000 INFO: one\n");
    assertThat(t.poll()).extracting(LogLine::message).containsExactly("one");
    Files.delete(file);
    append(file, "2024-05-01 12:00:01,000 INFO: two, in a new file that is longer than the first\n");
    assertThat(t.poll()).extracting(LogLine::message)
        .containsExactly("two, in a new file that is longer than the first");
  }
}
