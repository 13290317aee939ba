package io.pgtide.operator;

import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
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
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;

/** The operator's moving parts wired together, the same on Kubernetes and in local mode. */
public final class OperatorCore {
  public final Vertx vertx;
  public final PrometheusMeterRegistry registry;
  public final ClusterState state;
  public final BridgeHub hub;
  public final CommandClient commands;
  public final OperatorMetrics metrics;
  public final ClusterEvents events;
  public final FailoverCoordinator failover;
  public final PushgatewayPusher pusher;
  public final OperatorHttp http;

  public OperatorCore(TlsMaterial hubTls, String hubHost, int hubPort, java.util.function.Function<Vertx, Infrastructure> infraFactory,
                      long staleAfterMs) {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    vertx = Vertx.builder().with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)))
        .withMetrics(new MicrometerMetricsFactory(registry)).build();
    Infrastructure infra = infraFactory.apply(vertx);
    state = new ClusterState(staleAfterMs);
    hub = new BridgeHub(hubTls, hubHost, hubPort, 3_000);
    commands = new CommandClient(vertx);
    metrics = new OperatorMetrics(registry);
    events = new ClusterEvents(vertx);
    failover = new FailoverCoordinator(vertx, state, infra, commands, metrics, events);
    pusher = new PushgatewayPusher(vertx, WebClient.create(vertx), state, failover);
    http = new OperatorHttp(vertx, registry, state, failover);
  }

  /** Deploys state, hub and controllers; blocks until they run. */
  public OperatorCore start(String httpHost, int httpPort) {
    vertx.deployVerticle(state).await();
    metrics.bind(state);
    io.micrometer.core.instrument.Gauge.builder("pgtide_bridge_rejected_messages", hub, h -> h.rejected())
        .description("messages refused by the bridge hub (bad identity, schema, size, …)").register(registry);
    vertx.deployVerticle(hub).await();
    failover.start();
    http.publishState();
    http.listen(httpHost, httpPort).await();
    return this;
  }

  public void close() {
    vertx.close().await();
  }
}
