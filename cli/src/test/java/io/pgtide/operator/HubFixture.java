package io.pgtide.operator;

import io.pgtide.testkit.TestMachine;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.common.tls.TlsMaterial;
import io.pgtide.operator.hub.BridgeHub;
import io.pgtide.operator.hub.CommandClient;
import io.pgtide.operator.state.ClusterState;
import io.pgtide.sidecar.SidecarConfig;
import io.pgtide.sidecar.SidecarVerticle;
import io.pgtide.sidecar.users.UserSync;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** A real hub with a throwaway CA and in-process sidecars for integration tests. */
public final class HubFixture implements AutoCloseable {
  public final Vertx vertx = Vertx.vertx();
  public final CertificateAuthority ca = CertificateAuthority.create("pgtide-it-ca", Duration.ofDays(1));
  public final int hubPort = TestMachine.freePort();
  public final ClusterState state = new ClusterState(3_000);
  public final BridgeHub hub;
  public final CommandClient commands = new CommandClient(vertx);
  public final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Path dir;

  public HubFixture(Path dir) {
    this.dir = dir;
    hub = new BridgeHub(ca.issue("pgtide-operator", List.of("127.0.0.1"), Duration.ofDays(1)), "127.0.0.1", hubPort,
        3_000);
    vertx.deployVerticle(state).await();
    vertx.deployVerticle(hub).await();
  }

  public SidecarConfig config(MemberId id, int pgPort, String password, String patroniUrl) {
    Path tls = ca.issue(id.toString(), List.of(), Duration.ofDays(1)).write(dir.resolve("tls-" + id.member()));
    return new SidecarConfig(id, "127.0.0.1", pgPort, "postgres", password, "postgres", patroniUrl, "127.0.0.1",
        hubPort, tls, TestMachine.freePort(), 1000, 250, 1000, SidecarConfig.ResourceSource.PROCESS_TREE, false, null);
  }

  public SidecarVerticle deploy(SidecarConfig config) {
    SidecarVerticle v = new SidecarVerticle(config, registry, pg -> new UserSync(vertx, pg)::apply);
    vertx.deployVerticle(v).await();
    return v;
  }

  @Override
  public void close() {
    vertx.close().await();
  }
}
