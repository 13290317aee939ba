package io.pgtide.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every file in manifests/samples/invalid/ is refused the same way by `validate`, `render` and `local up`: exit 2
 * and the message its first line expects ({@code # expect:}, or {@code # expect-local:} for local mode only).
 */
class InvalidSamplesTest {
  static final Path INVALID = Path.of("..", "manifests", "samples", "invalid");

  static PgtideCliAccess.Run pgtide(String... args) {
    return PgtideCliAccess.run(args);
  }

  @TestFactory
  Stream<DynamicTest> everyInvalidSampleIsRefusedWithItsReasonOnEveryPath() throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(INVALID)) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(files).hasSizeGreaterThanOrEqualTo(10);
    return files.stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
      String first = Files.readAllLines(file).get(0);
      boolean localOnly = first.startsWith("# expect-local: ");
      String expected = first.substring(first.indexOf(": ") + 2);
      Path dir = Files.createTempDirectory("pgtide-invalid");
      List<String[]> paths = localOnly
          ? List.of(new String[] {"validate", "--local", "-f", file.toString()},
              new String[] {"local", "up", "-f", file.toString(), "--dir", dir.toString()})
          : List.of(new String[] {"validate", "-f", file.toString()},
              new String[] {"validate", "--local", "-f", file.toString()},
              new String[] {"render", "-f", file.toString()},
              new String[] {"local", "up", "-f", file.toString(), "--dir", dir.toString()});
      for (String[] args : paths) {
        PgtideCliAccess.Run run = pgtide(args);
        assertThat(run.exit()).as(String.join(" ", args) + ": " + run.err()).isEqualTo(2);
        assertThat(run.err()).as(String.join(" ", args)).contains(expected);
      }
      // nothing was started or written for a refused file
      try (Stream<Path> left = Files.list(dir)) {
        assertThat(left).isEmpty();
      }
      if (localOnly) {
        assertThat(pgtide("validate", "-f", file.toString()).exit()).as("valid outside local mode").isZero();
      }
    }));
  }

  @Test
  void theSamplesThatShipAreValid() {
    for (String sample : List.of("minimal.yaml", "full.yaml", "local-cluster.yaml")) {
      PgtideCliAccess.Run run = pgtide("validate", "-f", Path.of("..", "manifests", "samples", sample).toString());
      assertThat(run.exit()).as(sample + ": " + run.err()).isZero();
    }
    String backups = Path.of("..", "manifests", "samples", "local-backups.yaml").toString();
    assertThat(pgtide("validate", "--local", "-f", backups).exit()).isZero();
  }

  @Test
  void backupsAndRestoresAreValidForKubernetesToo() throws IOException {
    PgtideCliAccess.Run run = pgtide("validate", "-f", Path.of("..", "manifests", "samples", "local-backups.yaml")
        .toString());
    assertThat(run.exit()).as(run.err()).isZero();
    Path restore = Files.createTempFile("pgtide-restore", ".yaml");
    Files.writeString(restore, """
        apiVersion: pgtide.io/v1
        kind: PostgresCluster
        metadata: {name: copy, namespace: default}
        spec:
          postgresVersion: 15
          bootstrap: {recovery: {source: ledger, targetTime: "2026-11-29T10:15:00Z"}}
        """);
    PgtideCliAccess.Run restored = pgtide("validate", "-f", restore.toString());
    assertThat(restored.exit()).as(restored.err()).isZero();
    Files.delete(restore);
  }
}
