package io.pgtide.bench;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgtide.cli.local.LocalRunner;
import io.pgtide.common.crd.PostgresCluster;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.process.OsUser;
import io.pgtide.common.process.Psql;
import io.pgtide.testkit.TestMachine;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.SslMode;
import io.vertx.sqlclient.Row;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Issue #32 part 4: Debian's pgbench with 500 clients through local mode's PgBouncer ({@code spec.pooler},
 * transaction pooling) against a primary with {@code max_connections=100}, compared with 500 and 90 clients
 * straight to the primary, and the pooler with TLS from the client ({@code sslmode=require}) against without.
 * TPS, p99 latency from pgbench's per-transaction log ({@code -l}) and the PostgreSQL client backends in use (the
 * maximum of {@code pg_stat_activity} sampled every 250 ms during each run).
 */
final class PoolerBench {
  static final String PGBENCH = "/usr/lib/postgresql/15/bin/pgbench";
  static final String USER = "app";
  static final String DATABASE = "shop";
  static final int POOL_SIZE = 20;
  static final int MAX_CONNECTIONS = 100;

  private PoolerBench() {
  }

  record Run(String name, String path, int clients, String sslmode, int seconds, String tps, String avgMs,
             String p99Ms, long transactions, String failed, int maxBackends, int maxAppBackends) {
  }

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    int clients = args.length > 1 ? Integer.parseInt(args[1]) : 500;
    int directBest = args.length > 2 ? Integer.parseInt(args[2]) : 90;
    Path dir = Files.createTempDirectory("pgtide-pooler-bench");
    OsUser.makeTraversable(dir);
    List<Run> runs = new ArrayList<>();
    long t0 = System.currentTimeMillis();
    try (LocalRunner runner = new LocalRunner(TestMachine.get(), resource(), dir.resolve("cluster"),
        msg -> System.out.println("[local] " + msg))) {
      runner.up(0, 0, 0);
      String key = runner.clusterKey();
      io.pgtide.local.process.Waits.until("a primary and its endpoint", java.time.Duration.ofSeconds(120),
          () -> runner.core().state().view(key).primary().isPresent()
              && runner.core().failover().endpoint(key).isPresent(), () -> "");
      int pooler = runner.pooler().port();
      int primary = runner.infra().cluster().leader().orElseThrow().pgPort();
      String superPw = runner.infra().cluster().secrets().superuserPassword();
      String appPw = runner.password(USER);
      // the user sync creates app and shop; the pooler's scan puts its lookup function into shop
      io.pgtide.local.process.Waits.until(USER + " logs in through PgBouncer", java.time.Duration.ofSeconds(120),
          () -> {
            try {
              return "1".equals(Psql.query("127.0.0.1", pooler, USER, appPw, DATABASE, "SELECT 1"));
            } catch (RuntimeException e) {
              return false;
            }
          }, () -> "");
      System.out.println("[bench] max_connections = " + Psql.query(primary, "postgres", superPw, "postgres",
          "SHOW max_connections") + ", superuser_reserved_connections = " + Psql.query(primary, "postgres", superPw,
          "postgres", "SHOW superuser_reserved_connections"));
      String init = pgbench(dir.resolve("init"), List.of("-i", "-s", "1", "-q", "-h", "127.0.0.1", "-p", "" + primary,
          "-U", USER, DATABASE), appPw, "disable").output;
      System.out.println("[bench] pgbench -i: " + init.strip().replace('\n', ' '));

      Vertx vertx = Vertx.vertx();
      PgConnection sampler = PgConnection.connect(vertx, new PgConnectOptions().setHost("127.0.0.1").setPort(primary)
          .setUser("postgres").setPassword(superPw).setDatabase("postgres").setSslMode(SslMode.DISABLE)).await();
      try {
        runs.add(run(dir, "pooler", "PgBouncer", pooler, clients, "disable", seconds, appPw, sampler, superPw, primary));
        runs.add(run(dir, "pooler-tls", "PgBouncer", pooler, clients, "require", seconds, appPw, sampler, superPw,
            primary));
        runs.add(run(dir, "direct", "primary", primary, clients, "disable", seconds, appPw, sampler, superPw, primary));
        runs.add(run(dir, "direct-best", "primary", primary, directBest, "disable", seconds, appPw, sampler, superPw,
            primary));
      } finally {
        sampler.close().await();
        vertx.close().await();
      }
    }
    double wall = (System.currentTimeMillis() - t0) / 1000.0;
    Table t = new Table("pgbench -S (select-only, scale 1, -j 2, " + seconds + " s each, simple protocol) as the "
        + "declared user '" + USER + "'; PostgreSQL 15 with max_connections=" + MAX_CONNECTIONS + " (3 reserved for "
        + "superusers); PgBouncer 1.18 transaction pooling, defaultPoolSize " + POOL_SIZE + ", server side TLS "
        + "verify-full in every pooler run", "run", "to", "clients", "client sslmode", "transactions", "tps",
        "latency avg ms", "latency p99 ms", "clients failed", "max client backends (all)", "of them " + USER);
    for (Run r : runs) {
      t.row(r.name(), r.path(), r.clients(), r.sslmode(), r.transactions(), r.tps(), r.avgMs(), r.p99Ms(),
          r.failed(), r.maxBackends(), r.maxAppBackends());
    }
    String text = t.render() + (refusal == null ? "" : "\n" + refusal + ".\n") + """

        The direct run with %d clients uses -j 1 (one thread connects the clients in order, so the refused client's
        number is how many got in); its sampled backends may miss the peak, as pgbench exits right after the refusal.
        tps excludes the initial connection time (pgbench's own figure); p99 is taken over every transaction of
        pgbench's per-transaction log (-l). Backends: the maximum of SELECT count(*) FROM pg_stat_activity WHERE
        backend_type = 'client backend' sampled every 250 ms during the run (without the sampler's own connection;
        the rest of 'all' beyond '%s' are other roles' connections: Patroni's, pgtide's own). Before each run
        %s's backends are terminated, so PgBouncer's idle server connections from the run before do not count.
        Machine: 2 cores, shared with a running Kubernetes test tier (load average %s at the end); everything
        (PostgreSQL, Patroni, etcd, the sidecar, the operator JVM, PgBouncer and pgbench) on the same 2 cores,
        every process under nice -n 19. Numbers were taken on a loaded machine: compare the rows with each other,
        not with other machines. Wall time of the whole benchmark: %.0f s.
        Command: nice -n 19 java -jar bench/target/pgtide-bench.jar pooler %d %d %d
        """.formatted(clients, USER, USER, loadAverage(), wall, seconds, clients, directBest);
    System.out.println(text);
    Files.createDirectories(Path.of("bench", "results"));
    Files.writeString(Path.of("bench", "results", "pooler.txt"), text);
  }

  static PostgresCluster resource() {
    PostgresCluster c = new PostgresCluster();
    c.setMetadata(new ObjectMetaBuilder().withName("pb").withNamespace("default").build());
    PostgresClusterSpec spec = new PostgresClusterSpec();
    spec.postgresVersion = 15;
    spec.replicas = 1;
    spec.parameters.put("max_connections", "" + MAX_CONNECTIONS);
    PostgresClusterSpec.UserSpec app = new PostgresClusterSpec.UserSpec();
    app.name = USER;
    spec.users = new ArrayList<>(List.of(app));
    PostgresClusterSpec.DatabaseSpec shop = new PostgresClusterSpec.DatabaseSpec();
    shop.name = DATABASE;
    shop.owner = USER;
    spec.databases = new ArrayList<>(List.of(shop));
    spec.pooler = new PostgresClusterSpec.PoolerSpec();
    spec.pooler.poolMode = "transaction";
    spec.pooler.defaultPoolSize = POOL_SIZE;
    spec.pooler.maxClientConnections = 1000;
    c.setSpec(spec);
    return c;
  }

  /** How the direct run with more clients than max_connections was refused (null if it was not). */
  static String refusal;

  static Run run(Path dir, String name, String path, int port, int clients, String sslmode, int seconds,
                 String password, PgConnection sampler, String superPw, int primary) throws Exception {
    // PgBouncer keeps idle server connections: drop app's backends so each run starts from none
    Psql.query(primary, "postgres", superPw, "postgres",
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '" + USER + "'");
    Thread.sleep(1_000);
    Path logs = dir.resolve(name);
    Files.createDirectories(logs);
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger maxAll = new AtomicInteger();
    AtomicInteger maxApp = new AtomicInteger();
    Thread sampling = new Thread(() -> {
      while (running.get()) {
        try {
          Row row = sampler.query("SELECT count(*) FILTER (WHERE pid <> pg_backend_pid()), count(*) FILTER (WHERE "
              + "usename = '" + USER + "') FROM pg_stat_activity WHERE backend_type = 'client backend'").execute()
              .await().iterator().next();
          maxAll.accumulateAndGet(row.getInteger(0), Math::max);
          maxApp.accumulateAndGet(row.getInteger(1), Math::max);
          Thread.sleep(250);
        } catch (InterruptedException e) {
          return;
        } catch (RuntimeException e) {
          System.out.println("[bench] sampling failed: " + e.getMessage());
        }
      }
    }, "backend-sampler");
    sampling.start();
    // -j 1 straight to the primary with more clients than it takes: pgbench stops at the first refused login, and
    // with one thread the client number it names is how many got in
    int threads = path.equals("primary") && clients >= MAX_CONNECTIONS ? 1 : 2;
    System.out.println("[bench] " + name + ": " + clients + " clients to port " + port + " sslmode=" + sslmode);
    Result res;
    try {
      res = pgbench(logs, List.of("-n", "-S", "-c", "" + clients, "-j", "" + threads, "-T", "" + seconds, "-l",
          "--log-prefix=" + logs.resolve("tx"), "-h", "127.0.0.1", "-p", "" + port, "-U", USER, DATABASE),
          password, sslmode);
    } finally {
      running.set(false);
      sampling.join(5_000);
    }
    System.out.println("[bench] " + name + " exit " + res.exit + ":\n" + res.output.strip());
    List<Long> latencies = new ArrayList<>();
    try (Stream<Path> files = Files.list(logs)) {
      for (Path f : files.filter(p -> p.getFileName().toString().startsWith("tx")).toList()) {
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
          String[] fields = line.split(" ");
          if (fields.length >= 3) {
            latencies.add(Long.parseLong(fields[2]));
          }
        }
        Files.delete(f);
      }
    }
    Collections.sort(latencies);
    String p99 = latencies.isEmpty() ? "-"
        : ms(latencies.get((int) Math.min(latencies.size() - 1, Math.ceil(0.99 * latencies.size()) - 1)) / 1000.0);
    String tps = oneDecimal(find(res.output, "tps = ([0-9.]+) \\(without initial connection time\\)"));
    String avg = oneDecimal(find(res.output, "latency average = ([0-9.]+) ms"));
    String failed = "0";
    Matcher refused = Pattern.compile("could not create connection for client (\\d+)").matcher(res.output);
    if (refused.find()) {
      int in = Integer.parseInt(refused.group(1));
      Matcher why = Pattern.compile("FATAL:\\s+([^\\n]+)").matcher(res.output);
      failed = (clients - in) + " (" + in + " connected, then refused; pgbench aborts)";
      refusal = name + ": client " + in + " (counting from 0) refused with \"FATAL: " + (why.find() ? why.group(1)
          : "?") + "\"; pgbench stops at the first refused login, so none of the " + clients + " clients ran a"
          + " transaction";
    } else if (res.exit != 0) {
      Matcher aborted = Pattern.compile("number of failed transactions: (\\d+)").matcher(res.output);
      failed = "exit " + res.exit + (aborted.find() ? ", " + aborted.group(1) + " failed transactions" : "");
    }
    return new Run(name, path, clients, sslmode, seconds, tps, avg, p99, latencies.size(), failed, maxAll.get(),
        maxApp.get());
  }

  record Result(int exit, String output) {
  }

  static Result pgbench(Path cwd, List<String> args, String password, String sslmode) throws IOException,
      InterruptedException {
    Files.createDirectories(cwd);
    List<String> cmd = new ArrayList<>(List.of(PGBENCH));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
    pb.environment().put("PGPASSWORD", password);
    pb.environment().put("PGSSLMODE", sslmode);
    Process p = pb.start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      return new Result(p.waitFor(), out);
    } finally {
      p.destroyForcibly();
    }
  }

  static String find(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    return m.find() ? m.group(1) : "-";
  }

  static String oneDecimal(String number) {
    return number.equals("-") ? number : ms(Double.parseDouble(number));
  }

  static String ms(double value) {
    return String.format(Locale.ROOT, "%.1f", value);
  }

  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "?";
    }
  }
}
