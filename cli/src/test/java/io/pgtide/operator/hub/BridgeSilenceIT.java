package io.pgtide.operator.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtide.common.contract.ContractCodec;
import io.pgtide.common.contract.MemberId;
import io.pgtide.common.contract.Role;
import io.pgtide.common.tls.CertificateAuthority;
import io.pgtide.common.tls.TlsMaterial;
import io.pgtide.operator.TestReports;
import io.pgtide.operator.state.ClusterState;
import io.pgtide.sidecar.BridgeClient;
import io.pgtide.testkit.TestMachine;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A partition between a sidecar and the operator drops packets and sends no reset: TCP on the sidecar's side keeps
 * the connection open for many minutes. Between the two runs a proxy that can swallow everything on the connections
 * it already has (and forward new ones as before), as a cut network does. The sidecar must notice the silence and
 * reconnect, or a newly elected operator replica would never hear from it.
 */
class BridgeSilenceIT {
  static final MemberId MEMBER = new MemberId("shop", "orders", "orders-0");
  static final CertificateAuthority CA = CertificateAuthority.create("pgtide-test-ca", Duration.ofDays(1));
  static final TlsMaterial HUB_TLS = CA.issue("pgtide-operator", List.of("127.0.0.1"), Duration.ofDays(1));

  Vertx vertx;
  ClusterState state;
  int hubPort;
  int proxyPort;
  /** Connections the proxy had when the network was cut: they swallow everything from then on. */
  final Set<NetSocket> cut = ConcurrentHashMap.newKeySet();
  final Set<NetSocket> open = ConcurrentHashMap.newKeySet();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    state = new ClusterState(3_000);
    vertx.deployVerticle(state).await();
    hubPort = TestMachine.freePort();
    vertx.deployVerticle(new BridgeHub(HUB_TLS, "127.0.0.1", hubPort, 3_000)).await();
    proxyPort = TestMachine.freePort();
    NetServer proxy = vertx.createNetServer().connectHandler(client -> {
      client.pause();
      vertx.createNetClient().connect(hubPort, "127.0.0.1").onSuccess(upstream -> {
        open.add(client);
        client.handler(b -> {
          if (!cut.contains(client)) {
            upstream.write(b);
          }
        });
        upstream.handler(b -> {
          if (!cut.contains(client)) {
            client.write(b);
          }
        });
        // a cut network carries no close either: the hub hanging up on silence must not reach the sidecar
        upstream.closeHandler(v -> {
          if (!cut.contains(client)) {
            client.close();
          }
        });
        client.closeHandler(v -> {
          open.remove(client);
          upstream.close();
        });
        client.resume();
      }).onFailure(e -> client.close());
    });
    proxy.listen(proxyPort, "127.0.0.1").await();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  @Test
  void aSidecarWhoseOperatorFellSilentReconnects() {
    BridgeClient sidecar = new BridgeClient(vertx, MEMBER, "127.0.0.1", proxyPort,
        CA.issue(MEMBER.toString(), List.of(), Duration.ofDays(1)),
        () -> ContractCodec.encode(TestReports.report(MEMBER, Role.PRIMARY, 1, 1, true)), (cmd, reply) -> { });
    sidecar.start().await();
    await().atMost(Duration.ofSeconds(10)).until(() -> state.view(MEMBER.clusterKey()).primary().isPresent());
    assertThat(sidecar.connects()).isEqualTo(1);

    long cutAt = System.currentTimeMillis();
    cut.addAll(open);
    await().atMost(Duration.ofSeconds(30)).until(() -> sidecar.connects() == 2 && sidecar.connected());
    long reconnectedAfter = System.currentTimeMillis() - cutAt;
    assertThat(reconnectedAfter).as("silence noticed after the operator stopped answering pings")
        .isGreaterThanOrEqualTo(BridgeClient.SILENCE_MS - 1_000);
    // the new connection carries reports again: the snapshot sent on reconnecting arrives
    long reconnectedAt = cutAt + reconnectedAfter;
    await().atMost(Duration.ofSeconds(10)).until(() -> state.view(MEMBER.clusterKey()).members()
        .get(MEMBER.member()).receivedAt() >= reconnectedAt - 1_000);
  }
}
