package io.pgtide.sidecar;

import io.pgtide.common.contract.CommandPayload;
import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.InstanceReport;
import io.pgtide.common.contract.Role;
import io.pgtide.common.tls.TlsMaterial;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtide.common.contract.Resources;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sidecar: samples PostgreSQL, Patroni and cgroups every interval (and at once when the fast role watch sees a
 * role or health change), publishes a full report over the bridge, answers commands, and serves
 * {@code /metrics}, {@code /healthz}, {@code /readyz}.
 */
public final class SidecarVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(SidecarVerticle.class);

  private final SidecarConfig config;
  private final PrometheusMeterRegistry registry;
  private final Function<PgCollector, java.util.function.BiFunction<CommandPayload.SyncUsers, Long, Future<JsonObject>>> userSyncFactory;
  private final String sessionId = UUID.randomUUID().toString();
  private PgCollector pg;
  private WebClient http;
  private CgroupReader cgroups;
  private ProcessTreeReader processTree;
  private BridgeClient bridge;
  private SidecarMetrics metrics;
  private CommandDispatcher commands;
  private HttpServer server;
  private final io.pgtide.sidecar.logs.LogSources logs;
  private final io.pgtide.sidecar.custom.CustomQueryRunner.Settings custom;
  /** Null without custom queries: nothing of them is loaded then. */
  private io.pgtide.sidecar.custom.CustomQueryRunner customQueries;
  private boolean tailing;
  /** How often the log files are looked at: a failing statement is in `logs` within a second or so. */
  static final long LOG_POLL_MS = 250;
  private long seq;
  private boolean sampling;
  /** A sample still running after this (and three intervals) is abandoned, so {@code sampling} always clears. */
  static final long MIN_SAMPLE_DEADLINE_MS = 5_000;
  private PgSample previousPg;
  private final TransactionRate transactions = new TransactionRate();
  private volatile InstanceReport last;
  private volatile JsonObject lastJson;

  public SidecarVerticle(SidecarConfig config, PrometheusMeterRegistry registry,
                         Function<PgCollector, java.util.function.BiFunction<CommandPayload.SyncUsers, Long, Future<JsonObject>>> userSyncFactory) {
    this(config, registry, userSyncFactory, io.pgtide.sidecar.logs.LogSources.none());
  }

  public SidecarVerticle(SidecarConfig config, PrometheusMeterRegistry registry,
                         Function<PgCollector, java.util.function.BiFunction<CommandPayload.SyncUsers, Long, Future<JsonObject>>> userSyncFactory,
                         io.pgtide.sidecar.logs.LogSources logs) {
    this(config, registry, userSyncFactory, logs, io.pgtide.sidecar.custom.CustomQueryRunner.Settings.NONE);
  }

  public SidecarVerticle(SidecarConfig config, PrometheusMeterRegistry registry,
                         Function<PgCollector, java.util.function.BiFunction<CommandPayload.SyncUsers, Long, Future<JsonObject>>> userSyncFactory,
                         io.pgtide.sidecar.logs.LogSources logs, io.pgtide.sidecar.custom.CustomQueryRunner.Settings custom) {
    this.custom = custom;
    this.logs = logs;
    this.config = config;
    this.registry = registry;
    this.userSyncFactory = userSyncFactory;
  }

  @Override
  public Future<?> start() {
    pg = new PgCollector(vertx, config);
    http = WebClient.create(vertx, new WebClientOptions().setConnectTimeout((int) config.connectTimeoutMs()));
    cgroups = new CgroupReader(Path.of("/sys/fs/cgroup"));
    processTree = config.resources().processTree() ? new ProcessTreeReader(Path.of("/proc"),
        config.resources().cpuLimitCores(), config.resources().memoryLimitBytes()) : null;
    // read again at every connection: a certificate issued again reaches the mounted files without a restart
    bridge = new BridgeClient(vertx, config.id(), config.operatorHost(), config.operatorPort(),
        () -> TlsMaterial.read(config.tlsDir()), () -> lastJson, this::onCommand);
    metrics = new SidecarMetrics(registry, config.id(), bridge::connected);
    commands = new CommandDispatcher(vertx, config.id(), pg, http, config.patroniUrl(), config.patroniCredentials(),
        userSyncFactory.apply(pg), metrics, config.podProcesses() ? new PodProcesses(Path.of("/proc"), pid -> true) : null,
        logs::answer);
    if (logs.any()) {
      vertx.setPeriodic(0, LOG_POLL_MS, t -> tailLogs());
    }
    pg.onConnectionLost(this::sampleAndPublish);
    vertx.setPeriodic(0, config.intervalMs(), t -> sampleAndPublish());
    vertx.setPeriodic(config.roleWatchMs(), config.roleWatchMs(), t -> watchRole());
    if (!custom.files().isEmpty()) {
      customQueries = new io.pgtide.sidecar.custom.CustomQueryRunner(vertx, pg, custom.files(), custom.timeoutMs(),
          registry, metrics.tags(), config.id().toString());
      customQueries.start(custom.intervalMs());
    }
    ServerCertificateReload certificates = new ServerCertificateReload(pg, config.id());
    vertx.setPeriodic(ServerCertificateReload.PERIOD_MS, ServerCertificateReload.PERIOD_MS, t -> certificates.check());
    DatabaseHealth health = new DatabaseHealth(registry, metrics.tags());
    vertx.setPeriodic(2_000, 15_000, t -> health.read(pg));
    bridge.start(); // retries in the background; the sidecar serves its endpoints meanwhile
    return startHttp();
  }

  @Override
  public Future<?> stop() {
    return Future.join(bridge.close(), pg.close(), server == null ? Future.succeededFuture() : server.close(),
        customQueries == null ? Future.succeededFuture() : customQueries.close());
  }

  /** Reads the log files on a worker, one poll at a time, and files the lines into the buffers on this loop. */
  private void tailLogs() {
    if (tailing) {
      return;
    }
    tailing = true;
    vertx.executeBlocking(logs::poll, false)
        .onSuccess(logs::accept)
        .onFailure(e -> LOG.warn("[{}] reading the logs failed: {}", config.id(), e.toString()))
        .onComplete(r -> tailing = false);
  }

  public InstanceReport lastReport() {
    return last;
  }

  public BridgeClient bridge() {
    return bridge;
  }

  private Future<HttpServer> startHttp() {
    Router router = Router.router(vertx);
    router.get("/metrics").handler(ctx -> ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4")
        .end(customQueries == null ? registry.scrape() : registry.scrape() + customQueries.text()));
    router.get("/healthz").handler(ctx -> ctx.response().end("ok"));
    router.get("/readyz").handler(ctx -> {
      InstanceReport r = last;
      boolean ready = r != null && r.healthy() && bridge.connected();
      ctx.response().setStatusCode(ready ? 200 : 503).end(ready ? "ready"
          : r == null ? "no sample yet" : !r.healthy() ? "unhealthy: " + r.reason() : "bridge to operator is down");
    });
    return vertx.createHttpServer().requestHandler(router).listen(config.httpPort(), "0.0.0.0")
        .onSuccess(s -> server = s);
  }

  private void onCommand(JsonObject command, String replyAddress) {
    commands.handle(command).onSuccess(result -> bridge.reply(replyAddress, ContractCodec.encode(result)));
  }

  /**
   * Between samples: a cheap role query; a change of role or of reachability triggers a sample at once. A healthy
   * primary is not asked: PostgreSQL cannot demote without a restart, and a restart closes the sample connection,
   * which samples at once.
   */
  private void watchRole() {
    InstanceReport r = last;
    if (r == null || sampling || (r.role() == Role.PRIMARY && r.healthy() && pg.connected())) {
      return;
    }
    pg.inRecovery().onComplete(ar -> {
      Role now = ar.succeeded() ? (ar.result() ? Role.REPLICA : Role.PRIMARY) : null;
      boolean changed = ar.failed() ? r.healthy() : now != r.role() || !r.healthy();
      if (changed) {
        sampleAndPublish();
      }
    });
  }

  private void sampleAndPublish() {
    if (sampling) {
      return;
    }
    sampling = true;
    long started = System.nanoTime();
    long collectedAt = System.currentTimeMillis();
    Future<PgSample> pgF = pg.sample(Math.max(MIN_SAMPLE_DEADLINE_MS, 3 * config.intervalMs()));
    Future<Void> probeF = pg.probe();
    boolean patroniExpected = config.patroniUrl() != null && !config.patroniUrl().isBlank();
    Future<PatroniStatus> patroniF = patroniExpected ? http.getAbs(config.patroniUrl() + "/patroni")
        .timeout(config.connectTimeoutMs()).send()
        .map(resp -> PatroniStatus.parse(resp.bodyAsString() == null ? "" : resp.bodyAsString()))
        : Future.failedFuture("not configured");
    Integer backend = pg.backendPid();
    Future<Resources> resF = vertx.executeBlocking(() -> processTree != null ? processTree.read(backend)
        : cgroups.read(), false);
    Future.join(pgF, probeF, patroniF, resF).onComplete(done -> {
      try {
        ReportAssembler.Round round = new ReportAssembler.Round(pgF.result(), reason(pgF), previousPg,
            patroniF.result(), reason(patroniF), patroniExpected, reason(probeF),
            resF.succeeded() ? resF.result() : Resources.EMPTY, transactions,
            ReportAssembler.acceptance(probeF.failed(), probeF.failed() && PostmasterProbe.hung(probeF.cause()),
                pgF.failed() && pgF.cause() instanceof io.vertx.pgclient.PgException e ? e.getSqlState() : null));
        InstanceReport report = ReportAssembler.assemble(config.id(), sessionId, ++seq, collectedAt, round);
        if (customQueries != null) {
          report = report.withCustomQueryFailures(customQueries.failures());
        }
        if (pgF.succeeded()) {
          previousPg = pgF.result();
          metrics.sample(pgF.result());
        }
        logTransitions(last, report);
        last = report;
        lastJson = ContractCodec.encode(report);
        boolean sent = bridge.send(lastJson);
        metrics.report(report, Duration.ofNanos(System.nanoTime() - started), sent);
      } finally {
        sampling = false;
      }
    });
  }

  private void logTransitions(InstanceReport before, InstanceReport now) {
    if (before == null || before.role() != now.role()) {
      LOG.info("[{}] role {}", config.id(), now.role());
    }
    if (before == null || before.healthy() != now.healthy() || !Objects.equals(before.reason(), now.reason())) {
      if (now.healthy()) {
        LOG.info("[{}] healthy", config.id());
      } else {
        LOG.warn("[{}] unhealthy: {}", config.id(), now.reason());
      }
    }
  }

  private static String reason(Future<?> f) {
    if (f.succeeded()) {
      return null;
    }
    Throwable e = f.cause();
    String msg = e == null ? "unknown" : e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return msg.replaceAll("password=[^ ]*", "password=***");
  }
}
