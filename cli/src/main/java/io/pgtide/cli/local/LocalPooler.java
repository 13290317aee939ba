package io.pgtide.cli.local;

import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.secrets.ClusterSecrets;
import io.pgtide.common.secrets.PrivateFiles;
import io.pgtide.local.process.LocalMachine;
import io.pgtide.local.process.LocalServerTls;
import io.pgtide.local.process.PgBouncerProcess;
import io.pgtide.common.process.Psql;
import io.pgtide.operator.pooler.PgBouncerConfig;
import io.pgtide.operator.pooler.PoolerSql;
import io.pgtide.operator.users.ScramVerifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Local mode's {@code spec.pooler} (issue #32): one PgBouncer on 127.0.0.1 in front of the primary member. It follows
 * the primary the operator points the primary endpoint at: when that moves, the ini is rewritten and PgBouncer
 * reloaded (SIGHUP), so its client connections survive and new server connections go to the new primary. It also
 * keeps {@code pgtide_pooler}'s role and lookup function in every database that takes connections (a database created
 * later gets it within {@link #DATABASE_SCAN_SECONDS} s). One instance whatever {@code instances} says: on one
 * machine more would only share its cores.
 */
public final class LocalPooler implements AutoCloseable {
  static final String PASSWORD_FILE = "pgtide_pooler.password";
  static final int DATABASE_SCAN_SECONDS = 10;
  /** How often its pool statistics go to the operator's /metrics, as on Kubernetes. */
  static final int STATISTICS_SECONDS = 15;

  private final PostgresClusterSpec.PoolerSpec spec;
  private final Path dir;
  private final int port;
  private final int primaryEndpoint;
  private final ClusterSecrets superuser;
  private final Supplier<List<Integer>> primaryTargets;
  private final Consumer<String> progress;
  private final String password;
  private final PgBouncerConfig.Tls tls;
  /** One thread: following the primary and scanning databases never overlap. */
  private final ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "pgtide-pooler");
    t.setDaemon(true);
    return t;
  });
  /** Databases that have the lookup function (worker thread only). */
  private final Set<String> ready = new HashSet<>();
  private boolean roleReady;
  private volatile int target;
  private PgBouncerProcess bouncer;

  /**
   * @param clusterDir the local cluster's directory (PgBouncer runs in {@code pooler/} under it)
   * @param primaryEndpoint where SQL for the role and function goes (the primary endpoint, as the superuser)
   * @param primaryTargets the member port(s) the primary endpoint routes to now
   */
  LocalPooler(PostgresClusterSpec.PoolerSpec spec, Path clusterDir, int port, int primaryEndpoint,
              ClusterSecrets superuser, Supplier<List<Integer>> primaryTargets, Consumer<String> progress) {
    this.spec = spec;
    this.dir = clusterDir.resolve("pooler");
    this.port = port;
    this.primaryEndpoint = primaryEndpoint;
    this.superuser = superuser;
    this.primaryTargets = primaryTargets;
    this.progress = progress;
    this.password = new String(PrivateFiles.readOrCreate(clusterDir.resolve("secrets").resolve(PASSWORD_FILE),
        () -> ClusterSecrets.password(32).getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8).strip();
    Path server = LocalServerTls.dir(clusterDir);
    this.tls = Files.exists(server.resolve("ca.crt"))
        ? new PgBouncerConfig.Tls(server.resolve("ca.crt"), server.resolve("tls.crt"), server.resolve("tls.key"))
        : PgBouncerConfig.Tls.NONE;
  }

  /**
   * Prepares the databases, starts PgBouncer on the current primary and follows it (blocking until it listens);
   * its SHOW POOLS and SHOW STATS go to {@code statistics} every {@value #STATISTICS_SECONDS} s.
   */
  LocalPooler start(LocalMachine machine, Consumer<List<io.pgtide.operator.pooler.PoolStats.Sample>> statistics) {
    List<Integer> targets = primaryTargets.get();
    if (targets.isEmpty()) {
      throw new IllegalStateException("the pooler needs a primary, and the primary endpoint routes nowhere");
    }
    scanDatabases();
    target = targets.get(0);
    bouncer = PgBouncerProcess.start(machine, dir, port, ini(target), PgBouncerConfig.authFileLine(password),
        dir.getParent().resolve("logs").resolve("pgbouncer.log"));
    progress.accept("pooler: PgBouncer (pid " + bouncer.pid() + ") on 127.0.0.1:" + port + ", " + spec.poolMode
        + " pooling, to the primary on port " + target);
    worker.scheduleWithFixedDelay(this::followPrimary, 1, 1, TimeUnit.SECONDS);
    worker.scheduleWithFixedDelay(this::scanDatabases, DATABASE_SCAN_SECONDS, DATABASE_SCAN_SECONDS,
        TimeUnit.SECONDS);
    worker.scheduleWithFixedDelay(() -> {
      try {
        statistics.accept(io.pgtide.operator.pooler.PoolStats.samples(show("SHOW POOLS"), show("SHOW STATS")));
      } catch (RuntimeException e) {
        progress.accept("pooler: reading its statistics failed, retrying in " + STATISTICS_SECONDS + " s: "
            + e.getMessage());
      }
    }, 1, STATISTICS_SECONDS, TimeUnit.SECONDS);
    return this;
  }

  private String ini(int targetPort) {
    return PgBouncerConfig.ini(spec, new PgBouncerConfig.Listen("127.0.0.1", port),
        new PgBouncerConfig.Target("127.0.0.1", targetPort), tls, PgBouncerProcess.authFile(dir), null);
  }

  /** A new primary: the ini names it and PgBouncer reloads; no restart, its clients stay connected. */
  private void followPrimary() {
    try {
      List<Integer> now = primaryTargets.get();
      if (now.isEmpty() || now.get(0) == target) {
        return; // no primary known (mid-failover): keep the last one, a client's login waits or fails as directly
      }
      int next = now.get(0);
      bouncer.reconfigure(ini(next));
      progress.accept("pooler: primary moved from port " + target + " to " + next + "; PgBouncer reloaded");
      target = next;
    } catch (RuntimeException e) {
      progress.accept("pooler: following the primary failed, retrying: " + e.getMessage());
    }
  }

  /**
   * The role once, then the lookup function in each database taking connections that lacks it. Through the primary
   * endpoint: a failure (mid-failover) is retried at the next scan.
   */
  private void scanDatabases() {
    try {
      if (!roleReady) {
        String verifier = new ScramVerifier().verifierFor(PoolerSql.ROLE, password, null);
        psql("postgres", PoolerSql.role(verifier));
        roleReady = true;
      }
      String list = psql("postgres", "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn AND NOT "
          + "datistemplate ORDER BY 1");
      for (String db : list.isBlank() ? List.<String>of() : List.of(list.split("\n"))) {
        if (!ready.contains(db)) {
          psql(db, PoolerSql.lookupFunction());
          ready.add(db);
        }
      }
    } catch (RuntimeException e) {
      progress.accept("pooler: preparing the pooler role and lookup failed, retrying in " + DATABASE_SCAN_SECONDS
          + " s: " + e.getMessage());
    }
  }

  private String psql(String database, String sql) {
    return Psql.query(primaryEndpoint, superuser.superuser(), superuser.superuserPassword(), database, sql);
  }

  public int port() {
    return port;
  }

  /** PgBouncer's PID (the same across reloads). */
  public long pid() {
    return bouncer.pid();
  }

  /** The primary's port PgBouncer is configured with now. */
  public int target() {
    return target;
  }

  /**
   * Rows of an admin console command ({@code SHOW POOLS}, {@code SHOW STATS}) as column name to text, read as
   * {@code pgtide_pooler} (the admin user) through psql's CSV output.
   */
  public List<Map<String, String>> show(String command) {
    return rows(Psql.csv("127.0.0.1", port, PoolerSql.ROLE, password, "pgbouncer", command));
  }

  /** psql's CSV (a header line, then one line per row); PgBouncer's names and numbers hold no commas or quotes. */
  static List<Map<String, String>> rows(String csv) {
    List<String> lines = csv.lines().filter(l -> !l.isBlank()).toList();
    List<Map<String, String>> out = new ArrayList<>();
    if (lines.isEmpty()) {
      return out;
    }
    String[] header = lines.get(0).split(",", -1);
    for (String line : lines.subList(1, lines.size())) {
      String[] values = line.split(",", -1);
      Map<String, String> row = new LinkedHashMap<>();
      for (int i = 0; i < header.length && i < values.length; i++) {
        row.put(header[i], values[i]);
      }
      out.add(row);
    }
    return out;
  }

  @Override
  public void close() {
    worker.shutdownNow();
    try {
      worker.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (bouncer != null) {
      bouncer.close();
    }
  }
}
