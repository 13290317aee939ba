package io.pgtide.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtide.common.contract.CustomQueries;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.process.Psql;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.local.process.ManagedProcess;
import io.pgtide.local.process.PatroniMember;
import io.pgtide.sidecar.custom.CustomQueryRunner;
import io.pgtide.sidecar.users.UserSync;
import io.pgtide.testkit.PatroniClusterExtension;
import io.pgtide.testkit.TestDirs;
import io.pgtide.testkit.TestMachine;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Debian's example {@code queries.yaml} (prometheus-postgres-exporter's {@code examples/}), unchanged, in pgtide's
 * sidecar and in the exporter itself against the same PostgreSQL 15 primary: the same metric names, label names,
 * HELP and TYPE, and the same values for the series that stand still (the tables this test made and leaves alone,
 * the postmaster's start, the replication lag of a primary). The exporter's {@code server} label, which it puts on
 * every series of a queries file, is left out. The example's {@code pg_stat_statements} query is refused by
 * PostgreSQL 15 ({@code total_time} is {@code total_exec_time} since 13, and the view needs the extension): neither
 * side exports its series, both say why (pgtide's error counter, the exporter's log).
 */
class CustomQueriesExporterParityIT {
  static final Path EXAMPLE = Path.of("/usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml");
  /** Whose values move between two scrapes (idle seconds of connections), compared by names and labels only. */
  static final Set<String> MOVING = Set.of("pg_process_idle");
  /** Refused by PostgreSQL 15 on both sides. */
  static final String REFUSED = "pg_stat_statements";

  @RegisterExtension
  static PatroniClusterExtension pg = PatroniClusterExtension.members(1);
  static Vertx vertx;
  static ManagedProcess exporter;
  static Path exporterLog;
  static String sidecarUrl;
  static String exporterUrl;
  static List<CustomQueries.Query> queries;

  @BeforeAll
  static void start() throws Exception {
    // the project's setup (scripts/setup.sh) installs prometheus-postgres-exporter, its examples with it
    assertThat(EXAMPLE).as("scripts/setup.sh installs prometheus-postgres-exporter").exists();
    queries = CustomQueries.parse(Files.readString(EXAMPLE), EXAMPLE.toString());
    Path dir = TestDirs.create("custom-queries-parity");
    PatroniMember primary = pg.cluster().awaitLeader(Duration.ofSeconds(60));
    String password = pg.cluster().secrets().superuserPassword();
    // tables nobody touches after this: their statistics stand still (no autovacuum, an explicit vacuum/analyze)
    for (String sql : List.of("CREATE SCHEMA IF NOT EXISTS parity",
        "CREATE TABLE IF NOT EXISTS parity.orders (id int PRIMARY KEY, note text) WITH (autovacuum_enabled = off)",
        "INSERT INTO parity.orders SELECT g, repeat('x', 3000) FROM generate_series(1, 500) g ON CONFLICT DO NOTHING",
        "UPDATE parity.orders SET note = 'y' WHERE id <= 50",
        "DELETE FROM parity.orders WHERE id > 450",
        "CREATE TABLE IF NOT EXISTS parity.empty (id int) WITH (autovacuum_enabled = off)",
        "VACUUM parity.orders", "ANALYZE parity.empty", "SELECT count(*) FROM parity.orders WHERE id = 7")) {
      Psql.query(primary.pgPort(), "postgres", password, "postgres", sql);
    }

    vertx = Vertx.vertx();
    MemberId id = new MemberId("it", pg.cluster().scope(), primary.name());
    Path tls = CertificateAuthority.create("parity-it", Duration.ofDays(1))
        .issue(id.toString(), List.of(), Duration.ofDays(1)).write(dir.resolve("tls"));
    int http = TestMachine.freePort();
    // no operator: the bridge stays down and the sidecar keeps sampling and serving /metrics
    SidecarConfig config = new SidecarConfig(id, "127.0.0.1", primary.pgPort(), "postgres", password, "postgres",
        "http://127.0.0.1:" + primary.restPort(), "127.0.0.1", TestMachine.freePort(), tls, http, 1000, 250, 1000,
        SidecarConfig.ResourceSource.PROCESS_TREE, false, null);
    vertx.deployVerticle(new SidecarVerticle(config, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
        p -> new UserSync(vertx, p)::apply, io.pgtide.sidecar.logs.LogSources.none(),
        new CustomQueryRunner.Settings(List.of(EXAMPLE), 2_000, 10_000))).await();
    sidecarUrl = "http://127.0.0.1:" + http + "/metrics";

    int exporterPort = TestMachine.freePort();
    exporterLog = dir.resolve("postgres-exporter.log");
    // only the queries file: the exporter's built-in series are not what is compared here
    exporter = TestMachine.get().start("postgres-exporter", List.of("/usr/bin/prometheus-postgres-exporter",
            "--web.listen-address=127.0.0.1:" + exporterPort, "--extend.query-path=" + EXAMPLE,
            "--disable-default-metrics", "--disable-settings-metrics"),
        Map.of("DATA_SOURCE_NAME", "postgresql://postgres:" + password + "@127.0.0.1:" + primary.pgPort()
            + "/postgres?sslmode=disable"), dir, exporterLog);
    exporterUrl = "http://127.0.0.1:" + exporterPort + "/metrics";
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() ->
        Exposition.parse(scrape(exporterUrl)).families.containsKey("pg_postmaster_start_time_seconds")
            && Exposition.parse(scrape(sidecarUrl)).families.containsKey("pg_postmaster_start_time_seconds"));
  }

  @AfterAll
  static void stop() {
    if (exporter != null) {
      exporter.stop(Duration.ofSeconds(5));
    }
    if (vertx != null) {
      vertx.close().await();
    }
  }

  static String scrape(String url) throws Exception {
    return PostgresExporterComparisonIT.scrape(url);
  }

  /** The families of the example's queries, by their prefix (a family {@code <prefix>_<column>}). */
  static Map<String, Exposition.Family> ofQueries(Exposition e, boolean includeMoving) {
    Map<String, Exposition.Family> out = new TreeMap<>();
    e.families.forEach((name, f) -> {
      for (CustomQueries.Query q : queries) {
        if (name.startsWith(q.prefix() + "_") && (includeMoving || !MOVING.contains(q.prefix()))
            && !f.samples.isEmpty()) {
          out.put(name, f);
        }
      }
    });
    return out;
  }

  @Test
  void debiansExampleLoadsInBoth() throws Exception {
    assertThat(queries).extracting(CustomQueries.Query::prefix).containsExactly("pg_replication", "pg_postmaster",
        "pg_stat_user_tables", "pg_statio_user_tables", "pg_stat_statements", "pg_process_idle");
    Exposition exporterSide = Exposition.parse(scrape(exporterUrl));
    assertThat(exporterSide.samples("pg_exporter_user_queries_load_error"))
        .as("the exporter loaded the file").allMatch(s -> s.value() == 0.0).isNotEmpty();
    Exposition pgtide = Exposition.parse(scrape(sidecarUrl));
    assertThat(pgtide.samples("pgtide_custom_queries_config_valid")).singleElement()
        .satisfies(s -> assertThat(s.value()).isEqualTo(1.0));
  }

  @Test
  void sameNamesLabelsHelpAndTypes() throws Exception {
    String exporterText = scrape(exporterUrl);
    String pgtideText = scrape(sidecarUrl);
    Map<String, Exposition.Family> exporterSide = ofQueries(Exposition.parse(exporterText), true);
    Map<String, Exposition.Family> pgtide = ofQueries(Exposition.parse(pgtideText), true);
    System.out.println("CUSTOM-PARITY families: " + exporterSide.keySet());
    for (String text : List.of(exporterText, pgtideText)) {
      System.out.println("CUSTOM-PARITY e.g. " + text.lines().filter(l -> l.startsWith("pg_process_idle_seconds_bucket")
          || l.startsWith("pg_stat_user_tables_n_live_tup{")).limit(2).collect(Collectors.joining(" | ")));
    }
    assertThat(pgtide.keySet()).as("metric names").isEqualTo(exporterSide.keySet());
    // every query of the example but the refused one exports something, the histogram among them
    assertThat(pgtide.keySet()).contains("pg_replication_lag", "pg_postmaster_start_time_seconds",
        "pg_stat_user_tables_n_live_tup", "pg_statio_user_tables_heap_blks_hit", "pg_process_idle_seconds")
        .noneMatch(n -> n.startsWith(REFUSED + "_"));
    for (String name : exporterSide.keySet()) {
      Exposition.Family ours = pgtide.get(name);
      Exposition.Family theirs = exporterSide.get(name);
      assertThat(ours.type).as(name + " TYPE").isEqualTo(theirs.type);
      assertThat(ours.help).as(name + " HELP").isEqualTo(theirs.help);
      assertThat(ours.labelNames()).as(name + " label names by series name").isEqualTo(theirs.labelNames());
    }
    // the histogram's buckets: the same bounds
    assertThat(pgtide.get("pg_process_idle_seconds").labelValues("le"))
        .isEqualTo(exporterSide.get("pg_process_idle_seconds").labelValues("le"))
        .contains("1", "300", "+Inf");
  }

  @Test
  void sameValuesForTheSeriesThatStandStill() {
    Map<String, Double> last = new TreeMap<>();
    Map<String, Double> theirs = new TreeMap<>();
    // pgtide's figures are as of its last round (every 2 s here); equal once both have read the same statistics
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2)).untilAsserted(() -> {
      last.clear();
      theirs.clear();
      last.putAll(values(ofQueries(Exposition.parse(scrape(sidecarUrl)), false)));
      theirs.putAll(values(ofQueries(Exposition.parse(scrape(exporterUrl)), false)));
      assertThat(differences(last, theirs)).as("series whose values differ (pgtide vs exporter)").isEmpty();
    });
    System.out.println("CUSTOM-PARITY equal values: " + last.size() + " series, e.g. "
        + last.entrySet().stream().filter(e -> e.getKey().contains("parity") || !e.getKey().contains("{"))
        .limit(8).map(String::valueOf).collect(Collectors.joining(", ")));
    assertThat(last).as("the series compared").containsKey("pg_postmaster_start_time_seconds")
        .containsEntry("pg_replication_lag", 0.0)
        .containsEntry("pg_stat_user_tables_n_live_tup{datname=postgres,relname=orders,schemaname=parity}", 450.0)
        .containsEntry("pg_stat_user_tables_vacuum_count{datname=postgres,relname=orders,schemaname=parity}", 1.0)
        .containsKey("pg_stat_user_tables_last_vacuum{datname=postgres,relname=orders,schemaname=parity}");
    assertThat(last.get("pg_stat_user_tables_last_vacuum{datname=postgres,relname=orders,schemaname=parity}"))
        .as("a time in whole Unix seconds").isGreaterThan(1.7e9).isEqualTo(Math.rint(
            last.get("pg_stat_user_tables_last_vacuum{datname=postgres,relname=orders,schemaname=parity}")));
  }

  @Test
  void aQueryPostgres15RefusesIsLeftOutByBothAndSaidByBoth() throws Exception {
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      Exposition pgtide = Exposition.parse(scrape(sidecarUrl));
      assertThat(pgtide.samples("pgtide_custom_query_errors_total"))
          .filteredOn(s -> s.labels().get("query").equals(REFUSED)).singleElement()
          .satisfies(s -> assertThat(s.value()).isPositive());
      assertThat(pgtide.samples("pgtide_custom_query_errors_total"))
          .filteredOn(s -> !s.labels().get("query").equals(REFUSED))
          .as("every other query of the example works").allMatch(s -> s.value() == 0.0);
      scrape(exporterUrl); // the exporter runs the queries at each scrape, and logs what fails
      String log = Files.readString(exporterLog);
      assertThat(log).contains(REFUSED).contains("does not exist");
    });
    String log = Files.readString(exporterLog);
    System.out.println("CUSTOM-PARITY exporter on " + REFUSED + ": " + log.lines().filter(l -> l.contains(REFUSED))
        .findFirst().orElse(""));
  }

  /** The series whose value differs, or that one side has and the other has not. */
  static Map<String, String> differences(Map<String, Double> pgtide, Map<String, Double> exporter) {
    Map<String, String> out = new TreeMap<>();
    Set<String> series = new TreeSet<>(pgtide.keySet());
    series.addAll(exporter.keySet());
    for (String s : series) {
      if (!java.util.Objects.equals(pgtide.get(s), exporter.get(s))) {
        out.put(s, "pgtide " + pgtide.get(s) + ", exporter " + exporter.get(s));
      }
    }
    return out;
  }

  /** Every sample by its series ({@code name{label=value,...}}, labels sorted, without {@code server}). */
  static Map<String, Double> values(Map<String, Exposition.Family> families) {
    Map<String, Double> out = new TreeMap<>();
    families.values().forEach(f -> f.samples.forEach(s -> out.put(s.series(), s.value())));
    return out;
  }

  /** Prometheus' text format, as far as these two write it; the exporter's {@code server} label dropped. */
  static final class Exposition {
    record Sample(String name, Map<String, String> labels, double value) {
      String series() {
        return labels.isEmpty() ? name : name + labels.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.joining(",", "{", "}"));
      }
    }

    static final class Family {
      String help;
      String type;
      final List<Sample> samples = new ArrayList<>();

      /** The label names of the series of each sample name (a histogram's _bucket, _sum, _count apart). */
      Map<String, Set<Set<String>>> labelNames() {
        Map<String, Set<Set<String>>> out = new TreeMap<>();
        samples.forEach(s -> out.computeIfAbsent(s.name(), k -> new java.util.HashSet<>()).add(s.labels().keySet()));
        return out;
      }

      Set<String> labelValues(String label) {
        return samples.stream().map(s -> s.labels().get(label)).filter(java.util.Objects::nonNull)
            .collect(Collectors.toCollection(TreeSet::new));
      }
    }

    final Map<String, Family> families = new LinkedHashMap<>();

    /** The samples named {@code name}, whichever family they came under. */
    List<Sample> samples(String name) {
      return families.values().stream().flatMap(f -> f.samples.stream()).filter(s -> s.name().equals(name)).toList();
    }

    static Exposition parse(String text) {
      Exposition e = new Exposition();
      Family current = null;
      for (String line : text.split("\n")) {
        if (line.isBlank()) {
          continue;
        }
        if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
          String rest = line.substring(7);
          int sp = rest.indexOf(' ');
          String name = sp < 0 ? rest : rest.substring(0, sp);
          String value = sp < 0 ? "" : rest.substring(sp + 1);
          current = e.families.computeIfAbsent(name, k -> new Family());
          if (line.startsWith("# HELP ")) {
            current.help = value.replace("\\n", "\n").replace("\\\\", "\\");
          } else {
            current.type = value;
          }
          continue;
        }
        if (line.startsWith("#")) {
          continue;
        }
        Sample s = sample(line);
        Family f = current;
        if (f == null || !(s.name().equals(nameOf(e, f)) || s.name().startsWith(nameOf(e, f) + "_"))) {
          f = e.families.computeIfAbsent(s.name(), k -> new Family());
        }
        f.samples.add(s);
      }
      return e;
    }

    private static String nameOf(Exposition e, Family f) {
      return e.families.entrySet().stream().filter(x -> x.getValue() == f).findFirst().orElseThrow().getKey();
    }

    static Sample sample(String line) {
      int brace = line.indexOf('{');
      int space = line.indexOf(' ');
      Map<String, String> labels = new TreeMap<>();
      String name;
      int valueAt;
      if (brace >= 0 && brace < space) {
        name = line.substring(0, brace);
        int i = brace + 1;
        while (line.charAt(i) != '}') {
          int eq = line.indexOf('=', i);
          String label = line.substring(i, eq).strip();
          StringBuilder value = new StringBuilder();
          int j = eq + 2; // past ="
          while (line.charAt(j) != '"') {
            char c = line.charAt(j);
            if (c == '\\') {
              char n = line.charAt(++j);
              value.append(n == 'n' ? '\n' : n);
            } else {
              value.append(c);
            }
            j++;
          }
          if (!label.equals("server")) {
            labels.put(label, value.toString());
          }
          i = j + 1;
          if (line.charAt(i) == ',') {
            i++;
          }
        }
        valueAt = i + 2;
      } else {
        name = line.substring(0, space);
        valueAt = space + 1;
      }
      String value = line.substring(valueAt).strip().split(" ")[0];
      return new Sample(name, labels, switch (value) {
        case "+Inf" -> Double.POSITIVE_INFINITY;
        case "-Inf" -> Double.NEGATIVE_INFINITY;
        default -> Double.parseDouble(value);
      });
    }
  }
}
