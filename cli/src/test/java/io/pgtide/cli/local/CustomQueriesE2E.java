package io.pgtide.cli.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.operator.LocalClusters;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * monitoring.customQueries in local mode: a queries.yaml's series on every sidecar's /metrics with their labels, a
 * {@code master: true} query on the primary only, a failing query counted while the rest (and the built-in series)
 * go on and told of once per member as a cluster event (the control API's event history and the events file), and
 * an edit of the file taken without a restart.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CustomQueriesE2E {
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final String QUERIES = """
      e2e_kinds:
        query: "SELECT 'a'::text AS kind, 3 AS n UNION ALL SELECT 'b', 4"
        metrics:
          - kind: {usage: LABEL, description: "a kind"}
          - n: {usage: GAUGE, description: "how many of the kind"}
      e2e_primary:
        query: "SELECT 1 AS up"
        master: true
        metrics:
          - up: {usage: GAUGE, description: "1 on the primary"}
      e2e_broken:
        query: "SELECT x FROM no_such_table"
        metrics:
          - x: {usage: COUNTER, description: "never read"}
      """;
  static LocalRunner runner;
  static Path file;

  @BeforeAll
  static void up() throws Exception {
    file = Files.createTempDirectory("pgtide-custom-queries").resolve("queries.yaml");
    Files.writeString(file, QUERIES);
    PostgresCluster resource = LocalClusters.resource("custom", 2, false);
    PostgresClusterSpec.CustomQueriesSpec q = new PostgresClusterSpec.CustomQueriesSpec();
    q.path = file.toString();
    resource.getSpec().monitoring.customQueries.add(q);
    runner = LocalClusters.up(resource);
  }

  @AfterAll
  static void down() {
    if (runner != null) {
      runner.close();
    }
  }

  static String scrape(int port) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  static double errors(String text, String query) {
    Matcher m = Pattern.compile("(?m)^pgtide_custom_query_errors_total\\{[^}]*query=\"" + query + "\"[^}]*} (\\S+)$")
        .matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  @Test
  @Order(1)
  void customSeriesOnEverySidecarThePrimaryOnlyOnesOnThePrimaryAndAFailingQueryCounted() throws Exception {
    String key = runner.clusterKey();
    String primary = runner.core().state().view(key).primary().orElseThrow().id().member();
    Map<String, Integer> ports = runner.infra().sidecarHttpPorts();
    assertThat(ports).hasSize(2);
    for (var e : ports.entrySet()) {
      boolean isPrimary = e.getKey().equals(primary);
      // the first round runs a second after the sidecar starts, then every 15 s
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
        String text = scrape(e.getValue());
        assertThat(text).as(e.getKey()).contains("# HELP e2e_kinds_n how many of the kind\n# TYPE e2e_kinds_n gauge\n")
            .contains("e2e_kinds_n{kind=\"a\"} 3\n").contains("e2e_kinds_n{kind=\"b\"} 4\n");
        assertThat(errors(text, "e2e_broken")).as(e.getKey() + ": the broken query counted").isGreaterThanOrEqualTo(1);
        assertThat(errors(text, "e2e_kinds")).as(e.getKey() + ": the working query never failed").isZero();
        // the built-in figures go on beside it
        assertThat(text).contains("pgtide_up{").doesNotContain("e2e_broken_x");
        if (isPrimary) {
          assertThat(text).contains("e2e_primary_up 1\n");
        }
      });
      if (!isPrimary) {
        // a replica has had rounds enough (the broken query failed at least once) and never ran the primary's
        assertThat(scrape(e.getValue())).doesNotContain("e2e_primary_up");
      }
    }
  }

  @Test
  @Order(2)
  void aFailingQueryIsACustomQueryFailedEventOncePerMemberNotPerSample() throws Exception {
    String key = runner.clusterKey();
    Map<String, Integer> ports = runner.infra().sidecarHttpPorts();
    URI api = URI.create("http://127.0.0.1:" + runner.httpPort() + "/api/events?cluster="
        + java.net.URLEncoder.encode(key, java.nio.charset.StandardCharsets.UTF_8));
    java.util.function.Function<String, java.util.List<JsonObject>> failedEvents = member -> {
      try {
        JsonArray all = new JsonArray(HTTP.send(HttpRequest.newBuilder(api).build(),
            HttpResponse.BodyHandlers.ofString()).body());
        return all.stream().map(JsonObject.class::cast).filter(e -> "CustomQueryFailed".equals(e.getString("reason"))
            && (member == null || e.getString("message").contains(" on " + member + ":"))).toList();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
    for (String member : ports.keySet()) {
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
          .until(() -> !failedEvents.apply(member).isEmpty());
    }
    // two more rounds of the broken query on every member (the sidecars report every second meanwhile)
    Map<String, Double> before = new java.util.HashMap<>();
    for (var e : ports.entrySet()) {
      before.put(e.getKey(), errors(scrape(e.getValue()), "e2e_broken"));
    }
    for (var e : ports.entrySet()) {
      await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1))
          .until(() -> errors(scrape(e.getValue()), "e2e_broken") >= before.get(e.getKey()) + 2);
    }
    String file = Files.readString(runner.dir().resolve("events.jsonl"));
    for (String member : ports.keySet()) {
      java.util.List<JsonObject> events = failedEvents.apply(member);
      assertThat(events).as(member + ": one event for the transition into failure, not one per report")
          .hasSize(1);
      JsonObject event = events.get(0);
      assertThat(event.getString("type")).isEqualTo("Warning");
      assertThat(event.getString("message")).startsWith("custom query e2e_broken failed on " + member + ": ")
          .contains("no_such_table");
      assertThat(file).as("kept in the events file").contains(event.encode());
    }
    assertThat(failedEvents.apply(null)).as("only the broken query fails").hasSize(ports.size())
        .allMatch(e -> e.getString("message").startsWith("custom query e2e_broken "));
  }

  @Test
  @Order(3) // it changes the file the first tests read
  void anEditOfTheFileIsTakenWithoutARestart() throws Exception {
    int port = runner.infra().sidecarHttpPorts().values().iterator().next();
    await().atMost(Duration.ofSeconds(60)).until(() -> scrape(port).contains("e2e_kinds_n{"));
    Files.writeString(file, QUERIES + """
        e2e_added:
          query: "SELECT 7 AS seven"
          metrics:
            - seven: {usage: GAUGE, description: "added while running"}
        """);
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
        .until(() -> scrape(port).contains("e2e_added_seven 7\n"));
    // a broken edit keeps what ran before it, and says so
    Files.writeString(file, "e2e_bad:\n  query: [unclosed\n");
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      String text = scrape(port);
      assertThat(text).containsPattern("(?m)^pgtide_custom_queries_config_valid\\{[^}]*} 0\\.0$")
          .contains("e2e_added_seven 7\n");
    });
  }
}
