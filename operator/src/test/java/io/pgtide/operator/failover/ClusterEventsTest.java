package io.pgtide.operator.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterEventsTest {
  final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  @Test
  void eventsAreKeptPerClusterAndSurviveARestartThroughTheirFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("events.jsonl");
    ClusterEvents events = new ClusterEvents(vertx);
    events.persistTo(file);
    events.emit("local/a", "Warning", "PrimaryLost", "a-0 is gone");
    events.emit("local/b", "Normal", "ScaledUp", "1 -> 2");
    events.emit("local/a", "Normal", "FailoverCompleted", "a-0 -> a-1");
    assertThat(events.history("local/a").stream().map(e -> ((JsonObject) e).getString("reason")))
        .containsExactly("PrimaryLost", "FailoverCompleted");
    assertThat(events.history(null)).hasSize(3);
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.readAllLines(file).size() == 3);

    ClusterEvents afterRestart = new ClusterEvents(vertx);
    afterRestart.persistTo(file);
    assertThat(afterRestart.history("local/a").stream().map(e -> ((JsonObject) e).getString("message")))
        .containsExactly("a-0 is gone", "a-0 -> a-1");
  }

  @Test
  void onlyTheLastOnesAreKeptAndALineCutShortByACrashIsSkipped(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("events.jsonl");
    String lines = IntStream.range(0, ClusterEvents.KEPT + 10).mapToObj(i -> new JsonObject().put("cluster", "local/a")
        .put("type", "Normal").put("reason", "R" + i).put("message", "m").put("at", i).encode())
        .collect(Collectors.joining("\n")) + "\n{\"cluster\":\"local/a\",\"rea";
    Files.writeString(file, lines);
    ClusterEvents events = new ClusterEvents(vertx);
    events.persistTo(file);
    assertThat(events.history(null)).hasSize(ClusterEvents.KEPT);
    assertThat(((JsonObject) events.history(null).getValue(0)).getString("reason")).isEqualTo("R10");
    assertThat(Files.readAllLines(file)).as("the file is trimmed too").hasSize(ClusterEvents.KEPT);
  }

  @Test
  void historyGivenBackIsMergedInTheOrderItHappenedAndNeverTwice() {
    ClusterEvents events = new ClusterEvents(vertx);
    JsonObject earlier = new JsonObject().put("cluster", "shop/a").put("type", "Normal")
        .put("reason", "FailoverCompleted").put("message", "a-0 -> a-1").put("at", 1_000L);
    events.emit("shop/a", "Normal", "Scaled", "2 -> 3");
    events.restore(java.util.List.of(earlier, earlier.copy(), new JsonObject().put("no", "cluster")));
    events.restore(java.util.List.of(earlier));
    assertThat(events.history("shop/a").stream().map(e -> ((JsonObject) e).getString("reason")))
        .containsExactly("FailoverCompleted", "Scaled");
    String longMessage = "x".repeat(5_000);
    events.emit("shop/a", "Warning", "ControllerError", longMessage);
    assertThat(((JsonObject) events.history("shop/a").getValue(2)).getString("message"))
        .hasSize(io.pgtide.common.cluster.ClusterEventRecord.MESSAGE_CHARS + 1);
    events.forget("shop/a");
    assertThat(events.history(null)).isEmpty();
  }
}
