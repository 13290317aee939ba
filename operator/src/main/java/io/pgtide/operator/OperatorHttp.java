package io.pgtide.operator;

import io.pgtide.common.cluster.ClusterLog;
import io.pgtide.common.cluster.ClusterKey;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtide.operator.failover.FailoverCoordinator;
import io.pgtide.operator.state.ClusterState;
import io.pgtide.operator.users.UserSyncController;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.bridge.PermittedOptions;
import io.pgtide.common.contract.Addresses;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The operator's HTTP port: {@code /metrics}, {@code /healthz}, {@code /readyz}, and the small JSON API the CLI
 * uses ({@code GET /api/clusters}, {@code POST /api/clusters/{ns}/{name}/switchover}, {@code …/users/sync}).
 */
public final class OperatorHttp {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(OperatorHttp.class);
  private final Vertx vertx;
  private final PrometheusMeterRegistry registry;
  private final Runnable beforeScrape;
  private final io.pgtide.operator.state.MemberSamples samples;
  private final ClusterState state;
  private final FailoverCoordinator failover;
  private final Map<String, UserSyncController> userSync = new ConcurrentHashMap<>();
  private final Map<String, java.util.function.Supplier<Map<String, Integer>>> restarts = new ConcurrentHashMap<>();
  private final Map<String, java.util.function.Supplier<JsonObject>> upgrades = new ConcurrentHashMap<>();
  private final Map<String, java.util.function.Function<io.pgtide.common.crd.PostgresCluster,
      io.vertx.core.Future<JsonObject>>> appliers = new ConcurrentHashMap<>();

  private final io.pgtide.operator.failover.ClusterEvents events;
  private ControlAuthorizer authorizer;
  private boolean openReads;

  /**
   * On Kubernetes: every {@code /api} request must carry a bearer token the API server accepts, reads show only the
   * clusters the caller may {@code get}, and actions need {@code update} on the cluster. Set before
   * {@link #listenControl}. Without one (local mode, loopback only) the API is open.
   */
  public void authorizer(ControlAuthorizer authorizer) {
    authorizer(authorizer, false);
  }

  /** {@code openReads}: only actions need a token (local mode, where reads stay open on loopback). */
  public void authorizer(ControlAuthorizer authorizer, boolean openReads) {
    this.authorizer = authorizer;
    this.openReads = openReads;
  }

  private void authenticate(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.length() <= 7) {
      deny(ctx, 401, "a bearer token is required (e.g. kubectl create token <serviceaccount>)");
      return;
    }
    authorizer.authenticate(header.substring(7).strip()).onSuccess(subject -> {
      ctx.put("subject", subject);
      ctx.next();
    }).onFailure(e -> deny(ctx, e instanceof ControlAuthorizer.Refused ? 401 : 503,
        e instanceof ControlAuthorizer.Refused ? e.getMessage() : "cannot check the token: " + e.getMessage()));
  }

  /** Completes when the caller may {@code verb} the cluster in the path; otherwise answers 403 and never completes. */
  private Future<Void> permitted(RoutingContext ctx, String verb) {
    ControlAuthorizer.Subject subject = ctx.get("subject");
    String ns = ctx.pathParam("ns");
    String name = ctx.pathParam("name");
    io.vertx.core.Promise<Void> ok = io.vertx.core.Promise.promise();
    authorizer.allowed(subject, verb, ns, name).onSuccess(allowed -> {
      if (allowed) {
        ok.complete();
      } else {
        deny(ctx, 403, subject.user() + " may not " + verb + " postgresclusters.pgtide.io " + ns + "/" + name);
      }
    }).onFailure(e -> deny(ctx, 503, "cannot check the permission: " + e.getMessage()));
    return ok.future();
  }

  /** Of {@code keys} (namespace/name), those the caller may {@code get}: all of them without an authorizer. */
  private Future<java.util.Set<String>> readable(RoutingContext ctx, java.util.Collection<String> keys) {
    ControlAuthorizer.Subject subject = ctx.get("subject");
    if (authorizer == null || subject == null) {
      return Future.succeededFuture(new java.util.TreeSet<>(keys));
    }
    java.util.Set<String> namespaces = new java.util.TreeSet<>();
    keys.forEach(k -> namespaces.add(ClusterKey.parse(k).namespace()));
    java.util.Map<String, Future<Boolean>> checks = new java.util.TreeMap<>();
    namespaces.forEach(ns -> checks.put(ns, authorizer.allowed(subject, "get", ns, null)));
    return Future.all(new java.util.ArrayList<>(checks.values())).map(v -> {
      java.util.Set<String> out = new java.util.TreeSet<>();
      keys.forEach(k -> {
        if (checks.get(ClusterKey.parse(k).namespace()).result()) {
          out.add(k);
        }
      });
      return out;
    }).onFailure(e -> deny(ctx, 503, "cannot check the permission: " + e.getMessage()));
  }

  /**
   * The control API's audit trail: every action asked by an authenticated caller (or on loopback in local mode) is
   * logged and recorded as a cluster event with who asked, what, and the answer's status — refusals included.
   */
  private void audit(RoutingContext ctx) {
    ControlAuthorizer.Subject subject = ctx.get("subject");
    String who = subject == null ? "a local caller" : subject.user();
    String key = ClusterKey.text(ctx.pathParam("ns"), ctx.pathParam("name"));
    String action = ctx.request().path().substring(("/api/clusters/" + key + "/").length());
    ctx.addEndHandler(done -> {
      int status = ctx.response().getStatusCode();
      ClusterLog.of(LOG, key).info("{} asked for {}: {}", who, action, status);
      events.emit(key, status / 100 == 2 ? "Normal" : "Warning", "ControlRequest",
          who + " asked for " + action + ": " + status);
    });
    ctx.next();
  }

  private static void deny(RoutingContext ctx, int status, String why) {
    if (!ctx.response().ended()) {
      ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("error", why).encode());
    }
  }

  public OperatorHttp(Vertx vertx, PrometheusMeterRegistry registry, Runnable beforeScrape, ClusterState state,
                      FailoverCoordinator failover, io.pgtide.operator.failover.ClusterEvents events,
                      io.pgtide.operator.state.MemberSamples samples) {
    this.samples = samples;
    this.beforeScrape = beforeScrape;
    this.events = events;
    this.vertx = vertx;
    this.registry = registry;
    this.state = state;
    this.failover = failover;
  }

  private final Map<String, io.pgtide.operator.autoscale.AutoscalerController> autoscalers = new ConcurrentHashMap<>();
  private final Map<String, io.pgtide.common.backup.Backups> backups = new ConcurrentHashMap<>();

  /** The cluster's backups, or none ({@code null}: spec.backup was removed). */
  public void backups(String clusterKey, io.pgtide.common.backup.Backups controller) {
    if (controller == null) {
      backups.remove(clusterKey);
    } else {
      backups.put(clusterKey, controller);
    }
  }

  public void autoscaler(String clusterKey, io.pgtide.operator.autoscale.AutoscalerController controller) {
    autoscalers.put(clusterKey, controller);
  }

  /** Local mode: applies an edited PostgresCluster to the running cluster ({@code pgtide local apply}). */
  public void applier(String clusterKey,
                      java.util.function.Function<io.pgtide.common.crd.PostgresCluster, io.vertx.core.Future<JsonObject>> a) {
    appliers.put(clusterKey, a);
  }

  private void apply(RoutingContext ctx) {
    String key = ClusterKey.text(ctx.pathParam("ns"), ctx.pathParam("name"));
    var a = appliers.get(key);
    if (a == null) {
      ctx.response().setStatusCode(404).end(new JsonObject().put("error", "no cluster " + key + " to apply to")
          .encode());
      return;
    }
    io.pgtide.common.crd.PostgresCluster edited;
    try {
      // appliers are local mode's only: its file is read as `local apply` and `local up` read it
      edited = io.pgtide.operator.ClusterFile.parse(ctx.body().asString(), "the request", true);
    } catch (RuntimeException e) {
      ctx.response().setStatusCode(400).end(new JsonObject().put("error", e.getMessage()).encode());
      return;
    }
    a.apply(edited).onSuccess(ctx::json).onFailure(e -> ctx.response()
        .setStatusCode(e instanceof io.pgtide.operator.ClusterFile.Invalid ? 400 : 500)
        .end(new JsonObject().put("error", e.getMessage()).encode()));
  }

  /** Local mode: how often each member's processes were restarted after dying on their own. */
  public void restarts(String clusterKey, java.util.function.Supplier<java.util.Map<String, Integer>> counts) {
    restarts.put(clusterKey, counts);
  }

  /** Local mode: where the last major upgrade stands (null before any). */
  public void upgrade(String clusterKey, java.util.function.Supplier<JsonObject> status) {
    upgrades.put(clusterKey, status);
  }

  public void userSync(String clusterKey, UserSyncController controller) {
    userSync.put(clusterKey, controller);
  }

  /**
   * What Prometheus and the kubelet reach: {@code /metrics}, {@code /healthz}, {@code /readyz}. Read-only, nothing
   * about any cluster beyond its metrics.
   */
  public Future<HttpServer> listenMetrics(String host, int port) {
    Router router = Router.router(vertx);
    router.get("/metrics").handler(ctx -> {
      beforeScrape.run();
      ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4").end(registry.scrape());
    });
    router.get("/healthz").handler(ctx -> ctx.response().end("ok"));
    // ready once serving (on Kubernetes the leader label, not readiness, picks the replica sidecars reach)
    router.get("/readyz").handler(ctx -> ctx.response().end("ready"));
    return vertx.createHttpServer().requestHandler(router).listen(port, host);
  }

  /**
   * The control API (status, switchover, user sync, apply) and the dashboard, on a port of its own: it changes
   * databases, so it is not where monitoring reaches (on Kubernetes its NetworkPolicy admits no pod from elsewhere).
   */
  public Future<HttpServer> listenControl(String host, int port) {
    Router router = Router.router(vertx);
    guard(router);
    reads(router);
    actions(router);
    dashboard(router);
    return vertx.createHttpServer().requestHandler(router).listen(port, host);
  }

  /** Who may call what: authentication, and per cluster a SubjectAccessReview (get to read logs, update to act). */
  private void guard(Router router) {
    if (authorizer != null && openReads) {
      router.post("/api/*").handler(this::authenticate);
      // logs may quote data or a failed statement: in local mode, where other reads stay open on loopback, they
      // need the token of D/secrets like an action (the CLI sends it)
      router.get("/api/clusters/:ns/:name/logs").handler(this::authenticate);
    } else if (authorizer != null) {
      router.route("/api/*").handler(this::authenticate);
    }
    if (authorizer != null) {
      // a logs read is allowed to whoever may get that PostgresCluster (on Kubernetes, a SubjectAccessReview)
      router.get("/api/clusters/:ns/:name/logs").handler(ctx -> permitted(ctx, "get").onSuccess(ok -> ctx.next()));
    }
    router.post("/api/clusters/:ns/:name/*").handler(this::audit);
    if (authorizer != null) {
      // every action changes a cluster: allowed to whoever may update that PostgresCluster
      router.post("/api/clusters/:ns/:name/*").handler(ctx -> permitted(ctx, "update")
          .onSuccess(ok -> ctx.next()));
    }
  }

  private void reads(Router router) {
    router.get("/api/clusters/:ns/:name/logs").handler(this::logs);
    // each member's recent errors for the dashboard: a read like samples, without the messages (LogMerge says why)
    router.get("/api/clusters/:ns/:name/errors").handler(ctx -> readOne(ctx, key -> fetchLogs(key, null,
            new io.pgtide.common.contract.CommandPayload.Logs(null, System.currentTimeMillis() - 3_600_000, "ERROR", 50))
        .onSuccess(merged -> ctx.json(io.pgtide.operator.logs.LogMerge.recentErrors(merged, 5)))));
    router.get("/api/clusters").handler(ctx -> readable(ctx, state.clusterKeys()).onSuccess(keys -> {
      JsonArray out = new JsonArray();
      keys.forEach(k -> out.add(cluster(k)));
      ctx.json(new JsonObject().put("clusters", out));
    }));
    // what happened before the dashboard was opened (and, in local mode, before the operator restarted)
    router.get("/api/events").handler(ctx -> {
      JsonArray all = events.history(ctx.queryParams().get("cluster"));
      java.util.Set<String> keys = new java.util.TreeSet<>();
      all.forEach(e -> keys.add(((JsonObject) e).getString("cluster")));
      readable(ctx, keys).onSuccess(allowed -> {
        JsonArray out = new JsonArray();
        all.forEach(e -> {
          if (allowed.contains(((JsonObject) e).getString("cluster"))) {
            out.add(e);
          }
        });
        ctx.json(out);
      });
    });
    // the last hour of each member's lag, QPS, latency and connections: the dashboard's charts
    router.get("/api/clusters/:ns/:name/samples").handler(ctx -> readOne(ctx, key -> ctx.json(samples.of(key))));
  }

  /** A read of one cluster's data, answered by {@code answer} when the caller may read it, else 403. */
  private void readOne(RoutingContext ctx, java.util.function.Consumer<String> answer) {
    String key = ClusterKey.text(ctx.pathParam("ns"), ctx.pathParam("name"));
    readable(ctx, java.util.Set.of(key)).onSuccess(allowed -> {
      if (allowed.contains(key)) {
        answer.accept(key);
      } else {
        ctx.response().setStatusCode(403).end(new JsonObject().put("error", "may not read " + key).encode());
      }
    });
  }

  private void actions(Router router) {
    router.post("/api/clusters/:ns/:name/switchover").handler(this::switchover);
    router.post("/api/clusters/:ns/:name/users/sync").handler(this::syncUsers);
    router.post("/api/clusters/:ns/:name/backups").handler(this::backupNow);
    router.post("/api/clusters/:ns/:name/backups/verify").handler(this::verifyBackup);
    router.post("/api/clusters/:ns/:name/apply").handler(io.vertx.ext.web.handler.BodyHandler.create()
        .setBodyLimit(1 << 20)).handler(this::apply);
  }

  /**
   * The dashboard: a read-only event-bus bridge (outbound state and events only, nothing inbound), authenticated and
   * filtered per namespace like /api (EventBusAccess), and its static assets.
   */
  private void dashboard(Router router) {
    EventBusAccess access = new EventBusAccess(authorizer == null ? EventBusAccess.Mode.OPEN
        : openReads ? EventBusAccess.Mode.LOCAL : EventBusAccess.Mode.KUBERNETES, authorizer,
        System::currentTimeMillis);
    SockJSBridgeOptions bridge = new SockJSBridgeOptions()
        .addOutboundPermitted(new PermittedOptions().setAddress(Addresses.CLUSTER_STATE))
        .addOutboundPermitted(new PermittedOptions().setAddress(Addresses.CLUSTER_EVENTS));
    router.route("/eventbus/*").handler(access.gate());
    router.route("/eventbus/*").subRouter(SockJSHandler.create(vertx).bridge(bridge, access.events()));
    router.route("/*").handler(StaticHandler.create("webroot").setCachingEnabled(false));
  }

  /** Publishes every cluster's snapshot every second, and one cluster's at once when a member's role changes. */
  public void publishState() {
    java.util.Map<String, io.pgtide.common.contract.Role> roles = new ConcurrentHashMap<>();
    state.onChange((key, member) -> {
      var before = roles.put(member.id().toString(), member.role());
      if (before != member.role()) {
        vertx.eventBus().publish(Addresses.CLUSTER_STATE, cluster(key));
      }
    });
    vertx.setPeriodic(1000, t -> state.clusterKeys().forEach(key ->
        vertx.eventBus().publish(Addresses.CLUSTER_STATE, cluster(key))));
  }

  public JsonObject clusters() {
    JsonArray out = new JsonArray();
    for (String key : state.clusterKeys()) {
      out.add(cluster(key));
    }
    return new JsonObject().put("clusters", out);
  }

  /** One cluster: the state view plus what the controllers know (last failover, endpoint, users, autoscaling). */
  public JsonObject cluster(String key) {
    JsonObject c = ClusterState.toJson(state.view(key));
    failover.lastFailover(key).ifPresent(r -> c.put("lastFailover", r.toJson()));
    failover.endpoint(key).ifPresent(e -> c.put("primaryEndpoint", e));
    UserSyncController u = userSync.get(key);
    if (u != null && u.last() != null) {
      c.put("users", u.last());
    }
    var a = autoscalers.get(key);
    if (a != null) {
      c.put("autoscaling", a.status());
    }
    var b = backups.get(key);
    if (b != null) {
      c.put("backup", b.status());
    }
    var r = restarts.get(key);
    if (r != null) {
      JsonObject counts = new JsonObject();
      r.get().forEach(counts::put);
      c.put("restarts", counts);
    }
    var upgrade = upgrades.get(key);
    JsonObject upgradeStatus = upgrade == null ? null : upgrade.get();
    if (upgradeStatus != null) {
      c.put("upgrade", upgradeStatus);
    }
    return c;
  }

  /** How long a member's sidecar has to answer a logs request before it is named as not answering. */
  static final long LOGS_TIMEOUT_MS = 3_000;
  static final int MAX_LOG_LINES = 10_000;

  /**
   * {@code GET …/logs?member=&source=postgres|patroni&since=<epoch ms>&severity=&limit=}: the members' recent log
   * lines from their sidecars' buffers, merged in time order with member names ({@link
   * io.pgtide.operator.logs.LogMerge}).
   */
  private void logs(RoutingContext ctx) {
    String key = ClusterKey.text(ctx.pathParam("ns"), ctx.pathParam("name"));
    var q = ctx.queryParams();
    io.pgtide.common.contract.CommandPayload.Logs request;
    try {
      long since = q.get("since") == null ? 0 : Long.parseLong(q.get("since"));
      int limit = q.get("limit") == null ? 1000 : Integer.parseInt(q.get("limit"));
      if (limit < 1 || limit > MAX_LOG_LINES) {
        throw new IllegalArgumentException("limit must be 1.." + MAX_LOG_LINES);
      }
      request = new io.pgtide.common.contract.CommandPayload.Logs(q.get("source"), since, q.get("severity"), limit);
    } catch (IllegalArgumentException e) {
      ctx.response().setStatusCode(400).putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("error", e.getMessage()).encode());
      return;
    }
    String member = q.get("member");
    if (state.view(key).members().isEmpty()) {
      ctx.response().setStatusCode(404).putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("error", "no cluster " + key).encode());
      return;
    }
    if (member != null && !state.view(key).members().containsKey(member)) {
      ctx.response().setStatusCode(404).putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("error", key + " has no member " + member).encode());
      return;
    }
    fetchLogs(key, member, request).onSuccess(ctx::json);
  }

  private Future<JsonObject> fetchLogs(String key, String member,
                                       io.pgtide.common.contract.CommandPayload.Logs request) {
    var client = new io.pgtide.operator.hub.CommandClient(vertx);
    Map<String, Future<io.pgtide.common.contract.CommandResult>> asked = new java.util.TreeMap<>();
    state.view(key).members().forEach((name, m) -> {
      if (member == null || member.equals(name)) {
        asked.put(name, client.send(m.id(), request, LOGS_TIMEOUT_MS));
      }
    });
    // CommandClient's futures always succeed (a silent sidecar is an error result), so all() waits for each
    return Future.all(new java.util.ArrayList<>(asked.values())).compose(v -> {
      Map<String, Future<io.pgtide.common.contract.CommandResult>> completed = new java.util.TreeMap<>();
      asked.forEach((name, f) -> completed.put(name, withPatroniOutput(key, name, f.result(), request)));
      return Future.all(new java.util.ArrayList<>(completed.values())).map(w -> {
        Map<String, io.pgtide.common.contract.CommandResult> answers = new java.util.TreeMap<>();
        completed.forEach((name, f) -> answers.put(name, f.result()));
        return io.pgtide.operator.logs.LogMerge.merge(answers, request.limit());
      });
    });
  }

  /** Where Patroni's lines come from when the sidecars cannot read them (Kubernetes: the pod's log); or none. */
  public void patroniOutput(io.pgtide.operator.logs.PatroniOutput output) {
    this.patroniOutput = output;
  }

  private volatile io.pgtide.operator.logs.PatroniOutput patroniOutput;

  private Future<io.pgtide.common.contract.CommandResult> withPatroniOutput(String key, String member,
      io.pgtide.common.contract.CommandResult answer, io.pgtide.common.contract.CommandPayload.Logs request) {
    io.pgtide.operator.logs.PatroniOutput output = patroniOutput;
    if (output == null || !io.pgtide.operator.logs.LogMerge.lacksPatroni(answer, request)) {
      return Future.succeededFuture(answer);
    }
    return vertx.executeBlocking(() -> io.pgtide.operator.logs.PatroniOutput.lines(
            output.read(ClusterKey.parse(key).namespace(), member, request.sinceMs()), request), false)
        .map(lines -> io.pgtide.operator.logs.LogMerge.withPatroni(answer, lines, null))
        .otherwise(e -> io.pgtide.operator.logs.LogMerge.withPatroni(answer, java.util.List.of(),
            "the pod's log could not be read: " + e.getMessage()));
  }

  private void switchover(RoutingContext ctx) {
    String key = ClusterKey.text(ctx.pathParam("ns"), ctx.pathParam("name"));
    failover.switchover(key, ctx.queryParams().get("to"))
        .onSuccess(r -> ctx.json(r.toJson()))
        .onFailure(e -> ctx.response().setStatusCode(409).end(new JsonObject().put("error", e.getMessage()).encode()));
  }

  private void backupNow(RoutingContext ctx) {
    withBackups(ctx, b -> b.backupNow().onSuccess(ctx::json)
        .onFailure(e -> ctx.response().setStatusCode(500).end(new JsonObject().put("error", e.getMessage()).encode())));
  }

  private void verifyBackup(RoutingContext ctx) {
    withBackups(ctx, b -> b.verifyNow().onSuccess(r -> ctx.response().setStatusCode(r.getBoolean("ok", false) ? 200 : 500)
            .putHeader("Content-Type", "application/json").end(r.encode()))
        .onFailure(e -> ctx.response().setStatusCode(500).end(new JsonObject().put("error", e.getMessage()).encode())));
  }

  private void withBackups(RoutingContext ctx, java.util.function.Consumer<io.pgtide.common.backup.Backups> then) {
    String key = ClusterKey.text(ctx.pathParam("ns"), ctx.pathParam("name"));
    var b = backups.get(key);
    if (b == null) {
      ctx.response().setStatusCode(404).end(new JsonObject().put("error", "cluster " + key
          + " declares no spec.backup").encode());
      return;
    }
    then.accept(b);
  }

  private void syncUsers(RoutingContext ctx) {
    String key = ClusterKey.text(ctx.pathParam("ns"), ctx.pathParam("name"));
    UserSyncController u = userSync.get(key);
    if (u == null) {
      ctx.response().setStatusCode(404).end(new JsonObject().put("error", "no cluster " + key).encode());
      return;
    }
    u.sync("true".equals(ctx.queryParams().get("dryRun")))
        .onSuccess(ctx::json)
        .onFailure(e -> ctx.response().setStatusCode(409).end(new JsonObject().put("error", e.getMessage()).encode()));
  }
}
