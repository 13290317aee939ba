package io.pgtide.operator;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtide.common.tls.TlsMaterial;
import io.pgtide.operator.failover.ClusterEvents;
import io.pgtide.operator.failover.FailoverCoordinator;
import io.pgtide.operator.hub.BridgeHub;
import io.pgtide.operator.hub.CommandClient;
import io.pgtide.operator.infra.Infrastructure;
import io.pgtide.operator.metrics.OperatorMetrics;
import io.pgtide.operator.metrics.PushgatewayPusher;
import io.pgtide.operator.state.ClusterState;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.ext.web.client.WebClient;

/** The operator's moving parts wired together, the same on Kubernetes and in local mode. */
public final class OperatorCore {
  private final Vertx vertx;
  private final PrometheusMeterRegistry registry;
  private final ClusterState state;
  private final TlsMaterial hubTls;
  private final String hubHost;
  private final int hubPort;
  private BridgeHub hub;
  /** The live uid of a cluster for the hub to bind certificates to (Kubernetes), or null (local mode). */
  private volatile java.util.function.Function<String, java.util.Optional<String>> clusterUids;
  private String hubDeployment;
  private final CommandClient commands;
  private final OperatorMetrics metrics;
  private final ClusterEvents events;
  private final io.pgtide.operator.metrics.CustomQueryFailures customQueryFailures;
  private final FailoverCoordinator failover;
  private final PushgatewayPusher pusher;
  private final OperatorHttp http;
  /** What the dashboard charts: every 15 s, the last hour. */
  private final io.pgtide.operator.state.MemberSamples samples = new io.pgtide.operator.state.MemberSamples(15_000);

  public OperatorCore(TlsMaterial hubTls, String hubHost, int hubPort, java.util.function.Function<Vertx, Infrastructure> infraFactory,
                      long staleAfterMs) {
    registry = io.pgtide.common.metrics.MeteredVertx.registry();
    vertx = io.pgtide.common.metrics.MeteredVertx.vertx(new VertxOptions(), registry);
    Infrastructure infra = infraFactory.apply(vertx);
    state = new ClusterState(staleAfterMs);
    this.hubTls = hubTls;
    this.hubHost = hubHost;
    this.hubPort = hubPort;
    commands = new CommandClient(vertx);
    metrics = new OperatorMetrics(registry);
    events = new ClusterEvents(vertx);
    // reports reach only the replica that leads (the hub), so only it tells of failing custom queries
    customQueryFailures = new io.pgtide.operator.metrics.CustomQueryFailures(events);
    state.onChange(customQueryFailures::onChange);
    failover = new FailoverCoordinator(vertx, state, infra, commands, metrics, events);
    pusher = new PushgatewayPusher(vertx, WebClient.create(vertx), state, failover);
    http = new OperatorHttp(vertx, registry, metrics::refreshMembers, state, failover, events, samples);
  }

  public Vertx vertx() {
    return vertx;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public ClusterState state() {
    return state;
  }

  public CommandClient commands() {
    return commands;
  }

  public OperatorMetrics metrics() {
    return metrics;
  }

  public ClusterEvents events() {
    return events;
  }

  public io.pgtide.operator.metrics.CustomQueryFailures customQueryFailures() {
    return customQueryFailures;
  }

  public FailoverCoordinator failover() {
    return failover;
  }

  public PushgatewayPusher pusher() {
    return pusher;
  }

  public OperatorHttp http() {
    return http;
  }

  /** Serves and acts at once (local mode, tests: there is no one to elect). */
  public OperatorCore start(String httpHost, int metricsPort, int controlPort) {
    serve(httpHost, metricsPort, controlPort);
    act();
    return this;
  }

  /**
   * What every replica does: the state, health and metrics on {@code metricsPort}, the control API and the
   * dashboard's stream on {@code controlPort}. Blocks until they run.
   */
  public OperatorCore serve(String httpHost, int metricsPort, int controlPort) {
    vertx.deployVerticle(state).await();
    metrics.bind(state);
    io.micrometer.core.instrument.Gauge.builder("pgtide_bridge_rejected_messages", this,
            c -> c.hub == null ? 0 : c.hub.rejected()).strongReference(true)
        .description("messages refused by the bridge hub (bad identity, schema, size, …)").register(registry);
    http.publishState();
    vertx.setPeriodic(samples.everyMs(), t -> samples.sample(state, System.currentTimeMillis()));
    http.listenMetrics(httpHost, metricsPort).await();
    http.listenControl(httpHost, controlPort).await();
    return this;
  }

  /**
   * Binds the sidecars' certificates to their cluster's live uid (see {@link BridgeHub}); before {@link #act}.
   */
  public OperatorCore clusterUids(java.util.function.Function<String, java.util.Optional<String>> lookup) {
    this.clusterUids = lookup;
    return this;
  }

  /**
   * What only the leader does: accept sidecars on the bridge and act on their reports (the failover coordinator).
   * Blocks until the hub listens; idempotent.
   */
  public synchronized void act() {
    if (hubDeployment != null) {
      return;
    }
    hub = new BridgeHub(hubTls, hubHost, hubPort, 3_000, clusterUids);
    hubDeployment = vertx.deployVerticle(hub).await();
    failover.start();
  }

  /**
   * Leadership lost: stop acting and close the hub with every sidecar connection, so the sidecars reconnect through
   * the Service to the replica that leads now. Blocks until the hub is closed; idempotent.
   */
  public synchronized void standDown() {
    failover.stop();
    if (hubDeployment != null) {
      vertx.undeploy(hubDeployment).await();
      hubDeployment = null;
    }
  }

  /** The hub while this replica acts, null otherwise. */
  public synchronized BridgeHub hub() {
    return hub == null || hubDeployment == null ? null : hub;
  }

  public void close() {
    vertx.close().await();
  }
}
