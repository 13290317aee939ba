package io.pgtide.cli.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgtide.cli.PgtideCliAccess;
import io.pgtide.common.process.Psql;
import io.pgtide.operator.LocalClusters;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * `pgtide logs` in local mode: a failing statement is in the merged stream within 2 s with its SQLSTATE, Patroni's
 * lines are there too, a flood of errors leaves every sidecar's buffer at its cap, and {@code -f} follows across a
 * failover.
 */
class LogsE2E {

  static List<JsonObject> lines(LocalRunner runner, String... more) {
    String[] args = new String[4 + more.length];
    args[0] = "logs";
    args[1] = "--dir";
    args[2] = runner.dir().toString();
    args[3] = "-o=json";
    System.arraycopy(more, 0, args, 4, more.length);
    PgtideCliAccess.Output run = PgtideCliAccess.runCapturing(args);
    assertThat(run.exit()).as(run.err()).isZero();
    return run.out().lines().filter(l -> l.startsWith("{")).map(JsonObject::new).toList();
  }

  static Optional<JsonObject> find(List<JsonObject> lines, String text) {
    return lines.stream().filter(l -> l.getString("message", "").contains(text)).findFirst();
  }

  @Test
  void aFailingStatementIsInLogsWithinTwoSecondsAndAFloodStaysBounded() throws Exception {
    LocalRunner runner = LocalClusters.up(LocalClusters.resource("logs", 2, false));
    try {
      String password = LocalClusters.superuserPassword(runner);
      String primary = runner.core().state().view(runner.clusterKey()).primary().orElseThrow().id().member();

      // the csvlog of every member is where local mode puts it, and the sidecars read it
      assertThat(Files.list(runner.dir().resolve("logs").resolve("postgresql-" + primary))
          .anyMatch(p -> p.toString().endsWith(".csv"))).isTrue();

      // warm: the first in-process CLI call loads its classes (over a second on a loaded 2-core machine), which is
      // not what the 2 s bound is about
      lines(runner, "--limit", "1");
      String table = "no_such_table_" + System.nanoTime();
      assertThatThrownBy(() -> Psql.query(runner.primaryPort(), "postgres", password, "postgres",
          "SELECT * FROM " + table)).hasMessageContaining("does not exist");
      long failedAt = System.nanoTime();
      long failedAtWall = System.currentTimeMillis();
      JsonObject seen = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
          .until(() -> {
            long t = System.nanoTime();
            Optional<JsonObject> found = find(lines(runner, "--severity", "ERROR", "--since", "5m"), table);
            System.out.println("  one `pgtide logs` took " + (System.nanoTime() - t) / 1_000_000 + " ms");
            return found;
          }, Optional::isPresent)
          .orElseThrow();
      long ms = (System.nanoTime() - failedAt) / 1_000_000;
      System.out.println("the failing statement was in `pgtide logs` after " + ms + " ms (PostgreSQL logged it "
          + (failedAtWall - seen.getLong("time")) + " ms before psql returned; load " + java.lang.management
          .ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage() + ")");
      assertThat(ms).as("ms until the error was in logs").isLessThanOrEqualTo(2_000);
      assertThat(seen.getString("sqlstate")).isEqualTo("42P01");
      assertThat(seen.getString("severity")).isEqualTo("ERROR");
      assertThat(seen.getString("member")).isEqualTo(primary);
      assertThat(seen.getString("user")).isEqualTo("postgres");
      assertThat(seen.getString("database")).isEqualTo("postgres");
      assertThat(seen.encode()).as("the statement's text is never carried").doesNotContain("SELECT *");

      // one member, text output; and Patroni's own lines
      PgtideCliAccess.Output text = PgtideCliAccess.runCapturing("logs", "--dir", runner.dir().toString(), primary,
          "--postgres", "--severity", "ERROR");
      assertThat(text.exit()).as(text.err()).isZero();
      assertThat(text.out()).contains(primary + " postgres ERROR 42P01 postgres@postgres: relation \"" + table
          + "\" does not exist");
      List<JsonObject> patroni = lines(runner, "--patroni");
      assertThat(patroni).isNotEmpty().allSatisfy(l -> assertThat(l.getString("source")).isEqualTo("patroni"));
      assertThat(patroni).extracting(l -> l.getString("member")).contains(primary);
      // the lines are in time order
      List<JsonObject> all = lines(runner, "--since", "10m");
      for (int i = 1; i < all.size(); i++) {
        assertThat(all.get(i).getLong("time")).isGreaterThanOrEqualTo(all.get(i - 1).getLong("time"));
      }

      // a flood: 20,000 failing statements (about 4 MB of csvlog), then a marker
      Path flood = runner.dir().resolve("flood.sql");
      StringBuilder sql = new StringBuilder();
      for (int i = 0; i < 20_000; i++) {
        sql.append("SELECT 1/0 AS flood_").append(i).append(";\n");
      }
      sql.append("SELECT * FROM flood_end_marker;\n");
      Files.writeString(flood, sql);
      ProcessBuilder pb = new ProcessBuilder("psql", "-X", "-q", "-h", "127.0.0.1", "-p",
          Integer.toString(runner.primaryPort()), "-U", "postgres", "-d", "postgres", "-f", flood.toString())
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
      pb.environment().put("PGPASSWORD", password);
      assertThat(pb.start().waitFor()).isZero();
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
          .until(() -> find(lines(runner, "--severity", "ERROR", "--limit", "10"), "flood_end_marker").isPresent());

      String token = Files.readString(runner.dir().resolve("secrets").resolve(LocalControlAuthorizer.TOKEN_FILE))
          .strip();
      String url = "http://127.0.0.1:" + runner.httpPort() + "/api/clusters/" + runner.clusterKey() + "/logs?limit=10000&source=postgres";
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> open = http.send(HttpRequest.newBuilder(URI.create(url)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(open.statusCode()).as("logs need the local token").isEqualTo(401);
      HttpResponse<String> read = http.send(HttpRequest.newBuilder(URI.create(url))
          .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
      JsonObject answer = new JsonObject(read.body());
      assertThat(answer.getJsonObject("members").fieldNames()).as(answer.getJsonObject("members").encode())
          .contains(primary);
      long fromPrimary = answer.getJsonArray("lines").stream()
          .filter(o -> primary.equals(((JsonObject) o).getString("member"))).count();
      JsonObject member = answer.getJsonObject("members").getJsonObject(primary);
      System.out.println("after the flood the primary's sidecar answers with " + fromPrimary + " lines (its answer budget) and let "
          + member.getLong("dropped") + " go");
      assertThat(fromPrimary).isLessThanOrEqualTo(5_000);
      assertThat(member.getLong("dropped")).isGreaterThan(10_000L);
      assertThat(member.getJsonObject("sources").getString("postgres")).isEqualTo("ok");

      // the dashboard's errors: codes and times, no message
      JsonObject errors = new JsonObject(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + runner.httpPort() + "/api/clusters/" + runner.clusterKey() + "/errors")).build(), HttpResponse.BodyHandlers.ofString())
          .body());
      assertThat(errors.getJsonArray(primary)).isNotEmpty();
      assertThat(errors.getJsonArray(primary).getJsonObject(0).getString("sqlstate")).isEqualTo("42P01");
      assertThat(errors.encode()).doesNotContain("flood_end_marker");

      followingSurvivesAFailover(runner, primary, password);
    } finally {
      runner.close();
    }
  }

  /**
   * {@code pgtide logs -f}, a process of its own as a DBA runs it, keeps printing across a failover: a failing
   * statement on the new primary reaches it, named by the new primary's member.
   */
  static void followingSurvivesAFailover(LocalRunner runner, String primary, String password) throws Exception {
    Path out = runner.dir().resolve("logs-follow.out");
    Process follow = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp",
        System.getProperty("java.class.path"), "io.pgtide.cli.PgtideCli", "logs", "--dir", runner.dir().toString(),
        "-f", "-o=json", "--severity", "ERROR", "--limit", "10")
        .redirectOutput(out.toFile()).redirectError(runner.dir().resolve("logs-follow.err").toFile()).start();
    try {
      String before = "before_failover_" + System.nanoTime();
      assertThatThrownBy(() -> Psql.query(runner.primaryPort(), "postgres", password, "postgres",
          "SELECT * FROM " + before)).hasMessageContaining("does not exist");
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .until(() -> Files.readString(out).contains(before));

      runner.infra().cluster().member(primary).killHard();
      String next = await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
          .until(() -> runner.core().state().view(runner.clusterKey()).primary().map(m -> m.id().member())
              .filter(m -> !m.equals(primary)), Optional::isPresent).orElseThrow();
      String after = "after_failover_" + System.nanoTime();
      await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
        try {
          Psql.query(runner.primaryPort(), "postgres", password, "postgres", "SELECT * FROM " + after);
          return false;
        } catch (RuntimeException e) {
          return e.getMessage().contains("does not exist"); // it reached the new primary, which refused it
        }
      });
      JsonObject seen = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
          .until(() -> Files.readString(out).lines().filter(l -> l.startsWith("{") && l.contains(after))
              .map(JsonObject::new).findFirst(), Optional::isPresent).orElseThrow();
      assertThat(follow.isAlive()).as("following goes on across the failover").isTrue();
      assertThat(seen.getString("member")).isEqualTo(next);
      assertThat(seen.getString("sqlstate")).isEqualTo("42P01");
      System.out.println("`pgtide logs -f` followed the failover from " + primary + " to " + next);
    } finally {
      follow.destroy();
      if (!follow.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        follow.destroyForcibly();
      }
    }
  }
}
