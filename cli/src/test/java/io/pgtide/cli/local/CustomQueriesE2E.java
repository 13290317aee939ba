package io.pgtide.cli.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.operator.LocalClusters;
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
 * go on, and an edit of the file taken without a restart.
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
  @Order(2) // it changes the file the first test reads
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
