package io.pgtide.cli.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RotatingLogTest {
  @TempDir
  Path dir;

  @Test
  void rotatesBySizeKeepingTheNewestFiles() throws Exception {
    Path file = dir.resolve("logs/operator.log");
    try (RotatingLog log = new RotatingLog(file, 100, 2)) {
      for (int i = 0; i < 10; i++) {
        log.write(("line " + i + " " + "x".repeat(33) + "\n").getBytes(StandardCharsets.UTF_8)); // 41 bytes
      }
    }
    // two lines per file: 8 and 9 current, 6 and 7 in .1, 4 and 5 in .2, older ones gone
    assertThat(Files.readString(file)).startsWith("line 8").contains("line 9").doesNotContain("line 7");
    assertThat(Files.readString(dir.resolve("logs/operator.log.1"))).startsWith("line 6").contains("line 7");
    assertThat(Files.readString(dir.resolve("logs/operator.log.2"))).startsWith("line 4").contains("line 5");
    assertThat(dir.resolve("logs/operator.log.3")).doesNotExist();
    assertThat(Files.size(file)).isLessThanOrEqualTo(100);
  }

  @Test
  void appendsToWhatAnEarlierRunWrote() throws Exception {
    Path file = dir.resolve("operator.log");
    Files.writeString(file, "before\n");
    try (RotatingLog log = new RotatingLog(file, 1000, 2)) {
      log.write("after\n".getBytes(StandardCharsets.UTF_8));
    }
    assertThat(Files.readString(file)).isEqualTo("before\nafter\n");
  }
}
