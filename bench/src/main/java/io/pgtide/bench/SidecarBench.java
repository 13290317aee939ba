package io.pgtide.bench;

import io.pgtide.testkit.TestMachine;
import io.pgtide.common.contract.MemberId;
import io.pgtide.local.process.JavaCommand;
import io.pgtide.local.process.ManagedProcess;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.operator.hub.BridgeHub;
import io.pgtide.operator.state.ClusterState;
import io.pgtide.testkit.PostgresInstance;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The sidecar at 1 s sampling vs Debian's prometheus-postgres-exporter scraped every 1 s, side by side against the
 * same PostgreSQL under pgbench. Each connects as its own role so pg_stat_statements counts their queries apart.
 */
final class SidecarBench {
  /** The JVM flags of Dockerfile.sidecar. */
  static final List<String> SIDECAR_JVM = io.pgtide.sidecar.SidecarMain.JVM_FLAGS;

  private SidecarBench() {
  }

  /** The shipped sidecar jar with the Dockerfile's flags (not the bench's classpath, which holds the operator too). */
  static List<String> sidecarCommand() throws Exception {
    Path benchJar = Path.of(SidecarBench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    Path jar = benchJar.getParent().resolve("../../sidecar/target/pgtide-sidecar.jar").normalize();
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: build the sidecar module first");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(SIDECAR_JVM);
    String extra = System.getProperty("pgtide.bench.sidecarJvm", "");
    if (!extra.isBlank()) {
      cmd.addAll(List.of(extra.trim().split("\\s+")));
    }
    cmd.addAll(List.of("-jar", jar.toString()));
    return cmd;
  }

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 60;
    int steadyAfter = Math.max(seconds + 10, args.length > 1 ? Integer.parseInt(args[1]) : 240);
    Path dir = Files.createTempDirectory("pgtide-sidecar-bench");
    io.pgtide.common.process.OsUser.makeTraversable(dir);
    try (PostgresInstance pg = PostgresInstance.start(dir.resolve("pg"))) {
      prepare(pg);

      Vertx vertx = Vertx.vertx();
      CertificateAuthority ca = CertificateAuthority.create("bench", Duration.ofDays(1));
      int hubPort = TestMachine.freePort();
      ClusterState state = new ClusterState(3_000);
      vertx.deployVerticle(state).await();
      vertx.deployVerticle(new BridgeHub(ca.issue("op", List.of("127.0.0.1"), Duration.ofDays(1)), "127.0.0.1",
          hubPort, 3_000)).await();
      MemberId id = new MemberId("bench", "pg", "pg-0");
      Path tls = ca.issue(id.toString(), List.of(), Duration.ofDays(1)).write(dir.resolve("tls"));
      int sidecarHttp = TestMachine.freePort();
      ManagedProcess sidecar = startSidecar(dir, pg, hubPort, tls, sidecarHttp);
      int exporterPort = TestMachine.freePort();
      ManagedProcess exporter = startExporter(dir, pg, exporterPort);
      ManagedProcess load = TestMachine.get().start("pgbench", List.of("pgbench", "-c", "4", "-j", "2", "-T",
          "" + (steadyAfter + seconds + 30), "-h", "127.0.0.1", "-p", "" + pg.port(), "-U", "postgres", "postgres"),
          Map.of("PGPASSWORD", pg.password()), dir, dir.resolve("pgbench.log"));
      try {
        HttpClient http = HttpClient.newHttpClient();
        Thread.sleep(10_000); // both start
        pg.query("SELECT pg_stat_statements_reset()");
        // CPU in two windows: the first one after start (the JVM still compiles what a sample runs) and one after
        // steadyAfter seconds, when a sidecar that runs for days has long finished warming up
        long startedAt = System.currentTimeMillis();
        long[] marks = {startedAt, startedAt + seconds * 1000L, startedAt + (steadyAfter - 10) * 1000L,
            startedAt + (steadyAfter - 10 + seconds) * 1000L};
        double[][] cpu = new double[2][marks.length];
        int mark = 0;
        List<Double> scrapeMs = new ArrayList<>();
        int scrapes = 0;
        long maxSidecarRss = 0;
        long maxExporterRss = 0;
        while (mark < marks.length) {
          if (System.currentTimeMillis() >= marks[mark]) {
            cpu[0][mark] = ProcStats.cpuSeconds(sidecar.pid());
            cpu[1][mark] = ProcStats.cpuSeconds(exporter.pid());
            mark++;
            continue;
          }
          long t0 = System.nanoTime();
          http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + exporterPort + "/metrics")).build(),
              HttpResponse.BodyHandlers.ofString());
          scrapeMs.add((System.nanoTime() - t0) / 1e6);
          scrapes++;
          maxSidecarRss = Math.max(maxSidecarRss, ProcStats.rssKb(sidecar.pid()));
          maxExporterRss = Math.max(maxExporterRss, ProcStats.rssKb(exporter.pid()));
          Thread.sleep(Math.max(0, 1000 - (System.nanoTime() - t0) / 1_000_000));
        }
        double elapsed = (System.currentTimeMillis() - startedAt) / 1000.0;
        String calls = pg.query("SELECT r.rolname || '=' || sum(s.calls) FROM pg_stat_statements s "
            + "JOIN pg_roles r ON r.oid = s.userid WHERE r.rolname IN ('bench_sidecar', 'bench_exporter') "
            + "GROUP BY r.rolname ORDER BY 1");
        double sidecarQueries = callsOf(calls, "bench_sidecar") / elapsed;
        double exporterQueries = callsOf(calls, "bench_exporter") / (double) scrapes;
        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecarHttp + "/metrics"))
            .build(), HttpResponse.BodyHandlers.ofString()).body();
        Collections.sort(scrapeMs);
        Table t = table(seconds, steadyAfter, cpu, maxSidecarRss, maxExporterRss, sidecarQueries, exporterQueries,
            metrics, scrapeMs);
        t.print("sidecar");
        System.out.println("(sidecar queries/sample count every statement it sends per second: the report's queries "
            + "and the 250 ms role watch; its new-connection probe sends no query)");
      } finally {
        load.stop(Duration.ofSeconds(5));
        sidecar.stop(Duration.ofSeconds(5));
        exporter.stop(Duration.ofSeconds(5));
        vertx.close().await();
      }
    }
  }

  /** pg_stat_statements to count each side's queries, a role for each, and pgbench's tables. */
  private static void prepare(PostgresInstance pg) throws Exception {
    pg.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    pg.query("CREATE ROLE bench_sidecar LOGIN SUPERUSER PASSWORD 'bench-sidecar'");
    pg.query("CREATE ROLE bench_exporter LOGIN SUPERUSER PASSWORD 'bench-exporter'");
    io.pgtide.testkit.Pgbench.init(pg.port(), "postgres", pg.password(), 5);
  }

  private static ManagedProcess startExporter(Path dir, PostgresInstance pg, int exporterPort) throws Exception {
    return TestMachine.get().start("exporter", List.of("/usr/bin/prometheus-postgres-exporter",
        "--web.listen-address=127.0.0.1:" + exporterPort), Map.of("DATA_SOURCE_NAME",
        "postgresql://bench_exporter:bench-exporter@127.0.0.1:" + pg.port() + "/postgres?sslmode=disable"),
        dir, dir.resolve("exporter.log"));
  }

  private static ManagedProcess startSidecar(Path dir, PostgresInstance pg, int hubPort, Path tls, int sidecarHttp)
      throws Exception {
    return TestMachine.get().start("sidecar", sidecarCommand(), Map.ofEntries(
        Map.entry("PGTIDE_NAMESPACE", "bench"), Map.entry("PGTIDE_CLUSTER", "pg"), Map.entry("PGTIDE_MEMBER", "pg-0"),
        Map.entry("PGTIDE_PG_PORT", "" + pg.port()), Map.entry("PGTIDE_PG_USER", "bench_sidecar"),
        Map.entry("PGTIDE_PG_PASSWORD", "bench-sidecar"), Map.entry("PGTIDE_PATRONI_URL", ""),
        Map.entry("PGTIDE_OPERATOR_HOST", "127.0.0.1"), Map.entry("PGTIDE_OPERATOR_PORT", "" + hubPort),
        Map.entry("PGTIDE_TLS_DIR", tls.toString()), Map.entry("PGTIDE_HTTP_PORT", "" + sidecarHttp)),
        dir, dir.resolve("sidecar.log"));
  }

  /** The table: RSS, CPU in the first minute and when steady, queries per sample or scrape, sample times. */
  private static Table table(int seconds, int steadyAfter, double[][] cpu, long maxSidecarRss, long maxExporterRss,
                             double sidecarQueries, double exporterQueries, String metrics, List<Double> scrapeMs) {
    double minutes = seconds / 60.0;
    Table t = new Table("Sidecar (1 s samples) vs prometheus-postgres-exporter (1 s scrapes), same PostgreSQL 15 "
        + "under pgbench -c 4; CPU over " + seconds + " s from 10 s after start and from " + steadyAfter
        + " s after start; sidecar JVM: " + String.join(" ", SIDECAR_JVM),
        "", "RSS max MB", "CPU s/min, first minute", "CPU s/min, steady", "queries per sample/scrape",
        "duration p50 ms", "duration p99 ms");
    t.row("pgtide-sidecar", maxSidecarRss / 1024.0, twoDecimals((cpu[0][1] - cpu[0][0]) / minutes),
        twoDecimals((cpu[0][3] - cpu[0][2]) / minutes), sidecarQueries, quantile(metrics, "0.5"),
        quantile(metrics, "0.99"));
    t.row("prometheus-postgres-exporter", maxExporterRss / 1024.0, twoDecimals((cpu[1][1] - cpu[1][0]) / minutes),
        twoDecimals((cpu[1][3] - cpu[1][2]) / minutes), exporterQueries, pct(scrapeMs, 0.5), pct(scrapeMs, 0.99));
    return t;
  }

  static String twoDecimals(double value) {
    return String.format(java.util.Locale.ROOT, "%.2f", value);
  }

  static long callsOf(String rows, String role) {
    for (String line : rows.split("\n")) {
      if (line.startsWith(role + "=")) {
        return Long.parseLong(line.substring(role.length() + 1).trim());
      }
    }
    return 0;
  }

  static double quantile(String metrics, String q) {
    Matcher m = Pattern.compile("pgtide_sample_duration_seconds\\{[^}]*quantile=\"" + Pattern.quote(q)
        + "\"[^}]*} ([0-9.eE+-]+)").matcher(metrics);
    return m.find() ? Double.parseDouble(m.group(1)) * 1000 : Double.NaN;
  }

  static double pct(List<Double> sorted, double p) {
    return sorted.isEmpty() ? Double.NaN : sorted.get((int) Math.min(sorted.size() - 1, Math.floor(p * sorted.size())));
  }
}
