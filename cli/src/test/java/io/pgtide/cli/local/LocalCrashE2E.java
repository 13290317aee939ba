package io.pgtide.cli.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.process.Psql;
import io.pgtide.cli.PgtideCliAccess;
import io.pgtide.testkit.TestDirs;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The operator of a local cluster is SIGKILLed: what it ran stops with it (parent-death signal); `local down` says
 * so, and `local up` on the same directory, even straight away, stops what may be left and resumes the cluster with
 * its data and credentials.
 */
class LocalCrashE2E {
  static final String CLUSTER = """
      apiVersion: pgtide.io/v1
      kind: PostgresCluster
      metadata: {name: crash}
      spec:
        replicas: 1
        patroni: {ttl: 10, loopWait: 2, retryTimeout: 4}
      """;

  static Process operator(Path file, Path dir, Path log) throws Exception {
    // the operator in a JVM of its own (this test's classpath), so it can be killed like a crashed one
    String java = ProcessHandle.current().info().command().orElse("java");
    return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "io.pgtide.cli.PgtideCli",
        "local", "up", "-f", file.toString(), "--dir", dir.toString(), "--no-watch")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  /** Running: it exists and is not a zombie (an orphan's exit is reaped by PID 1, which may take its time here). */
  static boolean running(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return !stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
    } catch (java.io.IOException e) {
      return false;
    }
  }

  @Test
  void aKilledOperatorsProcessesAreStoppedByDownAndUpResumesTheCluster() throws Exception {
    Path work = TestDirs.create("local-crash");
    Path file = work.resolve("crash.yaml");
    Files.writeString(file, CLUSTER);
    Path dir = work.resolve("cluster");
    Process first = operator(file, dir, work.resolve("first.log"));
    try {
      await().atMost(Duration.ofSeconds(180)).until(() -> Files.readString(work.resolve("first.log")).contains("is up"));
      JsonObject state = new JsonObject(Files.readString(dir.resolve("operator.json")));
      String password = Files.readString(dir.resolve("secrets/superuser.password")).strip();
      Psql.query(state.getInteger("primaryPort"), "postgres", password, "postgres",
          "CREATE TABLE survived(x int); INSERT INTO survived VALUES (7)");

      List<Leftovers.Leftover> children = Leftovers.find(dir);
      assertThat(children).extracting(Leftovers.Leftover::kind).contains("etcd", "patroni", "postgres", "sidecar");
      // the operator's own log file, and no duplicate meter registrations (Vert.x's per-instance gauges) there or in
      // a sidecar's log
      await().atMost(Duration.ofSeconds(10))
          .until(() -> Files.readString(dir.resolve("logs/operator.log")).contains("is up"));
      try (var logs = Files.list(dir.resolve("logs"))) {
        for (Path log : logs.filter(f -> f.getFileName().toString().matches("(operator|sidecar-.*)\\.log")).toList()) {
          assertThat(log).content().as(log.toString()).doesNotContain("already registered");
        }
      }
      first.destroyForcibly().waitFor();
      // every child dies with the operator (its parent-death signal; Patroni stops PostgreSQL on the way)
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .until(() -> children.stream().noneMatch(o -> running(o.pid())));
      assertThat(Leftovers.find(dir)).as("left running after the crash").isEmpty();

      PgtideCliAccess.Run down = PgtideCliAccess.run("local", "down", "--dir", dir.toString());
      assertThat(down.exit()).as(down.err()).isZero();
      assertThat(Leftovers.find(dir)).as("left running after down").isEmpty();

      // crash again, then up straight away (children may still be stopping): it stops what is left and resumes
      Process second = operator(file, dir, work.resolve("second.log"));
      await().atMost(Duration.ofSeconds(180)).until(() -> Files.readString(work.resolve("second.log")).contains("is up"));
      second.destroyForcibly().waitFor();
      assertThat(Leftovers.find(dir)).isNotEmpty();
      Process third = operator(file, dir, work.resolve("third.log"));
      try {
        await().atMost(Duration.ofSeconds(180)).until(() -> Files.readString(work.resolve("third.log")).contains("is up"));
        JsonObject resumed = new JsonObject(Files.readString(dir.resolve("operator.json")));
        assertThat(resumed.getInteger("primaryPort")).isEqualTo(state.getInteger("primaryPort"));
        assertThat(Psql.query(resumed.getInteger("primaryPort"), "postgres", password, "postgres",
            "SELECT x FROM survived")).isEqualTo("7");
      } finally {
        third.destroy();
        third.waitFor();
      }
    } finally {
      first.destroyForcibly();
      Leftovers.stop(dir);
    }
    assertThat(Leftovers.find(dir)).isEmpty();
  }
}
