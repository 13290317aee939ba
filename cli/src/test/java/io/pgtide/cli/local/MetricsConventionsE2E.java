package io.pgtide.cli.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.operator.LocalClusters;
import io.pgtide.testkit.TestDirs;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real /metrics of the operator and of every sidecar of a running local cluster: Prometheus' own linter
 * ({@code promtool check metrics}) finds nothing, no sample is NaN, and every series the shipped Grafana dashboard and
 * alert rules name is one of them (and every dashboard expression parses).
 */
class MetricsConventionsE2E {
  static final Path MONITORING = Path.of("..", "manifests", "monitoring");
  static final Pattern PGTIDE_NAME = Pattern.compile("\\bpgtide_[a-z_]+");
  static final HttpClient HTTP = HttpClient.newHttpClient();
  /**
   * PgBouncer's series exist per pool, and a pool only once a client went through the pooler, which this cluster
   * has none of: their names and exposition are PoolerMetricsTest's, their values PoolerIT's and the real tier's.
   */
  static final String POOLER_SERIES = "pgtide_pooler_";
  static LocalRunner runner;

  @BeforeAll
  static void up() {
    PostgresCluster resource = LocalClusters.resource("metrics", 2, false);
    // the autoscaler's series exist only where it runs: between 2 and 3 members, it never acts on an idle cluster
    resource.getSpec().autoscaling.enabled = true;
    resource.getSpec().autoscaling.minReplicas = 2;
    resource.getSpec().autoscaling.maxReplicas = 3;
    // and the backups' only where backups are declared (the first base backup is taken at once)
    resource.getSpec().backup = new PostgresClusterSpec.BackupSpec();
    resource.getSpec().backup.schedule = "0 0 1 1 *";
    resource.getSpec().backup.verifySchedule = "never";
    runner = LocalClusters.up(resource);
    // and the last failover's only after one: the primary's Patroni and PostgreSQL hard-killed, then back as a replica
    String key = runner.clusterKey();
    String primary = runner.core().state().view(key).primary().orElseThrow().id().member();
    runner.infra().cluster().member(primary).killHard();
    await().atMost(Duration.ofSeconds(90)).until(() -> runner.core().failover().lastFailover(key)
        .filter(r -> r.from().equals(primary)).isPresent());
    runner.infra().cluster().member(primary).start();
    await().atMost(Duration.ofSeconds(120)).until(() -> runner.core().state().view(key).healthyReplicas().size() == 1);
  }

  @AfterAll
  static void down() {
    if (runner != null) {
      runner.close();
    }
  }

  /** Every endpoint's exposition, once each has a full set. */
  static Map<String, String> expositions() {
    Map<String, String> urls = new LinkedHashMap<>();
    urls.put("operator", "http://127.0.0.1:" + runner.metricsPort() + "/metrics");
    runner.infra().sidecarHttpPorts().forEach((member, port) ->
        urls.put("sidecar " + member, "http://127.0.0.1:" + port + "/metrics"));
    Map<String, String> out = new LinkedHashMap<>();
    await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(2)).until(() -> {
      out.clear();
      for (var e : urls.entrySet()) {
        out.put(e.getKey(), HTTP.send(HttpRequest.newBuilder(URI.create(e.getValue())).build(),
            HttpResponse.BodyHandlers.ofString()).body());
      }
      // the first base backup done and the archiving lag measured; the sidecars' 15 s readings in
      return out.get("operator").contains("pgtide_backup_last_success_timestamp_seconds{")
          && out.get("operator").contains("pgtide_last_failover_duration_seconds{")
          && out.get("operator").contains("pgtide_backup_archiving_lag_seconds{")
          && out.entrySet().stream().filter(e -> e.getKey().startsWith("sidecar"))
          .allMatch(e -> e.getValue().contains("pgtide_xid_age{") && e.getValue().contains("pgtide_timeline{"));
    });
    return out;
  }

  static String run(Path dir, String stdin, String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    if (stdin != null) {
      p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
    }
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", cmd) + ":\n" + out).isZero();
    return out;
  }

  /** promtool's findings on an exposition ("" when none; it exits non-zero when it has some). */
  static String lint(Path dir, String exposition) throws Exception {
    Process p = new ProcessBuilder("promtool", "check", "metrics").directory(dir.toFile()).redirectErrorStream(true)
        .start();
    p.getOutputStream().write(exposition.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue() == 0).as("promtool's exit status matches its findings: " + out).isEqualTo(out.isBlank());
    return out;
  }

  @Test
  void promtoolFindsNothingAndNoSampleIsNaN() throws Exception {
    Path dir = TestDirs.create("metrics-conventions");
    Map<String, String> problems = new LinkedHashMap<>();
    for (var e : expositions().entrySet()) {
      String lint = lint(dir, e.getValue());
      if (!lint.isBlank()) {
        problems.put(e.getKey() + " (promtool)", lint.strip());
      }
      List<String> nan = e.getValue().lines().filter(l -> !l.startsWith("#") && l.endsWith(" NaN")).toList();
      if (!nan.isEmpty()) {
        problems.put(e.getKey() + " (NaN)", String.join("\n", nan));
      }
    }
    assertThat(problems).isEmpty();
  }

  @Test
  @SuppressWarnings("unchecked")
  void everySeriesTheDashboardAndTheAlertsNameIsExportedAndEveryPanelParses() throws Exception {
    Set<String> exported = new TreeSet<>();
    for (String text : expositions().values()) {
      text.lines().filter(l -> l.startsWith("# TYPE ")).forEach(l -> {
        String family = l.split(" ")[2];
        exported.add(family);
        // a histogram's or summary's series
        List.of("_bucket", "_count", "_sum", "_max").forEach(suffix -> exported.add(family + suffix));
      });
    }
    List<String> panels = new ArrayList<>();
    collectExpressions(new JsonObject(Files.readString(MONITORING.resolve("grafana-dashboard.json"))), panels);
    assertThat(panels).isNotEmpty();
    Map<String, Object> rules = Serialization.unmarshal(Files.readString(MONITORING.resolve("prometheus-rules.yaml")),
        Map.class);
    List<String> alerts = new ArrayList<>();
    for (Map<String, Object> group : (List<Map<String, Object>>) ((Map<String, Object>) rules.get("spec")).get("groups")) {
      for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
        alerts.add(String.valueOf(rule.get("expr")));
      }
    }
    Map<String, String> missing = new LinkedHashMap<>();
    for (String expr : concat(panels, alerts)) {
      Matcher m = PGTIDE_NAME.matcher(expr);
      while (m.find()) {
        if (!exported.contains(m.group()) && !m.group().startsWith(POOLER_SERIES)) {
          missing.put(m.group(), expr);
        }
      }
    }
    assertThat(missing).as("series named by the dashboard or an alert that neither the operator nor a sidecar "
        + "exports (name -> expression)").isEmpty();
    // each panel's expression, with the dashboard's variables filled in, as a recording rule promtool parses
    StringBuilder file = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
    for (int i = 0; i < panels.size(); i++) {
      String expr = panels.get(i).replace("$namespace", "default").replace("$cluster", "metrics")
          .replace("$__rate_interval", "1m").replace("$__interval", "1m");
      file.append("      - record: dashboard_panel_").append(i).append("\n        expr: ")
          .append(new JsonObject().put("e", expr).encode().replaceFirst("^\\{\"e\":", "").replaceFirst("}$", ""))
          .append('\n');
    }
    Path dir = TestDirs.create("dashboard-expressions");
    Files.writeString(dir.resolve("dashboard.yaml"), file);
    assertThat(run(dir, null, "promtool", "check", "rules", "dashboard.yaml")).contains("SUCCESS");
  }

  static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  @SuppressWarnings("unchecked")
  static void collectExpressions(Object node, List<String> out) {
    if (node instanceof JsonObject o) {
      o.forEach(e -> {
        if ("expr".equals(e.getKey()) && e.getValue() instanceof String s) {
          out.add(s);
        } else {
          collectExpressions(e.getValue(), out);
        }
      });
    } else if (node instanceof JsonArray a) {
      a.forEach(x -> collectExpressions(x, out));
    } else if (node instanceof Map<?, ?> m) {
      collectExpressions(new JsonObject((Map<String, Object>) m), out);
    } else if (node instanceof List<?> l) {
      collectExpressions(new JsonArray(l), out);
    }
  }
}
