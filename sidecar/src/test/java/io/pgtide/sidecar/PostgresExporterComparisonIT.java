package io.pgtide.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.local.process.ManagedProcess;
import io.pgtide.local.process.PatroniMember;
import io.pgtide.common.process.Psql;
import io.pgtide.sidecar.users.UserSync;
import io.pgtide.testkit.PatroniClusterExtension;
import io.pgtide.testkit.Pgbench;
import io.pgtide.testkit.ReplayHold;
import io.pgtide.testkit.TestDirs;
import io.pgtide.testkit.TestMachine;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The sidecar's numbers against the reference: Debian's prometheus-postgres-exporter and the sidecar scrape the same
 * primary; counters are compared as rates over the same window under pgbench load (within 10 %), gauges at rest
 * (equal, or within one sample where the two observers' own connections move them). The README's mapping table
 * says which pgtide series matches which exporter series.
 */
class PostgresExporterComparisonIT {
  @RegisterExtension
  static PatroniClusterExtension pg = PatroniClusterExtension.members(2)
      .parameters(Map.of("max_standby_streaming_delay", "-1"));
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static Vertx vertx;
  static ManagedProcess exporter;
  static String sidecarUrl;
  static String exporterUrl;
  static PatroniMember primary;
  static PatroniMember replica;
  static String password;

  @BeforeAll
  static void start() throws Exception {
    Path dir = TestDirs.create("exporter-comparison");
    primary = pg.cluster().awaitLeader(Duration.ofSeconds(60));
    replica = pg.cluster().members().stream().filter(m -> !m.name().equals(primary.name())).findFirst().orElseThrow();
    password = pg.cluster().secrets().superuserPassword();
    Pgbench.init(primary.pgPort(), "postgres", password, 2);

    vertx = Vertx.vertx();
    MemberId id = new MemberId("it", pg.cluster().scope(), primary.name());
    Path tls = CertificateAuthority.create("exporter-it", Duration.ofDays(1))
        .issue(id.toString(), List.of(), Duration.ofDays(1)).write(dir.resolve("tls"));
    int http = TestMachine.freePort();
    // no operator: the bridge stays down and the sidecar keeps sampling and serving /metrics
    SidecarConfig config = new SidecarConfig(id, "127.0.0.1", primary.pgPort(), "postgres", password, "postgres",
        "http://127.0.0.1:" + primary.restPort(), "127.0.0.1", TestMachine.freePort(), tls, http, 1000, 250, 1000,
        SidecarConfig.ResourceSource.PROCESS_TREE, false, null);
    vertx.deployVerticle(new SidecarVerticle(config, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
        p -> new UserSync(vertx, p)::apply)).await();
    sidecarUrl = "http://127.0.0.1:" + http + "/metrics";

    int exporterPort = TestMachine.freePort();
    exporter = TestMachine.get().start("postgres-exporter", List.of("/usr/bin/prometheus-postgres-exporter",
            "--web.listen-address=127.0.0.1:" + exporterPort),
        Map.of("DATA_SOURCE_NAME", "postgresql://postgres:" + password + "@127.0.0.1:" + primary.pgPort()
            + "/postgres?sslmode=disable"), dir, dir.resolve("postgres-exporter.log"));
    exporterUrl = "http://127.0.0.1:" + exporterPort + "/metrics";
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() ->
        sum(scrape(exporterUrl), "pg_stat_database_xact_commit", l -> true) > 0
            && sum(scrape(sidecarUrl), "pgtide_xact_commit_total", l -> true) > 0);
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
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(url).isEqualTo(200);
    return r.body();
  }

  /** The sum of every series of {@code name} whose label set passes {@code labels} (NaN series left out). */
  static double sum(String exposition, String name, Predicate<String> labels) {
    double total = 0;
    for (String line : exposition.split("\n")) {
      if (line.startsWith("#") || !(line.startsWith(name + "{") || line.startsWith(name + " "))) {
        continue;
      }
      String labelSet = line.startsWith(name + "{") ? line.substring(name.length(), line.lastIndexOf('}') + 1) : "";
      double v = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      if (labels.test(labelSet) && !Double.isNaN(v)) {
        total += v;
      }
    }
    return total;
  }

  record Pair(double pgtide, double exporter) {
  }

  /** A pgtide series and the postgres_exporter series it matches, each narrowed to the series with a label. */
  record Match(String pgtide, String pgtideLabel, String exporter, String exporterLabel) {
    Match(String pgtide, String exporter) {
      this(pgtide, "", exporter, "");
    }
  }

  /** Both sides scraped at (nearly) the same moment. */
  static Map<String, Pair> both(Map<String, Match> matches) throws Exception {
    String sidecar = scrape(sidecarUrl);
    String reference = scrape(exporterUrl);
    Map<String, Pair> out = new HashMap<>();
    matches.forEach((key, m) -> out.put(key, new Pair(sum(sidecar, m.pgtide(), l -> l.contains(m.pgtideLabel())),
        sum(reference, m.exporter(), l -> l.contains(m.exporterLabel())))));
    return out;
  }

  @Test
  void counterRatesUnderPgbenchAgreeWithinTenPercent() throws Exception {
    // the rolled-back transactions read a table: PostgreSQL 15 publishes a backend's commit and rollback counts
    // with its table statistics, so transactions that touch no table are counted late (at the next flush)
    Path rollbacks = Files.writeString(TestDirs.create("exporter-rollbacks").resolve("rollback.sql"),
        "BEGIN;\nSELECT count(*) FROM pgbench_branches;\nROLLBACK;\n");
    // temp bytes: sorts that spill to disk at 64 kB of work_mem
    Path spills = Files.writeString(TestDirs.create("exporter-spills").resolve("spill.sql"),
        "SET work_mem = '64kB';\nSELECT count(*) FROM (SELECT g FROM generate_series(1, 20000) g ORDER BY g DESC) s;\n");
    Map<String, Match> counters = Map.of(
        "commits", new Match("pgtide_xact_commit_total", "pg_stat_database_xact_commit"),
        "rollbacks", new Match("pgtide_xact_rollback_total", "pg_stat_database_xact_rollback"),
        "temp bytes", new Match("pgtide_temp_bytes_total", "pg_stat_database_temp_bytes"));
    String pgbench = "pgbench -n -c 2 -j 1 -T 90 -h 127.0.0.1 -p " + primary.pgPort() + " -U postgres postgres";
    List<ManagedProcess> load = List.of(
        TestMachine.get().start("pgbench-tpcb", List.of(pgbench.split(" ")), Map.of("PGPASSWORD", password),
            rollbacks.getParent(), rollbacks.getParent().resolve("tpcb.log")),
        TestMachine.get().start("pgbench-rollback", List.of((pgbench.replace("-c 2", "-c 1") + " -f " + rollbacks)
            .split(" ")), Map.of("PGPASSWORD", password), rollbacks.getParent(), rollbacks.getParent().resolve("rb.log")),
        TestMachine.get().start("pgbench-spill", List.of((pgbench.replace("-c 2", "-c 1") + " -f " + spills)
            .split(" ")), Map.of("PGPASSWORD", password), spills.getParent(), spills.getParent().resolve("spill.log")));
    try {
      // past the start of the load, so both windows see it at full speed
      double rollbacksBefore = both(counters).get("rollbacks").exporter();
      await().atMost(Duration.ofSeconds(30)).until(() -> both(counters).get("rollbacks").exporter()
          > rollbacksBefore + 100);
      Map<String, Pair> first = both(counters);
      long t0 = System.nanoTime();
      // a 40 s window: the sidecar's counters are as of its last 1 s sample, the exporter's as of the scrape
      await().pollDelay(Duration.ofSeconds(40)).atMost(Duration.ofSeconds(41)).until(() -> true);
      Map<String, Pair> second = both(counters);
      double seconds = (System.nanoTime() - t0) / 1e9;
      for (String key : counters.keySet()) {
        double pgtideRate = (second.get(key).pgtide() - first.get(key).pgtide()) / seconds;
        double exporterRate = (second.get(key).exporter() - first.get(key).exporter()) / seconds;
        System.out.printf("EXPORTER-COMPARISON %-10s pgtide %.1f/s exporter %.1f/s%n", key, pgtideRate, exporterRate);
        assertThat(exporterRate).as("%s under load (exporter)", key).isPositive();
        assertThat(pgtideRate).as("%s rate: pgtide vs postgres_exporter", key)
            .isBetween(exporterRate * 0.9, exporterRate * 1.1);
      }
    } finally {
      load.forEach(p -> p.stop(Duration.ofSeconds(5)));
    }
  }

  @Test
  void gaugesAtRestAgree() throws Exception {
    // a held replay on the replica: a lag in bytes that stays put while nothing writes
    try (ReplayHold hold = ReplayHold.on(primary.pgPort(), replica.pgPort(), "postgres", password, "exporter_hold")) {
      Psql.query(primary.pgPort(), "postgres", password, "postgres",
          "CREATE TABLE IF NOT EXISTS exporter_lag AS SELECT g FROM generate_series(1, 50000) g");
      causeOneDeadlock();
      // two idle-in-transaction sessions held open by psql
      try (AutoCloseable idleInTx = holdIdleInTransaction(2)) {
        Map<String, Match> gauges = Map.of(
            "replay lag bytes", new Match("pgtide_standby_replay_lag_bytes", "pg_stat_replication_pg_wal_lsn_diff"),
            "size of postgres", new Match("pgtide_database_size_bytes", "datname=\"postgres\"",
                "pg_database_size_bytes", "datname=\"postgres\""),
            "idle in transaction", new Match("pgtide_connections_idle_in_transaction", "",
                "pg_stat_activity_count", "state=\"idle in transaction\""),
            "deadlocks", new Match("pgtide_deadlocks_total", "pg_stat_database_deadlocks"));
        Map<String, Pair> last = new HashMap<>();
        // the sidecar reads sizes every 15 s: equal once both have read since the writes stopped
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2)).until(() -> {
          last.clear();
          last.putAll(both(gauges));
          return last.values().stream().allMatch(p -> p.pgtide() == p.exporter());
        });
        last.forEach((k, p) -> System.out.printf("EXPORTER-COMPARISON %-20s pgtide %.0f exporter %.0f%n", k,
            p.pgtide(), p.exporter()));
        assertThat(last.get("replay lag bytes").pgtide()).as("a held replay shows").isPositive();
        assertThat(last.get("idle in transaction").pgtide()).isEqualTo(2);
        assertThat(last.get("deadlocks").pgtide()).as("the deadlock caused above").isPositive();
        // active and idle: each observer's own connection is active while it reads, idle otherwise
        Map<String, Pair> states = both(Map.of(
            "active", new Match("pgtide_connections_active", "", "pg_stat_activity_count", "state=\"active\""),
            "idle", new Match("pgtide_connections_idle", "", "pg_stat_activity_count", "state=\"idle\"")));
        states.forEach((k, p) -> assertThat(Math.abs(p.pgtide() - p.exporter())).as("%s: %s", k, p)
            .isLessThanOrEqualTo(2));
      }
    }
  }

  /** A psql session reading statements from its input; ends when the input is closed. */
  static Process session() throws Exception {
    ProcessBuilder pb = new ProcessBuilder("psql", "-X", "-q", "-h", "127.0.0.1", "-p",
        Integer.toString(primary.pgPort()), "-U", "postgres", "postgres");
    pb.environment().put("PGPASSWORD", password);
    return pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
  }

  static void send(Process session, String sql) throws Exception {
    session.getOutputStream().write((sql + "\n").getBytes());
    session.getOutputStream().flush();
  }

  static String su(String sql) {
    return Psql.query(primary.pgPort(), "postgres", password, "postgres", sql);
  }

  /** Two sessions lock two rows in opposite orders; PostgreSQL cancels one after deadlock_timeout (1 s). */
  static void causeOneDeadlock() throws Exception {
    long before = Long.parseLong(su("SELECT sum(deadlocks) FROM pg_stat_database"));
    Process a = session();
    Process b = session();
    try {
      send(a, "BEGIN; UPDATE pgbench_branches SET bbalance = bbalance WHERE bid = 1;");
      send(b, "BEGIN; UPDATE pgbench_tellers SET tbalance = tbalance WHERE tid = 1;");
      await().atMost(Duration.ofSeconds(30)).until(() -> "2".equals(su("SELECT count(*) FROM pg_stat_activity"
          + " WHERE state = 'idle in transaction' AND query LIKE 'UPDATE pgbench_%'")));
      send(a, "UPDATE pgbench_tellers SET tbalance = tbalance WHERE tid = 1;");
      await().atMost(Duration.ofSeconds(30)).until(() -> "1".equals(su("SELECT count(*) FROM pg_stat_activity"
          + " WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE pgbench_tellers%'")));
      send(b, "UPDATE pgbench_branches SET bbalance = bbalance WHERE bid = 1;");
      await().atMost(Duration.ofSeconds(30)).until(() -> "1".equals(su("SELECT count(*) FROM pg_stat_activity"
          + " WHERE state = 'idle in transaction (aborted)'")));
      // a backend publishes its statistics (the deadlock among them) only outside a transaction block
      send(a, "ROLLBACK;");
      send(b, "ROLLBACK;");
      await().atMost(Duration.ofSeconds(30)).until(() ->
          Long.parseLong(su("SELECT sum(deadlocks) FROM pg_stat_database")) > before);
    } finally {
      a.getOutputStream().close();
      b.getOutputStream().close();
      a.waitFor();
      b.waitFor();
    }
  }

  /** {@code n} psql sessions that begin a transaction, read, and wait; closed by ending their input. */
  static AutoCloseable holdIdleInTransaction(int n) throws Exception {
    List<Process> sessions = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      Process p = session();
      send(p, "BEGIN; SELECT 1;");
      sessions.add(p);
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> Integer.parseInt(su(
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'")) == n);
    return () -> {
      for (Process p : sessions) {
        p.getOutputStream().close();
        p.waitFor();
      }
    };
  }
}
