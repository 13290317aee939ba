package io.pgtide.backup;

import io.pgtide.common.cluster.ClusterLog;
import io.pgtide.common.cluster.ClusterKey;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtide.common.crd.PostgresClusterSpec;
import io.pgtide.common.metrics.ClusterMeters;
import io.pgtide.common.metrics.MeteredVertx;
import io.pgtide.common.process.LoopbackPorts;
import io.pgtide.common.process.PgClientTls;
import io.pgtide.common.backup.BackupPolicy;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

/**
 * The backup agent of one cluster on Kubernetes: a pod the operator owns (image {@code pgtide-backup}: Debian's
 * Barman and PostgreSQL 17 with {@code pgtide-backup.jar}) that keeps the cluster's Barman repository on its own
 * volume — WAL streamed through a replication slot from the primary's Service, scheduled base backups, retention,
 * verification in a scratch instance inside the pod — exactly what local mode runs in the operator's process
 * ({@link BackupController}). Nothing runs in the Spilo pods. The operator reads {@code GET /status} (the status
 * and the agent's events) and asks for backups and verifications; both need the token the operator generated
 * (Secret {@code <cluster>-backup-agent}). {@code /metrics} is Prometheus' (the {@code pgtide_backup_*} series).
 */
@Command(name = "backup-agent", mixinStandardHelpOptions = true,
    description = "Run one cluster's backup agent (in the pod the operator creates; configured by environment).")
public final class BackupAgent implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(BackupAgent.class);
  public static final int PORT = 8080;
  /**
   * How Barman reaches the cluster on Kubernetes: TLS, PostgreSQL's certificate issued by the cluster's CA and
   * naming the primary Service (issue #32). Never a plain-text fallback an attacker on the path could force, and
   * no server but the cluster's own is accepted.
   */
  static final String BARMAN_SSLMODE = "verify-full";

  /** What the operator passes in the agent's environment. Pure. */
  record Settings(String clusterKey, String host, int port, String superuser, String superuserPassword,
                  String replicationUser, String replicationPassword, PostgresClusterSpec.BackupSpec spec,
                  Path dir, String token, RepositoryCopy.Target s3, Path tlsDir, String tlsName, Path serverCa,
                  String walToken) {

    /**
     * What Barman and the lag query dial: the primary Service's name, which its certificate names ({@code host}
     * is what libpq verifies), at the Service's IP when the kubelet gave it ({@code hostaddr}: no DNS needed).
     */
    String dialHost() {
      return tlsName;
    }

    /** libpq's checks of PostgreSQL's certificate: verify-full against the cluster's CA, at the Service's IP. */
    PgClientTls serverTls() {
      String hostaddr = host.matches("[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*") ? host : null;
      return new PgClientTls(BARMAN_SSLMODE, serverCa, hostaddr);
    }

    static Settings from(Map<String, String> env) {
      String key = required(env, "PGTIDE_CLUSTER");
      if (!key.matches("[a-z0-9-]+/[a-z0-9-]+")) {
        throw new IllegalArgumentException("PGTIDE_CLUSTER must be <namespace>/<name>, not " + key);
      }
      PostgresClusterSpec.BackupSpec spec = new JsonObject(required(env, "PGTIDE_BACKUP_SPEC"))
          .mapTo(PostgresClusterSpec.BackupSpec.class);
      String problem = BackupPolicy.problem(spec);
      if (problem != null) {
        throw new IllegalArgumentException("PGTIDE_BACKUP_SPEC: " + problem);
      }
      return new Settings(key, primaryHost(env, required(env, "PGTIDE_PRIMARY_SERVICE")),
          Integer.parseInt(env.getOrDefault("PGTIDE_PRIMARY_PORT", "5432")), required(env, "PGTIDE_SUPERUSER"),
          required(env, "PGTIDE_SUPERUSER_PASSWORD"), required(env, "PGTIDE_REPLICATION_USER"),
          required(env, "PGTIDE_REPLICATION_PASSWORD"), spec,
          Path.of(env.getOrDefault("PGTIDE_BACKUP_DIR", "/var/lib/pgtide-backup")), required(env, "PGTIDE_AGENT_TOKEN"),
          RepositoryCopy.Target.fromEnvironment(env),
          env.get("PGTIDE_AGENT_TLS_DIR") == null || env.get("PGTIDE_AGENT_TLS_DIR").isBlank() ? null
              : Path.of(env.get("PGTIDE_AGENT_TLS_DIR")),
          required(env, "PGTIDE_PRIMARY_TLS_NAME"), Path.of(required(env, "PGTIDE_SERVER_CA_FILE")),
          env.get("PGTIDE_WAL_TOKEN") == null || env.get("PGTIDE_WAL_TOKEN").isBlank() ? null
              : env.get("PGTIDE_WAL_TOKEN"));
    }

    /** The Service's address from the variables the kubelet sets (a cluster need not run DNS), else its name. */
    static String primaryHost(Map<String, String> env, String service) {
      String fromEnv = env.get(service.toUpperCase(java.util.Locale.ROOT).replace('-', '_') + "_SERVICE_HOST");
      return fromEnv == null || fromEnv.isBlank() ? service : fromEnv;
    }

    private static String required(Map<String, String> env, String name) {
      String v = env.get(name);
      if (v == null || v.isBlank()) {
        throw new IllegalArgumentException(name + " is not set");
      }
      return v;
    }
  }

  @Override
  public Integer call() throws Exception {
    Settings s;
    try {
      s = Settings.from(System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("backup-agent: " + e.getMessage());
      return 2;
    }
    PrometheusMeterRegistry registry = MeteredVertx.registry();
    Vertx vertx = MeteredVertx.vertx(new VertxOptions(), registry);
    LoopbackPorts ports = new LoopbackPorts();
    String name = ClusterKey.parse(s.clusterKey()).name();
    AgentEvents events = new AgentEvents();
    Barman barman = new Barman(Barman.localRepository(s.dir()), name);
    // what a verification logs in to the restored copy with (as local mode keeps it next to its cluster)
    new io.pgtide.common.secrets.ClusterSecrets(s.superuser(), s.superuserPassword(), s.replicationUser(),
        s.replicationPassword()).save(s.dir().resolve("secrets.json"));
    // through the primary's Service, which follows failovers: Barman's receiver restarts on the new primary.
    // verify-full against the cluster's CA (BARMAN_SSLMODE): every member presents the same certificate, for the
    // Services' names, so a failover changes nothing for it.
    barman.configure(s.dialHost(), s.port(), s.superuser(), s.superuserPassword(), s.replicationUser(),
        s.replicationPassword(), BackupPolicy.from(s.spec()), s.serverTls());
    BackupController backups = new BackupController(vertx, s.clusterKey(), barman, s::spec,
        new PrimaryArchivingLag(s.dialHost(), s.port(), s.superuser(), s.superuserPassword(), s.serverTls()),
        new RestoreVerification(ports, s.dir(), name, s.host(), s.port(), s.superuser(), s.superuserPassword(),
            msg -> ClusterLog.of(LOG, s.clusterKey()).info("{}", msg)),
        events, registry);
    Router router = Router.router(vertx);
    router.get("/metrics").handler(ctx -> ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4")
        .end(registry.scrape()));
    router.get("/healthz").handler(ctx -> ctx.response().end("ok"));
    // the API (the bearer token, backups on request) only over TLS when the operator mounted a certificate; the
    // plain port keeps what Prometheus and the kubelet read
    Router api = s.tlsDir() == null ? router : Router.router(vertx);
    if (s.tlsDir() != null) {
      router.route("/api/*").handler(ctx -> ctx.response().setStatusCode(401).putHeader("Content-Type",
          "application/json").end(new JsonObject().put("error", "the API answers over TLS only, on port "
          + TLS_PORT).encode()));
    }
    api.route("/api/*").handler(ctx -> {
      if (tokenMatches(ctx, s.token())) {
        ctx.next();
      } else {
        ctx.response().setStatusCode(401).end(new JsonObject().put("error", "a valid token is required").encode());
      }
    });
    RepositoryCopy copy = s.s3() == null ? null
        : new RepositoryCopy(barman.repository().resolve("home").resolve(name), s.s3());
    api.get("/api/status").handler(ctx -> {
      JsonObject status = backups.status();
      if (copy != null) {
        status.put("s3", copy.status());
      }
      ctx.json(new JsonObject().put("backup", status).put("events", events.history()));
    });
    api.post("/api/backups").handler(ctx -> answer(ctx, backups.backupNow()));
    api.post("/api/backups/verify").handler(ctx -> answer(ctx, backups.verifyNow()));
    // archived WAL for the standbys of this cluster, with their own token (WalServing), where the API is served
    WalServing.route(vertx, api, barman, s.walToken(), s.dir().resolve("served-wal"));
    vertx.createHttpServer().requestHandler(router).listen(PORT, "0.0.0.0").await();
    if (s.tlsDir() != null) {
      serveTls(vertx, api, s.tlsDir(), TLS_PORT, TLS_RELOAD_MS);
    }
    backups.start(5_000);
    if (copy != null) {
      copyEvery(vertx, copy, events, registry, s.clusterKey(), COPY_EVERY_MS);
    }
    ClusterLog.of(LOG, s.clusterKey()).info("backup agent: repository {}, primary {}:{}, listening on {}{}",
        barman.repository(), s.host(), s.port(), PORT, s.tlsDir() == null ? " (API included, no TLS)"
            : " (metrics, health), the API over TLS on " + TLS_PORT);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      // the WAL receiver must not outlive the agent (it holds the slot's position)
      backups.stop().await();
      vertx.close().await();
      stopped.countDown();
    }, "pgtide-backup-agent-shutdown"));
    stopped.await();
    return 0;
  }

  static final long COPY_EVERY_MS = 60_000;
  /** The agent's API port over TLS (the operator's BackupAgentModel.TLS_PORT). */
  static final int TLS_PORT = 8443;
  /** How often the mounted certificate is read again (the kubelet updates it about a minute after the Secret). */
  static final long TLS_RELOAD_MS = 30_000;

  /**
   * Serves {@code api} over TLS with the certificate in {@code dir} (a mounted TLS Secret), read again every
   * {@code reloadMs}: a certificate the operator issued again is used for new connections without a restart. Public
   * for the test that checks it with the operator's client ({@code BackupAgentTlsTest}, module {@code cli}).
   */
  public static io.vertx.core.http.HttpServer serveTls(Vertx vertx, Router api, Path dir, int port, long reloadMs) {
    io.pgtide.common.tls.TlsMaterial[] current = {io.pgtide.common.tls.TlsMaterial.read(dir)};
    io.vertx.core.http.HttpServer server = vertx.createHttpServer(new io.vertx.core.http.HttpServerOptions()
        .setSsl(true).setKeyCertOptions(current[0].httpsServerOptions().getKeyCertOptions()))
        .requestHandler(api);
    server.listen(port, port == 0 ? "127.0.0.1" : "0.0.0.0").await();
    vertx.setPeriodic(reloadMs, reloadMs, t -> {
      io.pgtide.common.tls.TlsMaterial now;
      try {
        now = io.pgtide.common.tls.TlsMaterial.read(dir);
      } catch (RuntimeException e) {
        LOG.warn("cannot read the TLS material in {} ({}); serving the last good one", dir, e.getMessage());
        return;
      }
      if (!now.equals(current[0])) {
        server.updateSSLOptions(now.httpsServerOptions()).onSuccess(changed -> {
          current[0] = now;
          LOG.info("serving the certificate issued again (for new connections)");
        }).onFailure(e -> LOG.warn("cannot use the new certificate in {}: {}", dir, e.getMessage()));
      }
    });
    return server;
  }

  /**
   * Keeps the S3 copy in step: a sync every {@code everyMs} (the first at once), one at a time; one event per distinct
   * failure and one when it works again; {@code pgtide_backup_s3_last_copy_timestamp_seconds}.
   */
  private static void copyEvery(Vertx vertx, RepositoryCopy copy, AgentEvents events, PrometheusMeterRegistry registry,
                                String key, long everyMs) {
    double[] lastCopy = {Double.NaN};
    io.pgtide.common.metrics.KnownGauges gauges = new io.pgtide.common.metrics.KnownGauges(registry,
        ClusterMeters.tags(key));
    gauges.add("pgtide_backup_s3_last_copy_timestamp_seconds", "when the repository's copy in S3 was last in step "
        + "(Unix time)", () -> lastCopy[0]);
    String[] failing = {null};
    java.util.concurrent.atomic.AtomicBoolean busy = new java.util.concurrent.atomic.AtomicBoolean();
    vertx.setPeriodic(0, everyMs, t -> {
      if (!busy.compareAndSet(false, true)) {
        return;
      }
      vertx.executeBlocking(() -> {
        copy.sync();
        return null;
      }, false).onComplete(ar -> {
        busy.set(false);
        if (ar.succeeded()) {
          lastCopy[0] = System.currentTimeMillis() / 1000.0;
          if (failing[0] != null) {
            events.emit(key, "Normal", "BackupCopyRecovered", "the repository's copy in S3 is in step again");
          }
          failing[0] = null;
        } else if (!String.valueOf(ar.cause().getMessage()).equals(failing[0])) {
          failing[0] = String.valueOf(ar.cause().getMessage());
          events.emit(key, "Warning", "BackupCopyFailed", failing[0]);
        }
        gauges.refresh();
      });
    });
  }

  private static void answer(RoutingContext ctx, Future<JsonObject> result) {
    result.onSuccess(ctx::json).onFailure(e -> ctx.response().setStatusCode(500)
        .putHeader("Content-Type", "application/json").end(new JsonObject().put("error", e.getMessage()).encode()));
  }

  static boolean tokenMatches(RoutingContext ctx, String token) {
    String header = ctx.request().getHeader("Authorization");
    String given = header != null && header.startsWith("Bearer ") ? header.substring(7) : "";
    return MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
  }
}
