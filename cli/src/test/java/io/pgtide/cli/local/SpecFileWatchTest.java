package io.pgtide.cli.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtide.common.crd.PostgresCluster;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpecFileWatchTest {
  static final String VALID = """
      apiVersion: pgtide.io/v1
      kind: PostgresCluster
      metadata: {name: watched}
      spec: {replicas: %d}
      """;

  @Test
  void aValidEditIsHandedOnOnceAndAnInvalidOneIsReportedNotApplied(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("cluster.yaml");
    Files.writeString(file, VALID.formatted(2));
    List<PostgresCluster> applied = new CopyOnWriteArrayList<>();
    List<String> reports = new CopyOnWriteArrayList<>();
    Vertx vertx = Vertx.vertx();
    try {
      SpecFileWatch watch = new SpecFileWatch(vertx, file, applied::add, reports::add);
      watch.start(3_600_000); // driven by hand below
      watch.check();
      assertThat(applied).as("unchanged since start").isEmpty();

      Files.writeString(file, VALID.formatted(3));
      watch.check();
      watch.check();
      assertThat(applied).hasSize(1);
      assertThat(applied.get(0).getSpec().replicas).isEqualTo(3);

      Files.writeString(file, VALID.formatted(12)); // beyond local mode's 9
      watch.check();
      assertThat(applied).hasSize(1);
      assertThat(reports).anyMatch(r -> r.contains("not applying") && r.contains("1..9 in local mode"));

      Files.delete(file); // an editor replacing the file: nothing happens while it is gone
      watch.check();
      Files.writeString(file, VALID.formatted(1));
      watch.check();
      assertThat(applied).hasSize(2);
      watch.stop();
    } finally {
      vertx.close().await();
    }
  }
}
