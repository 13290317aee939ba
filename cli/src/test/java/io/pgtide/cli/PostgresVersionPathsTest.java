package io.pgtide.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.local.process.PatroniMember;
import io.pgtide.operator.ClusterFile;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One file without postgresVersion on every path: `render` (Kubernetes) runs the default image's PostgreSQL 17,
 * `validate --local` accepts it (local mode runs 15, the binaries its members start).
 */
class PostgresVersionPathsTest {
  static final String NO_VERSION = """
      apiVersion: pgtide.io/v1
      kind: PostgresCluster
      metadata: {name: laptop, namespace: default}
      spec: {replicas: 1}
      """;

  @Test
  void aFileWithoutPostgresVersionRenders17AndIsValidForLocalMode(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("laptop.yaml"), NO_VERSION);
    PgtideCliAccess.Run local = PgtideCliAccess.run("validate", "--local", "-f", file.toString());
    assertThat(local.exit()).as(local.err()).isZero();
    PrintStream out = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PgtideCliAccess.Run render;
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      render = PgtideCliAccess.run("render", "-f", file.toString());
    } finally {
      System.setOut(out);
    }
    assertThat(render.exit()).as(render.err()).isZero();
    String yaml = buf.toString(StandardCharsets.UTF_8);
    assertThat(yaml).containsPattern("name: \"PGVERSION\"\\s+value: \"17\"");
  }

  @Test
  void localModesVersionIsTheOneItsMembersRun() {
    assertThat(PatroniMember.BIN_DIR).contains("/postgresql/" + ClusterFile.LOCAL_POSTGRES_VERSION + "/");
  }
}
